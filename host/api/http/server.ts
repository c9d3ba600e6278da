// The Dapr v1.0 HTTP API on fastify, transport only: routes parse and validate, call a
// building block the sidecar built, and every error leaves through one handler in daprd's
// shape.
import Fastify, { type FastifyInstance } from 'fastify';
import type { BuildingBlocks } from '../../building-blocks/building-blocks.ts';
import type { InvokeService } from '../../building-blocks/invoke/invoke-service.ts';
import { TesseraError } from '../../errors.ts';
import { meteredResponses, tagRoute, tagRoutes } from '../../observability/http-metrics.ts';
import { traceHttpApi } from '../../observability/http-tracing.ts';
import type { Logger } from '../../observability/logger.ts';
import { failedCallsLogger, reportedElsewhere } from '../failed-calls.ts';
import type { SidecarMetrics } from '../../observability/metrics.ts';
import { activeTracing } from '../../observability/tracing.ts';
import { requireApiToken } from './api-token.ts';
import { useJsonBodies } from './body-parsers.ts';
import { useHttpPipeline } from './pipeline-hook.ts';
import type { HttpPipeline } from '../../middleware/http-pipeline.ts';
import { errorReply } from './error-reply.ts';
import { registerAdminRoutes, type ComponentAdmin } from './admin-routes.ts';
import { registerBindingsRoutes } from './bindings-routes.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { invocationUrl, registerInvokeRoutes } from './invoke-routes.ts';
import { registerMetadataRoutes } from './metadata-routes.ts';
import { registerPubSubRoutes } from './pubsub-routes.ts';
import { registerShutdownRoute } from './shutdown-route.ts';
import { registerStateRoutes } from './state-routes.ts';
import { registerStateQueryRoute } from './state-query-route.ts';

/** daprd's default `--max-body-size`. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** State keys travel in the path; fastify's default (100 characters) would 404 longer keys. */
const MAX_PARAM_LENGTH = 16 * 1024;

export interface HttpApiDeps {
  /** The building blocks the routes call. */
  blocks: BuildingBlocks;
  /** Service invocation; undefined serves no /v1.0/invoke routes. */
  invoke?: InvokeService | undefined;
  /** What Tessera's admin routes show and do (the component registry). */
  admin: ComponentAdmin;
  /** DAPR_API_TOKEN; when set, every route but the health checks requires it. */
  apiToken?: string | undefined;
  maxBodyBytes: number;
  /** Called once the answer to POST /v1.0/shutdown has gone out. */
  shutdown(): void;
  logger?: Logger | undefined;
  /** dapr_http_server_* are recorded here when given. */
  metrics?: SidecarMetrics | undefined;
  /** The Configuration's `spec.httpPipeline` (rate limits), when it has one. */
  pipeline?: HttpPipeline | undefined;
}

/**
 * The compilers fastify would build route schemas with. The API's routes carry none (bodies
 * are checked by schema-validator.ts, replies are serialised by hand), so fastify's default
 * compilers, ajv and fast-json-stringify, are never needed; left to fastify they are loaded
 * with every start (~45 ms of it). A route given a schema fails to register, saying why.
 */
function noRouteSchemas(): () => never {
  return () => {
    throw new Error('routes of the Dapr HTTP API carry no fastify schemas: validate with host/schema-validator.ts');
  };
}

export { FAILURE_LOG_BURST, FAILURE_LOG_PER_SECOND } from '../failed-calls.ts';

export function createHttpApi(deps: HttpApiDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    schemaController: { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } },
    bodyLimit: deps.maxBodyBytes,
    // daprd cleans `//` and a trailing `/` from paths before routing.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    // Any URL sent with a `dapr-app-id` header is a service invocation.
    ...(deps.invoke === undefined ? {} : { rewriteUrl: invocationUrl }),
    // With metrics on, the server's responses time and record each call (http-metrics.ts).
    ...(deps.metrics === undefined ? {} : { http: { ServerResponse: meteredResponses(deps.metrics) } }),
  });
  const log = deps.logger;
  const failures = log && failedCallsLogger(log, 'failed HTTP API calls');

  // Metrics count every call (the server's responses record them); the routes, registered
  // below, tag theirs. Tracing first, so a call refused by the token check is traced too.
  const metered = deps.metrics !== undefined;
  if (metered) tagRoutes(app);
  if (activeTracing !== undefined) traceHttpApi(app, activeTracing);
  if (deps.apiToken) requireApiToken(app, deps.apiToken);
  if (deps.pipeline !== undefined) useHttpPipeline(app, deps.pipeline, metered);
  useJsonBodies(app);

  app.setErrorHandler((err, request, reply) => {
    // A call refused before its handler ran is still counted under its route.
    if (metered) tagRoute(request);
    const { status, contentType, body } = errorReply(err, deps.maxBodyBytes);
    if (log !== undefined) {
      const fields = { method: request.method, url: request.url, status, error: body };
      if (status >= 500 && !reportedElsewhere(err)) failures!.error('HTTP API call failed', fields);
      else log.debug(status >= 500 ? 'HTTP API call failed' : 'HTTP API call refused', fields);
    }
    return reply.code(status).type(contentType).send(body);
  });
  app.setNotFoundHandler((request) => {
    const path = request.url.split('?', 1)[0];
    throw new TesseraError('ERR_NOT_FOUND', `method "${request.method} ${path}" is not found`);
  });

  const { blocks } = deps;
  registerStateRoutes(app, blocks.state);
  registerStateQueryRoute(app, blocks.state);
  registerPubSubRoutes(app, blocks.pubsub);
  registerBindingsRoutes(app, blocks.bindings);
  registerHealthRoutes(app, blocks.health);
  registerMetadataRoutes(app, blocks.metadata);
  registerShutdownRoute(app, deps.shutdown);
  registerAdminRoutes(app, deps.admin);
  if (deps.invoke !== undefined) registerInvokeRoutes(app, deps.invoke);
  return app;
}
