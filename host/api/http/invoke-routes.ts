// Service invocation on the HTTP API: `/v1.0/invoke/{app-id}/method/{method...}` with any
// verb, and daprd's header form, where any URL sent with a `dapr-app-id` header is a call of
// that path on that app (the URL is rewritten to the first form before routing). The path
// after `/method/` and the query go to the callee as sent; the callee's status, headers and
// body come back as they are (a gRPC app's status as daprd turns it into HTTP). Bodies are
// bounded by --max-body-size both ways.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { InvokeService } from '../../building-blocks/invoke/invoke-service.ts';
import { headersToMetadata } from '../../building-blocks/invoke/invoke-headers.ts';
import { asHttpAnswer } from '../../building-blocks/invoke/invoke-call.ts';
import { TesseraError } from '../../errors.ts';
import { HTTP_VERBS, type HttpVerb } from '../../building-blocks/invoke/internal-protos.ts';
import { useByteBodies } from './body-parsers.ts';

const APP_ID_HEADER = 'dapr-app-id';

/** `/v1.0/invoke/` however many slashes separate its parts (daprd cleans `//` before routing). */
const INVOKE_PREFIX = /^\/+v1\.0\/+invoke\/+/;

/** fastify's `rewriteUrl`: a request carrying `dapr-app-id` becomes `/v1.0/invoke/{id}/method{path}`. */
export function invocationUrl(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const id = req.headers[APP_ID_HEADER];
  if (typeof id !== 'string' || id === '') return url;
  return `/v1.0/invoke/${encodeURIComponent(id)}/method${url.startsWith('/') ? '' : '/'}${url}`;
}

/** The app id and the raw method of an invocation URL's path. */
function targetOf(path: string): { targetId: string; method: string } {
  const rest = path.replace(INVOKE_PREFIX, '');
  const at = rest.indexOf('/method/');
  if (at <= 0) throw new TesseraError('ERR_NOT_FOUND', 'failed getting app id either from the URL path or the header dapr-app-id: use /v1.0/invoke/{app-id}/method/{method}');
  let targetId: string;
  try {
    targetId = decodeURIComponent(rest.slice(0, at));
  } catch {
    throw new TesseraError('ERR_MALFORMED_REQUEST', `app id "${rest.slice(0, Math.min(at, 100))}" is not valid percent-encoding`);
  }
  return { targetId, method: rest.slice(at + '/method/'.length) };
}

export function registerInvokeRoutes(app: FastifyInstance, invoke: InvokeService): void {
  void app.register(async (scope) => {
    useByteBodies(scope);
    scope.all('/v1.0/invoke/*', async (request, reply) => {
      const url = request.url;
      const q = url.indexOf('?');
      const { targetId, method } = targetOf(q === -1 ? url : url.slice(0, q));
      const verb = request.method.toUpperCase();
      if (!(HTTP_VERBS as readonly string[]).includes(verb)) throw new TesseraError('ERR_MALFORMED_REQUEST', `HTTP method ${verb.slice(0, 20)} cannot be invoked: use one of ${HTTP_VERBS.join(', ')}`);
      // A caller that hangs up ends the call to the callee too.
      const controller = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) controller.abort(new Error('the caller closed the connection'));
      });
      const contentType = request.headers['content-type'];
      const answer = await asHttpAnswer(await invoke.invoke({
        targetId,
        method,
        verb: verb as HttpVerb,
        query: q === -1 ? '' : url.slice(q + 1),
        contentType: typeof contentType === 'string' ? contentType : '',
        metadata: headersToMetadata(request.headers),
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        signal: controller.signal,
      }));
      reply.code(answer.status);
      for (const [name, values] of Object.entries(answer.headers)) reply.header(name, values.length === 1 ? values[0] : values);
      if (answer.contentType !== '') reply.type(answer.contentType);
      return reply.send(answer.body.byteLength === 0 ? undefined : answer.body);
    });
  });
}
