// `POST /v1.0-alpha1/state/{storeName}/query`: Dapr's state query API over HTTP. The body is
// kept as text and handed to the state building block as daprd hands it on (a query that is
// not JSON is the store's ERR_STATE_QUERY, not a 400); the results go back as daprd writes
// them, stored bytes raw as `data`, and no results as 204.
import type { FastifyInstance } from 'fastify';
import type { QueryItem } from '../../../abi/ts/state.ts';
import type { StateService } from '../../building-blocks/state/state-service.ts';
import { useTextBodies } from './body-parsers.ts';
import { rawJsonData } from './raw-json.ts';
import { queryMetadata, type Query } from './request-metadata.ts';

interface QueryRoute {
  Params: { storeName: string };
  Querystring: Query;
  Body: string | undefined;
}

/** One result as daprd writes it: the stored JSON raw as `data` (see raw-json.ts). */
function itemJson(item: QueryItem): string {
  let json = `{"key":${JSON.stringify(item.key)},"data":${rawJsonData(item.value)}`;
  if (item.etag !== undefined) json += `,"etag":${JSON.stringify(item.etag)}`;
  return `${json}}`;
}

export function registerStateQueryRoute(app: FastifyInstance, state: StateService): void {
  app.register(async (scope) => {
    useTextBodies(scope);
    scope.route<QueryRoute>({
      method: ['POST', 'PUT'],
      url: '/v1.0-alpha1/state/:storeName/query',
      // Before the body is read, as daprd looks the store up first.
      onRequest: async (request) => state.checkStore(request.params.storeName),
      handler: async (request, reply) => {
        const page = await state.query(request.params.storeName, request.body ?? '', queryMetadata(request.query));
        if (page.results.length === 0) return reply.code(204).send();
        let json = `{"results":[${page.results.map(itemJson).join(',')}]`;
        if (page.token !== undefined) json += `,"token":${JSON.stringify(page.token)}`;
        json += `,"metadata":${JSON.stringify(Object.fromEntries(page.metadata))}}`;
        return reply.code(200).type('application/json').send(json);
      },
    });
  });
}
