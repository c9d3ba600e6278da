// Starts the Dapr HTTP and gRPC APIs on 127.0.0.1 (free ports) over one set of fake
// components and building blocks, for tests that call either transport as an app would and
// expect the same outcomes.
import type { AddressInfo } from 'node:net';
import { createGrpcApi } from '../../host/api/grpc/server.ts';
import { createHttpApi, DEFAULT_MAX_BODY_BYTES } from '../../host/api/http/server.ts';
import { createBuildingBlocks } from '../../host/building-blocks/building-blocks.ts';
import type { DeliveryTimings } from '../../host/building-blocks/pubsub/delivery-loop.ts';
import { StreamingSubscriptions } from '../../host/building-blocks/pubsub/streaming-subscriptions.ts';
import { silentLogger, type Logger } from '../../host/observability/logger.ts';
import { FakeComponents } from './fake-components.ts';

export interface TestApisOptions {
  appId?: string;
  apiToken?: string;
  components: FakeComponents;
  /** Streaming subscriptions' timings (a short deadline for an answer, say). */
  streamTimings?: Partial<DeliveryTimings>;
  logger?: Logger;
}

export interface TestApis {
  /** The HTTP API, e.g. `http://127.0.0.1:41234`. */
  url: string;
  grpcPort: number;
  /** `127.0.0.1:<grpcPort>`, as a gRPC client dials it. */
  grpcAddress: string;
  streams: StreamingSubscriptions;
  shutdownCalls: number;
  close(): Promise<void>;
}

export async function startTestApis(options: TestApisOptions): Promise<TestApis> {
  const { components } = options;
  const appId = options.appId ?? 'myapp';
  const logger = options.logger ?? silentLogger;
  const streams = new StreamingSubscriptions({ appId, pubsubs: components, logger, timings: options.streamTimings });
  const blocks = createBuildingBlocks({
    appId,
    runtimeVersion: '0.1.0-test',
    components,
    subscriptions: { list: () => streams.list(), problems: () => [] },
    isReady: () => true,
    onPublished: (pubsubName, topic) => streams.wake(pubsubName, topic),
  });
  const apis: TestApis = { url: '', grpcPort: 0, grpcAddress: '', streams, shutdownCalls: 0, close: async () => {} };
  const shutdown = (): void => {
    apis.shutdownCalls++;
  };
  const http = createHttpApi({ blocks, admin: components, apiToken: options.apiToken, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, shutdown, logger });
  const grpc = createGrpcApi({ blocks, streams, apiToken: options.apiToken, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, shutdown, logger });
  await http.listen({ host: '127.0.0.1', port: 0 });
  apis.url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  apis.grpcPort = await grpc.listen('127.0.0.1', 0);
  apis.grpcAddress = `127.0.0.1:${apis.grpcPort}`;
  apis.close = async () => {
    await Promise.all([grpc.close(), http.close()]);
  };
  return apis;
}
