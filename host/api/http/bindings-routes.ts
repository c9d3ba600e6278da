// Dapr's output bindings route: POST|PUT /v1.0/bindings/{name} with `{data, metadata,
// operation}`, read as JSON whatever the Content-Type (curl -d sends a form type). 200 with
// the binding's bytes and its metadata as `metadata.<key>` headers, or 204 when it answered
// no data.
import type { FastifyInstance } from 'fastify';
import type { Metadata } from '../../../abi/ts/types.ts';
import { malformedBindingRequest } from '../../building-blocks/bindings/bindings-errors.ts';
import { goJson, type BindingsService } from '../../building-blocks/bindings/bindings-service.ts';
import { TesseraError } from '../../errors.ts';
import { isPlainHeader } from '../../http-header-check.ts';
import { compileValidator } from '../../schema-validator.ts';
import { useJsonBodies } from './body-parsers.ts';

// node:http as CommonJS, not an ESM import: that builds a namespace of all its exports, whose
// lazy WebSocket getters load undici (~25 ms of every start).
const { validateHeaderName, validateHeaderValue } = process.getBuiltinModule('node:http');

interface BindingRoute {
  Params: { name: string };
  Body: unknown;
}

interface BindingBody {
  data?: unknown;
  metadata?: Record<string, string> | null;
  operation?: string | null;
}

/** What Go's json.Unmarshal into daprd's OutputBindingRequest accepts. */
const validateBody = compileValidator({
  type: ['object', 'null'],
  properties: {
    metadata: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    operation: { type: ['string', 'null'] },
  },
});

const JSON_TYPE = 'application/json';

/** A response header from what the binding answered, or an error naming the binding and the header. */
function checkedHeader(binding: string, name: string, value: string): [string, string] {
  if (isPlainHeader(name, value)) return [name, value];
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
  } catch {
    throw new TesseraError('ERR_INVOKE_OUTPUT_BINDING', `error invoking output binding ${binding}: it answered metadata ${JSON.stringify(name.slice(0, 80))} whose name or value cannot be an HTTP header`);
  }
  return [name, value];
}

export function registerBindingsRoutes(app: FastifyInstance, bindings: BindingsService): void {
  app.register(async (scope) => {
    useJsonBodies(scope);
    scope.route<BindingRoute>({
      method: ['POST', 'PUT'],
      url: '/v1.0/bindings/:name',
      handler: async (request, reply) => {
        const { name } = request.params;
        const problems = validateBody(request.body ?? null);
        if (problems.length > 0) throw malformedBindingRequest(problems.join('; '));
        const body = (request.body ?? {}) as BindingBody;
        const metadata: Metadata = Object.entries(body.metadata ?? {});
        const response = await bindings.invoke({ name, operation: body.operation ?? undefined, data: Buffer.from(goJson(body.data)), metadata });
        for (const [key, value] of response.metadata) reply.header(...checkedHeader(name, `metadata.${key}`, value));
        if (response.data.byteLength === 0) return reply.code(204).send();
        const bytes = Buffer.from(response.data.buffer, response.data.byteOffset, response.data.byteLength);
        return reply.code(200).header('content-type', response.contentType ?? JSON_TYPE).send(bytes);
      },
    });
  });
}
