// Dapr's metadata routes: GET /v1.0/metadata in daprd's shape plus Tessera's `componentStatus`
// (every component and every file that failed, with why) and `subscriptionStatus` (every
// subscription not delivered, with why), and PUT of extended attributes.
import type { FastifyInstance } from 'fastify';
import type { ComponentDirectory } from '../../components/types.ts';
import { useTextBodies } from './body-parsers.ts';

/** The app's pub/sub subscriptions: those delivered, and those that are not, with why. */
export interface SubscriptionDirectory {
  list(): Record<string, unknown>[];
  problems(): object[];
}

export interface MetadataDeps {
  appId: string;
  runtimeVersion: string;
  components: ComponentDirectory;
  /** Attributes set with PUT /v1.0/metadata/{key}. */
  extended: Map<string, string>;
  subscriptions?: SubscriptionDirectory | undefined;
}

export function registerMetadataRoutes(app: FastifyInstance, deps: MetadataDeps): void {
  app.get('/v1.0/metadata', async (_request, reply) => {
    const components = deps.components.list();
    const body = {
      id: deps.appId,
      runtimeVersion: deps.runtimeVersion,
      enabledFeatures: [],
      actors: [],
      components: components
        .filter((c) => c.status !== 'failed')
        .map((c) => ({ name: c.name, type: c.type ?? '', version: c.version ?? '', capabilities: c.capabilities })),
      // daprd still reports its version here for older clients, after the user's attributes.
      extended: { ...Object.fromEntries(deps.extended), daprRuntimeVersion: deps.runtimeVersion },
      subscriptions: deps.subscriptions?.list() ?? [],
      httpEndpoints: [],
      actorRuntime: { runtimeStatus: 'DISABLED', hostReady: false },
      componentStatus: components,
      // Tessera's own, like componentStatus: subscriptions not delivered (invalid, or waiting for their pubsub).
      subscriptionStatus: deps.subscriptions?.problems() ?? [],
    };
    return reply.code(200).type('application/json').send(JSON.stringify(body));
  });

  // Own scope: the value is the raw body, whatever its Content-Type, as daprd reads it.
  app.register(async (scope) => {
    useTextBodies(scope);
    scope.put<{ Params: { key: string }; Body: string | undefined }>('/v1.0/metadata/:key', async (request, reply) => {
      if (request.params.key !== '') deps.extended.set(request.params.key, request.body ?? '');
      return reply.code(204).send();
    });
  });
}
