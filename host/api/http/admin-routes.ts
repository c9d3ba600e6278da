// Tessera's admin routes (not part of Dapr): every component with its status, a component's
// generations, and rollback to the previous generation. Guarded by the API token like every
// non-health route.
import type { FastifyInstance } from 'fastify';
import type { ComponentDirectory } from '../../components/types.ts';

/** The registry as the admin routes see it. */
export type ComponentAdmin = Pick<ComponentDirectory, 'list' | 'generations' | 'rollback'>;

interface NameRoute {
  Params: { name: string };
}

export function registerAdminRoutes(app: FastifyInstance, components: ComponentAdmin): void {
  app.get('/v1.0-alpha1/components', async () => components.list());

  app.get<NameRoute>('/v1.0-alpha1/components/:name/generations', async (request) => components.generations(request.params.name));

  app.post<NameRoute>('/v1.0-alpha1/components/:name/rollback', async (request) => components.rollback(request.params.name));
}
