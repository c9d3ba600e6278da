// Dapr's metadata routes: GET /v1.0/metadata in daprd's shape plus Tessera's `componentStatus`
// (every component and every file that failed, with why), and PUT of extended attributes.
import type { FastifyInstance } from 'fastify';
import type { ComponentDirectory } from '../../components/types.ts';
import { useTextBodies } from './body-parsers.ts';

export interface MetadataDeps {
  appId: string;
  runtimeVersion: string;
  components: ComponentDirectory;
  /** Attributes set with PUT /v1.0/metadata/{key}. */
  extended: Map<string, string>;
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
      subscriptions: [],
      httpEndpoints: [],
      actorRuntime: { runtimeStatus: 'DISABLED', hostReady: false },
      componentStatus: components,
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
