// The sidecar's gRPC client to its app (`--app-protocol grpc`): the app callbacks of
// app-callbacks.ts as calls to the app's AppCallback services, over one HTTP/2 connection,
// as daprd makes them (postman/grpc/grpc.go, processor/binding/send.go). Every call has a
// deadline; `--app-max-concurrency` counts these calls as it counts HTTP ones; APP_API_TOKEN
// goes as `dapr-api-token` metadata. A gRPC error is a retry, except UNIMPLEMENTED, which
// daprd reads as "the app does not take this": a drop for an event, no subscriptions, no
// bindings. Service invocation calls AppCallback.OnInvoke (daprd's channel/grpc): the caller's
// headers go as metadata, and the app's gRPC status comes back as the answer's status, not as
// a failure, for each transport to turn into what its caller reads. Built by
// `GrpcAppChannel.open`, which loads grpc-js and the .proto files.
import type { Client, Metadata, ServiceError } from '@grpc/grpc-js';
import { TesseraError, isTesseraError } from '../errors.ts';
import type { ClientMetrics, GrpcMethodMetrics } from '../observability/grpc-metrics.ts';
import { loadAppCallbackProto, type AppCallbackMethods, type AppCallbackProto } from './app-callback-proto.ts';
import { STATUS_DETAILS_TRAILER, type AppCallbacks, type AppSubscriptionsAnswer, type AppVerdict, type BindingEventCall, type BulkTopicEventCall, type TopicEventCall } from './app-callbacks.ts';
import { DEFAULT_APP_TIMEOUT_MS, type AppChannelOptions } from './app-channel.ts';
import { ConcurrencyLimit, UNLIMITED } from './concurrency-limit.ts';
import { bulkTopicEventRequest, bulkVerdicts, subscriptionsJson, topicEventRequest, verdictOfStatus } from './grpc-callbacks.ts';

interface Call {
  timeoutMs: number;
  signal: AbortSignal;
}

/** What a call sends beside the channel's own metadata, and where the app's response headers go. */
interface CallExtras {
  metadata?: Record<string, string[]>;
  onHeaders?: (headers: Metadata) => void;
  /** Gets the app's trailers (grpc-js emits them right after the call's callback, in the same tick). */
  onTrailers?: (trailers: Metadata) => void;
}

/** Headers gRPC sets itself (or that mean nothing to a gRPC app): never sent as, or taken from, metadata. */
const NOT_METADATA = new Set(['content-type', 'user-agent', 'date', 'accept-encoding', 'content-encoding']);

const NEVER = new AbortController().signal;

/**
 * Metadata with text values as headers; gRPC's own names left out. Binary (`-bin`) values
 * cross an invocation only as the trailer of rich error details, base64 as on the wire.
 */
function textMetadata(metadata: Metadata): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const name of Object.keys(metadata.getMap())) {
    if (NOT_METADATA.has(name)) continue;
    const values = metadata.get(name).map((v) => (typeof v === 'string' ? v : name === STATUS_DETAILS_TRAILER ? v.toString('base64') : undefined)).filter((v) => v !== undefined);
    if (values.length > 0) headers[name] = values;
  }
  return headers;
}

/** One service invocation of the app, as OnInvoke carries it. */
export interface GrpcInvokeRequest {
  method: string;
  /** The caller's HTTP extension's verb, `null` for none: the app gets no extension then, as from daprd. */
  verb: string | null;
  query: string;
  contentType: string;
  body: Buffer;
  typeUrl: string;
  /** The caller's headers (already filtered by the invocation's rules), sent as metadata. */
  headers: Record<string, string[]>;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** The largest answer taken. */
  maxBodyBytes: number;
}

/** The app's answer: its gRPC status, and with OK its data, content type and header metadata; its trailers either way. */
export interface GrpcInvokeAnswer {
  code: number;
  message: string;
  headers: Record<string, string[]>;
  trailers: Record<string, string[]>;
  contentType: string;
  typeUrl: string;
  body: Buffer;
}

/** grpc-js status codes the channel tells apart. */
const UNIMPLEMENTED = 12;

const isUnimplemented = (err: unknown): boolean => (err as ServiceError | undefined)?.code === UNIMPLEMENTED;

export class GrpcAppChannel implements AppCallbacks {
  readonly protocol = 'grpc';
  readonly subscriptionsCall = 'ListTopicSubscriptions';
  readonly port: number;
  readonly address: string;
  readonly #proto: AppCallbackProto;
  readonly #client: Client;
  readonly #metadata: Metadata;
  readonly #calls: ConcurrencyLimit;
  /** daprd's gRPC client families, by method; undefined with metrics off. */
  #metrics: ((name: keyof AppCallbackMethods) => GrpcMethodMetrics) | undefined;

  private constructor(options: AppChannelOptions, proto: AppCallbackProto) {
    this.port = options.port;
    this.address = options.address ?? '127.0.0.1';
    this.#proto = proto;
    this.#calls = new ConcurrencyLimit(options.maxConcurrency ?? UNLIMITED);
    const max = options.maxMessageBytes;
    // As daprd's app channel: messages to and from the app up to --max-body-size, not grpc-js's 4 MiB.
    const limits = max === undefined ? {} : { 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max };
    this.#client = new proto.grpc.Client(`${this.address}:${this.port}`, proto.grpc.credentials.createInsecure(), limits);
    this.#metadata = new proto.grpc.Metadata();
    if (options.appApiToken) this.#metadata.set('dapr-api-token', options.appApiToken);
  }

  /** Loads grpc-js and Dapr's .proto files, then makes the channel (it connects on the first call). */
  static async open(options: AppChannelOptions): Promise<GrpcAppChannel> {
    return new GrpcAppChannel(options, await loadAppCallbackProto());
  }

  measureCalls(metrics: ClientMetrics): void {
    const byMethod = new Map<string, GrpcMethodMetrics>();
    this.#metrics = (name) => {
      const path = this.#proto.methods[name].path;
      let found = byMethod.get(path);
      if (found === undefined) byMethod.set(path, (found = metrics(path)));
      return found;
    };
  }

  /** One unary call; rejects with the gRPC error, or ERR_APP_CHANNEL when aborted while waiting its turn. */
  async #unary<T>(name: keyof AppCallbackMethods, request: object, call: Call, extras?: CallExtras): Promise<T> {
    try {
      await this.#calls.acquire(call.signal);
    } catch (err) {
      throw new TesseraError('ERR_APP_CHANNEL', `error invoking app channel: ${name}: aborted while waiting for --app-max-concurrency`, { cause: err });
    }
    try {
      return await this.#send<T>(name, request, call, extras);
    } finally {
      this.#calls.release();
    }
  }

  #send<T>(name: keyof AppCallbackMethods, request: object, { timeoutMs = DEFAULT_APP_TIMEOUT_MS, signal }: Call, extras?: CallExtras): Promise<T> {
    const method = this.#proto.methods[name];
    // daprd counts health probes in families of their own, not as client calls.
    const metrics = name === 'AppCallbackHealthCheck/HealthCheck' ? undefined : this.#metrics?.(name);
    let serialize = method.requestSerialize;
    let deserialize = method.responseDeserialize as (bytes: Buffer) => T;
    let sent = 0;
    let received = 0;
    const t0 = metrics === undefined ? 0 : performance.now();
    if (metrics !== undefined) {
      serialize = (value) => {
        const bytes = method.requestSerialize(value);
        sent = bytes.byteLength;
        return bytes;
      };
      deserialize = (bytes) => {
        received = bytes.byteLength;
        return method.responseDeserialize(bytes) as T;
      };
    }
    const metadata = this.#metadata.clone();
    if (extras?.metadata !== undefined) this.#addMetadata(metadata, extras.metadata);
    return new Promise<T>((resolve, reject) => {
      const pending = this.#client.makeUnaryRequest(
        method.path,
        serialize,
        deserialize,
        request,
        metadata,
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          signal.removeEventListener('abort', cancel);
          metrics?.record(err ? err.code : 0, err ? 0 : received, sent, performance.now() - t0);
          if (err) reject(err);
          else resolve(value as T);
        },
      );
      if (extras?.onHeaders !== undefined) pending.on('metadata', extras.onHeaders);
      const onTrailers = extras?.onTrailers;
      if (onTrailers !== undefined) pending.on('status', (status: { metadata: Metadata }) => onTrailers(status.metadata));
      const cancel = (): void => pending.cancel();
      if (signal.aborted) cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    });
  }

  /** The caller's headers as gRPC metadata; one gRPC cannot carry (a name or value it refuses) is left out, as is the sidecar's token. */
  #addMetadata(metadata: Metadata, headers: Record<string, string[]>): void {
    for (const [name, values] of Object.entries(headers)) {
      if (NOT_METADATA.has(name) || name === 'dapr-api-token') continue;
      for (const value of values) {
        try {
          metadata.add(name, value);
        } catch {
          // Not a valid gRPC metadata name or value: the app could not be sent it.
        }
      }
    }
  }

  /**
   * Service invocation: AppCallback.OnInvoke with the method, body, content type and HTTP
   * verb and query, the caller's headers as metadata. Whatever status the app answers is the
   * answer's; only a call that never got its turn (`--app-max-concurrency`) rejects.
   */
  async onInvoke(req: GrpcInvokeRequest): Promise<GrpcInvokeAnswer> {
    const request = {
      method: req.method,
      // google.protobuf.Any keeps its proto field names whatever the loader's case option.
      data: { type_url: req.typeUrl, value: req.body },
      contentType: req.contentType,
      ...(req.verb === null ? {} : { httpExtension: { verb: req.verb, querystring: req.query } }),
    };
    let headers: Record<string, string[]> = {};
    let trailers: Record<string, string[]> = {};
    const onHeaders = (metadata: Metadata): void => {
      headers = textMetadata(metadata);
    };
    const onTrailers = (metadata: Metadata): void => {
      trailers = textMetadata(metadata);
    };
    const call = { timeoutMs: req.timeoutMs ?? DEFAULT_APP_TIMEOUT_MS, signal: req.signal ?? NEVER };
    try {
      const response = await this.#unary<{ data?: { type_url?: string; value?: Buffer } | null; contentType?: string }>('AppCallback/OnInvoke', request, call, { metadata: req.headers, onHeaders, onTrailers });
      const body = response.data?.value ?? Buffer.alloc(0);
      if (body.byteLength > req.maxBodyBytes) throw new TesseraError('ERR_APP_CHANNEL', `error invoking app channel: OnInvoke: the answer is larger than ${req.maxBodyBytes} bytes`);
      // The trailers arrive in the tick the response did, before this continuation runs.
      return { code: 0, message: '', headers, trailers, contentType: response.contentType ?? '', typeUrl: response.data?.type_url ?? '', body };
    } catch (err) {
      if (isTesseraError(err)) throw err;
      const code = (err as Partial<ServiceError>).code;
      if (typeof code !== 'number') throw channelError('OnInvoke', err);
      // As with an answer, the trailers (the error's metadata) came in the tick the error did.
      return { code, message: (err as ServiceError).details ?? '', headers, trailers, contentType: '', typeUrl: '', body: Buffer.alloc(0) };
    }
  }

  async listTopicSubscriptions(_appId: string, call: Call): Promise<AppSubscriptionsAnswer> {
    try {
      const response = await this.#unary<Parameters<typeof subscriptionsJson>[0]>('AppCallback/ListTopicSubscriptions', {}, call);
      return { found: true, body: subscriptionsJson(response) };
    } catch (err) {
      if (isUnimplemented(err)) return { found: false, why: 'the app does not implement ListTopicSubscriptions', unexpected: false };
      throw channelError('ListTopicSubscriptions', err);
    }
  }

  async onTopicEvent(call: TopicEventCall): Promise<AppVerdict> {
    const request = topicEventRequest(call);
    if (typeof request === 'string') return { outcome: 'retry', reason: request };
    try {
      const response = await this.#unary<{ status?: unknown }>('AppCallback/OnTopicEvent', request, call);
      return verdictOfStatus(response.status, '');
    } catch (err) {
      if (isUnimplemented(err)) return { outcome: 'drop', reason: `the app does not implement OnTopicEvent: ${(err as Error).message}` };
      return { outcome: 'retry', reason: channelError('OnTopicEvent', err).message };
    }
  }

  /** OnBulkTopicEvent, or OnBulkTopicEventAlpha1 for an app that has only that, as daprd falls back. */
  async onBulkTopicEvent(call: BulkTopicEventCall): Promise<Map<string, AppVerdict>> {
    const { request, refused } = bulkTopicEventRequest(call);
    const verdicts = new Map<string, AppVerdict>([...refused].map(([id, reason]) => [id, { outcome: 'retry', reason }]));
    const sent = call.entries.map((e) => e.entryId).filter((id) => !refused.has(id));
    if (sent.length === 0) return verdicts;
    const all = (verdict: AppVerdict): Map<string, AppVerdict> => new Map([...verdicts, ...sent.map((id) => [id, verdict] as const)]);
    type Answer = Parameters<typeof bulkVerdicts>[0];
    try {
      let response: Answer;
      try {
        response = await this.#unary<Answer>('AppCallback/OnBulkTopicEvent', request, call);
      } catch (err) {
        if (!isUnimplemented(err)) throw err;
        response = await this.#unary<Answer>('AppCallbackAlpha/OnBulkTopicEventAlpha1', request, call);
      }
      return new Map([...verdicts, ...bulkVerdicts(response, sent)]);
    } catch (err) {
      if (isUnimplemented(err)) return all({ outcome: 'drop', reason: `the app does not implement OnBulkTopicEvent: ${(err as Error).message}` });
      return all({ outcome: 'retry', reason: channelError('OnBulkTopicEvent', err).message });
    }
  }

  /** The app listens when ListInputBindings names the binding, as in daprd. */
  async inputBindingListens(name: string, _path: string, call: Call): Promise<{ listens: true } | { listens: false; why: string }> {
    let listed: string[];
    try {
      listed = (await this.#unary<{ bindings?: string[] }>('AppCallback/ListInputBindings', {}, call)).bindings ?? [];
    } catch (err) {
      if (isUnimplemented(err)) return { listens: false, why: 'the app does not implement ListInputBindings' };
      throw new TesseraError('ERR_APP_CHANNEL', `the app did not answer ListInputBindings: ${(err as Error).message}`, { cause: err });
    }
    return listed.includes(name) ? { listens: true } : { listens: false, why: `the app's ListInputBindings does not list it (it lists ${listed.join(', ') || 'none'})` };
  }

  /** Any answer takes the event; an error does not. */
  async onBindingEvent(call: BindingEventCall): Promise<string | undefined> {
    const request = { name: call.name, data: Buffer.from(call.data), metadata: Object.fromEntries(call.metadata) };
    try {
      await this.#unary('AppCallback/OnBindingEvent', request, call);
      return undefined;
    } catch (err) {
      return `event ${call.id}: ${channelError('OnBindingEvent', err).message}`;
    }
  }

  async healthCheck(_path: string, call: Call): Promise<void> {
    try {
      await this.#unary('AppCallbackHealthCheck/HealthCheck', {}, call);
    } catch (err) {
      throw channelError('HealthCheck', err);
    }
  }

  close(): void {
    this.#client.close();
  }
}

/** A gRPC failure as ERR_APP_CHANNEL, naming the call and the status. */
function channelError(what: string, err: unknown): TesseraError {
  return new TesseraError('ERR_APP_CHANNEL', `error invoking app channel: ${what}: ${(err as Error).message}`, { cause: err });
}
