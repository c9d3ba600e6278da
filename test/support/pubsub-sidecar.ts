// The sidecar's pub/sub parts in-process, as Sidecar wires them, over a JS broker instead of
// the registry: the HTTP API (fastify on 127.0.0.1, a free port), the building blocks, and the
// SubscriptionManager with its channel to a test app. `close()` stops the loops, then the API.
import type { AddressInfo } from 'node:net';
import { createHttpApi, DEFAULT_MAX_BODY_BYTES } from '../../host/api/http/server.ts';
import type { AppCallbacks, AppProtocol } from '../../host/app-channel/app-callbacks.ts';
import { AppChannel } from '../../host/app-channel/app-channel.ts';
import { GrpcAppChannel } from '../../host/app-channel/grpc-app-channel.ts';
import { createBuildingBlocks } from '../../host/building-blocks/building-blocks.ts';
import type { DeliveryTimings } from '../../host/building-blocks/pubsub/delivery-loop.ts';
import type { AppSubscribeTimings } from '../../host/building-blocks/pubsub/programmatic-subscriptions.ts';
import { SubscriptionManager } from '../../host/building-blocks/pubsub/subscription-manager.ts';
import { silentLogger, type Logger } from '../../host/observability/logger.ts';
import { MemoryBroker } from './memory-pubsub.ts';
import { FakeComponents } from './fake-components.ts';
import { TestApp } from './test-app.ts';

export interface PubSubSidecarOptions {
  appId?: string;
  /** The app's port; without one there is no app channel. */
  appPort?: number;
  appApiToken?: string;
  /** `--app-max-concurrency`: most calls at the app at once. */
  appMaxConcurrency?: number;
  /** How the sidecar calls the app (http by default). */
  appProtocol?: AppProtocol;
  /** The broker behind pubsub `pubsub` (a fresh one by default); ignored when `components` is given. */
  broker?: MemoryBroker;
  components?: FakeComponents;
  timings?: Partial<DeliveryTimings>;
  appSubscribeTimings?: AppSubscribeTimings;
  /** Ask the app for GET /dapr/subscribe at start (default: when there is an app port). */
  loadProgrammatic?: boolean;
  logger?: Logger;
}

export interface PubSubSidecar {
  url: string;
  port: number;
  broker: MemoryBroker;
  components: FakeComponents;
  subscriptions: SubscriptionManager;
  /** Resolves once the programmatic subscriptions were loaded (at once without an app). */
  programmatic: Promise<void>;
  /** POST /v1.0/publish/{pubsub}/{topic}; `body` objects are sent as JSON. */
  publish(pubsub: string, topic: string, body?: unknown, init?: { contentType?: string; query?: string; headers?: Record<string, string> }): Promise<Response>;
  metadata(): Promise<{ subscriptions: any[]; subscriptionStatus: any[] }>;
  close(): Promise<void>;
}

export async function startPubSubSidecar(options: PubSubSidecarOptions = {}): Promise<PubSubSidecar> {
  const appId = options.appId ?? 'myapp';
  const broker = options.broker ?? new MemoryBroker();
  const components = options.components ?? new FakeComponents().addPubSub('pubsub', broker.client(appId));
  const logger = options.logger ?? silentLogger;
  const settings = { port: options.appPort!, appApiToken: options.appApiToken, maxConcurrency: options.appMaxConcurrency };
  let channel: AppCallbacks | undefined;
  if (options.appPort !== undefined) channel = options.appProtocol === 'grpc' ? await GrpcAppChannel.open(settings) : new AppChannel(settings);
  const subscriptions = new SubscriptionManager({
    appId,
    pubsubs: components,
    channel,
    logger,
    ...(options.timings ? { timings: options.timings } : {}),
    ...(options.appSubscribeTimings ? { appSubscribeTimings: options.appSubscribeTimings } : {}),
  });
  const blocks = createBuildingBlocks({
    appId,
    runtimeVersion: '0.1.0-test',
    components,
    subscriptions,
    isReady: () => true,
    onPublished: (name, topic) => subscriptions.wake(name, topic),
  });
  const app = createHttpApi({ blocks, admin: components, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, shutdown: () => {} });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const programmatic = (options.loadProgrammatic ?? channel !== undefined) ? subscriptions.loadProgrammatic() : Promise.resolve();
  return {
    url,
    port,
    broker,
    components,
    subscriptions,
    programmatic,
    publish(name, topic, body, init = {}) {
      const isBytes = typeof body === 'string' || body instanceof Uint8Array;
      const headers: Record<string, string> = { ...init.headers };
      const contentType = init.contentType ?? (isBytes || body === undefined ? undefined : 'application/json');
      if (contentType !== undefined) headers['content-type'] = contentType;
      return fetch(`${url}/v1.0/publish/${name}/${topic}${init.query ?? ''}`, {
        method: 'POST',
        headers,
        body: body === undefined ? null : isBytes ? (body as string | Uint8Array) : JSON.stringify(body),
      });
    },
    async metadata() {
      return (await (await fetch(`${url}/v1.0/metadata`)).json()) as { subscriptions: any[]; subscriptionStatus: any[] };
    },
    async close() {
      await subscriptions.stop();
      await app.close();
      channel?.close();
    },
  };
}

/** Sidecar-side redelivery pauses short enough for tests. */
export const FAST_RETRIES = { retryDelaysMs: [10, 20, 40] };

/**
 * A test app that answers GET /dapr/subscribe with `subscriptions`, and a pub/sub sidecar
 * delivering to it with fast retries, once its programmatic subscriptions are loaded; both
 * are closed by the functions pushed onto `cleanups`.
 */
export async function startAppAndSidecar(
  cleanups: Array<() => Promise<void>>,
  subscriptions: unknown[],
  options: PubSubSidecarOptions = {},
): Promise<{ app: TestApp; sidecar: PubSubSidecar }> {
  const app = await new TestApp().listen();
  app.subscribe = { status: 200, body: subscriptions };
  cleanups.push(() => app.close());
  const sidecar = await startPubSubSidecar({ appPort: app.port, timings: FAST_RETRIES, ...options });
  cleanups.push(() => sidecar.close());
  await sidecar.programmatic;
  return { app, sidecar };
}
