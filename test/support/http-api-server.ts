// Starts the Dapr HTTP API on 127.0.0.1 (a free port) over fake components, for tests that
// talk to it with fetch or an SDK as an app would.
import type { AddressInfo } from 'node:net';
import { createHttpApi, DEFAULT_MAX_BODY_BYTES } from '../../host/api/http/server.ts';
import { createBuildingBlocks } from '../../host/building-blocks/building-blocks.ts';
import type { Logger } from '../../host/observability/logger.ts';
import { FakeComponents } from './fake-components.ts';
import { MemoryStateStore } from './memory-state-store.ts';

export interface TestApiOptions {
  appId?: string;
  apiToken?: string;
  maxBodyBytes?: number;
  /** The components; by default one memory store named `statestore`. */
  components?: FakeComponents;
  /** Where the API logs the calls that fail; nowhere by default. */
  logger?: Logger;
}

export interface TestApi {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  port: number;
  components: FakeComponents;
  /** The default `statestore` (a fresh one when `components` was given). */
  store: MemoryStateStore;
  /** Flip to make /v1.0/healthz answer not ready. */
  ready: boolean;
  shutdownCalls: number;
  close(): Promise<void>;
}

export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const store = new MemoryStateStore();
  const components = options.components ?? new FakeComponents().addStateStore('statestore', store);
  const appId = options.appId ?? 'myapp';
  const api: TestApi = {
    url: '',
    port: 0,
    components,
    store,
    ready: true,
    shutdownCalls: 0,
    close: async () => {
      await app.close();
    },
  };
  const app = createHttpApi({
    blocks: createBuildingBlocks({ appId, runtimeVersion: '0.1.0-test', components, isReady: () => api.ready }),
    admin: components,
    apiToken: options.apiToken,
    logger: options.logger,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    shutdown: () => {
      api.shutdownCalls++;
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  api.port = (app.server.address() as AddressInfo).port;
  api.url = `http://127.0.0.1:${api.port}`;
  return api;
}
