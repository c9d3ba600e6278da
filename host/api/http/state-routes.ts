// The Dapr v1.0 state routes: HTTP in, the state building block, HTTP out. Values travel as
// the JSON text of `value`, so a saved string reads back with its quotes, as in daprd.
import type { FastifyInstance } from 'fastify';
import { TesseraError } from '../../errors.ts';
import type { BulkGetItem } from '../../../abi/ts/state.ts';
import type { Metadata } from '../../../abi/ts/types.ts';
import type { StateService } from '../../building-blocks/state/state-service.ts';
import type { SaveItem, TransactionOperation } from '../../building-blocks/state/requests.ts';
import { malformedBody } from './error-reply.ts';
import { rawJsonData } from './raw-json.ts';
import { mergeMetadata, queryMetadata, queryValue, type Query } from './request-metadata.ts';
import {
  validateBulkGetBody,
  validateSaveBody,
  validateTransactionBody,
  type BulkGetBody,
  type StateRequestBody,
  type TransactionBody,
} from './state-schemas.ts';

// As CommonJS, not an ESM import: see app-channel.ts.
const { validateHeaderName, validateHeaderValue } = process.getBuiltinModule('node:http');

interface StoreRoute {
  Params: { storeName: string };
  Querystring: Query;
}

interface KeyRoute {
  Params: { storeName: string; key: string };
  Querystring: Query;
}

const JSON_TYPE = 'application/json';

function checked<T>(validate: (value: unknown) => string[], body: unknown): T {
  const problems = validate(body);
  if (problems.length > 0) throw malformedBody(problems);
  return body as T;
}

/** The JSON text of a request's `value`; a missing value is stored as `null`, as Go marshals nil. */
function jsonBytes(value: unknown): Uint8Array {
  return Buffer.from(value === undefined ? 'null' : JSON.stringify(value));
}

/** A component's ETag or metadata goes into a header only if it is a valid one (no CR/LF). */
function headerValue(storeName: string, what: string, value: string): string {
  try {
    validateHeaderValue('etag', value);
  } catch {
    throw new TesseraError('ERR_STATE_GET', `component "${storeName}" (state store ${storeName}) returned ${what} that is not a valid HTTP header value: ${JSON.stringify(value.slice(0, 80))}`);
  }
  return value;
}

function headerName(storeName: string, name: string): string {
  try {
    validateHeaderName(name);
  } catch {
    throw new TesseraError('ERR_STATE_GET', `component "${storeName}" (state store ${storeName}) returned metadata named ${JSON.stringify(name.slice(0, 80))}, which is not a valid HTTP header name`);
  }
  return name;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** Below this size a UTF-8 value goes out as text: Node writes it with the headers in one syscall. */
const TEXT_BODY_MAX = 16 * 1024;

const asIs = (payload: unknown): string => payload as string;

/**
 * Up to this size V8 keeps a typed array's bytes inside its heap, and a TextDecoder (a C++
 * call) must first move them out to a buffer of their own: ~1 µs a request, more than the
 * rest of the body work. A JS check and String.fromCharCode on them cost a fraction of that.
 */
const ON_HEAP_MAX = 64;

/** The bytes as a string when they are all ASCII (so valid UTF-8 as they are), else undefined. */
function asciiText(bytes: Uint8Array): string | undefined {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return undefined;
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** The response body for stored bytes: text when small and valid UTF-8 (what JSON values are), else the bytes. */
function body(bytes: Uint8Array): string | Buffer {
  if (bytes.byteLength <= ON_HEAP_MAX) {
    const text = asciiText(bytes);
    if (text !== undefined) return text;
  }
  if (bytes.byteLength <= TEXT_BODY_MAX) {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      // binary: sent as it is
    }
  }
  return asBuffer(bytes);
}

function stateItem(body: StateRequestBody, query: Metadata): Omit<SaveItem, 'value'> {
  return {
    key: body.key,
    etag: body.etag ?? undefined,
    options: { concurrency: body.options?.concurrency ?? undefined, consistency: body.options?.consistency ?? undefined },
    metadata: mergeMetadata(body.metadata, query),
    contentType: JSON_TYPE,
  };
}

/**
 * One bulk-get entry as daprd writes it: stored bytes go in raw as `data` (they are JSON text
 * when saved through this API); bytes that are not JSON go in as a string.
 */
function bulkEntryJson(item: BulkGetItem): string {
  let json = `{"key":${JSON.stringify(item.key)}`;
  if (item.error !== undefined) return `${json},"error":${JSON.stringify(item.error)}}`;
  const response = item.response;
  if (response === undefined) return `${json}}`;
  if (response.value.byteLength > 0) {
    json += `,"data":${rawJsonData(response.value)}`;
  }
  if (response.etag !== undefined) json += `,"etag":${JSON.stringify(response.etag)}`;
  if (response.metadata.length > 0) json += `,"metadata":${JSON.stringify(Object.fromEntries(response.metadata))}`;
  return `${json}}`;
}

export function registerStateRoutes(app: FastifyInstance, state: StateService): void {
  // Before the body is read, as daprd looks the store up first: an unknown store is
  // ERR_STATE_STORE_NOT_FOUND whatever the body, however large or malformed.
  const storeFirst = async (request: { params: unknown }): Promise<void> => state.checkStore((request.params as StoreRoute['Params']).storeName);

  app.get<KeyRoute>('/v1.0/state/:storeName/:key', async (request, reply) => {
    const { storeName, key } = request.params;
    const item = await state.get(storeName, key, {
      consistency: queryValue(request.query, 'consistency'),
      metadata: queryMetadata(request.query),
    });
    if (item === undefined) return reply.code(204).send();
    if (item.etag !== undefined) reply.header('etag', headerValue(storeName, 'an ETag', item.etag));
    for (const [name, value] of item.metadata) reply.header(headerName(storeName, `metadata.${name}`), headerValue(storeName, `metadata "${name}"`, value));
    // The identity serializer sends the text as is: fastify would otherwise add `; charset=utf-8`
    // to a JSON content type, which daprd does not send.
    return reply.code(200).header('content-type', JSON_TYPE).serializer(asIs).send(body(item.value));
  });

  app.route<StoreRoute>({
    method: ['POST', 'PUT'],
    url: '/v1.0/state/:storeName',
    onRequest: storeFirst,
    handler: async (request, reply) => {
      const body = checked<StateRequestBody[]>(validateSaveBody, request.body);
      const query = queryMetadata(request.query);
      const items = body.map((entry): SaveItem => ({ ...stateItem(entry, query), value: jsonBytes(entry.value) }));
      await state.save(request.params.storeName, items);
      return reply.code(204).send();
    },
  });

  app.delete<KeyRoute>('/v1.0/state/:storeName/:key', async (request, reply) => {
    const { storeName, key } = request.params;
    await state.delete(storeName, key, {
      etag: request.headers['if-match'],
      concurrency: queryValue(request.query, 'concurrency'),
      consistency: queryValue(request.query, 'consistency'),
      metadata: queryMetadata(request.query),
    });
    return reply.code(204).send();
  });

  app.route<StoreRoute>({
    method: ['POST', 'PUT'],
    url: '/v1.0/state/:storeName/bulk',
    onRequest: storeFirst,
    handler: async (request, reply) => {
      const body = checked<BulkGetBody>(validateBulkGetBody, request.body);
      const items = await state.bulkGet(request.params.storeName, body.keys ?? [], {
        parallelism: body.parallelism ?? undefined,
        metadata: mergeMetadata(body.metadata, queryMetadata(request.query)),
      });
      return reply.code(200).type(JSON_TYPE).send(`[${items.map(bulkEntryJson).join(',')}]`);
    },
  });

  app.route<StoreRoute>({
    method: ['POST', 'PUT'],
    url: '/v1.0/state/:storeName/transaction',
    onRequest: storeFirst,
    handler: async (request, reply) => {
      const body = checked<TransactionBody>(validateTransactionBody, request.body);
      const query = queryMetadata(request.query);
      const operations = (body.operations ?? []).map(
        ({ operation, request: step }): TransactionOperation => ({
          operation,
          request: { ...stateItem(step, query), value: operation === 'upsert' ? jsonBytes(step.value) : undefined },
        }),
      );
      await state.transact(request.params.storeName, operations, mergeMetadata(body.metadata, query));
      return reply.code(204).send();
    },
  });
}
