// The Dapr v1.0 HTTP API on fastify, transport only: routes parse and validate, call a
// building block, and every error leaves through one handler in daprd's shape.
import Fastify, { type FastifyInstance } from 'fastify';
import { PubSubService } from '../../building-blocks/pubsub/pubsub-service.ts';
import type { StateService } from '../../building-blocks/state/state-service.ts';
import type { ComponentDirectory } from '../../components/types.ts';
import { TesseraError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { requireApiToken } from './api-token.ts';
import { useJsonBodies } from './body-parsers.ts';
import { errorReply } from './error-reply.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { registerMetadataRoutes, type SubscriptionDirectory } from './metadata-routes.ts';
import { registerPubSubRoutes } from './pubsub-routes.ts';
import { registerShutdownRoute } from './shutdown-route.ts';
import { registerStateRoutes } from './state-routes.ts';

/** daprd's default `--max-body-size`. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** State keys travel in the path; fastify's default (100 characters) would 404 longer keys. */
const MAX_PARAM_LENGTH = 16 * 1024;

export interface HttpApiDeps {
  appId: string;
  runtimeVersion: string;
  /** DAPR_API_TOKEN; when set, every route but the health checks requires it. */
  apiToken?: string;
  maxBodyBytes: number;
  components: ComponentDirectory;
  state: StateService;
  /** Publishing; by default a service over `components` (without local delivery). */
  pubsub?: PubSubService;
  /** The app's subscriptions, for `/v1.0/metadata`. */
  subscriptions?: SubscriptionDirectory;
  isReady(): boolean;
  /** Called once the answer to POST /v1.0/shutdown has gone out. */
  shutdown(): void;
  logger?: Logger;
  /** Attributes set with PUT /v1.0/metadata/{key}; pass one map to share it with the gRPC API. */
  extendedMetadata?: Map<string, string>;
}

export function createHttpApi(deps: HttpApiDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.maxBodyBytes,
    // daprd cleans `//` and a trailing `/` from paths before routing.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
  });
  const log = deps.logger;

  if (deps.apiToken) requireApiToken(app, deps.apiToken);
  useJsonBodies(app);

  app.setErrorHandler((err, request, reply) => {
    const { status, contentType, body } = errorReply(err, deps.maxBodyBytes);
    if (log !== undefined) {
      const fields = { method: request.method, url: request.url, status, error: body };
      if (status >= 500) log.error('HTTP API call failed', fields);
      else log.debug('HTTP API call refused', fields);
    }
    return reply.code(status).type(contentType).send(body);
  });
  app.setNotFoundHandler((request) => {
    const path = request.url.split('?', 1)[0];
    throw new TesseraError('ERR_NOT_FOUND', `method "${request.method} ${path}" is not found`);
  });

  registerStateRoutes(app, deps.state);
  registerPubSubRoutes(app, deps.pubsub ?? new PubSubService(deps.components, { appId: deps.appId }));
  registerHealthRoutes(app, deps);
  registerMetadataRoutes(app, { ...deps, extended: deps.extendedMetadata ?? new Map() });
  registerShutdownRoute(app, deps.shutdown);
  registerAdminRoutes(app, deps.components);
  return app;
}
