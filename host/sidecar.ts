// Wires one sidecar: bundled types, the component registry fed by the resources folders
// (and kept in step with them by a watcher), the building blocks, the channel to the app,
// and the HTTP and gRPC APIs, which are handed the building blocks to call. The HTTP API
// listens first; components load in the background and appear as they start, and
// /v1.0/healthz says ready once the first scan is applied and the gRPC APIs, started then
// (loading their protos holds the event loop for ~70 ms), listen, as daprd's readiness
// means. Every reload of the resources also re-reads the declarative subscriptions, and every
// component loaded or unloaded re-matches the delivery loops to the loaded brokers. Service
// invocation's internal gRPC API starts with the gRPC API, and the sidecar registers with its
// name resolver once that listens, so other sidecars find it only when it can serve them.
import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createHttpApi } from './api/http/server.ts';
import type { AppCallbacks, AppProtocol } from './app-channel/app-callbacks.ts';
import { AppChannel, type AppChannelOptions } from './app-channel/app-channel.ts';
import { AppHealthMonitor, type AppHealthSettings } from './app-channel/app-health.ts';
import { createBuildingBlocks, type BuildingBlocks } from './building-blocks/building-blocks.ts';
import { InputBindings } from './building-blocks/bindings/input-bindings.ts';
import type { DeliveryTimings } from './building-blocks/pubsub/delivery-loop.ts';
import { StreamingSubscriptions } from './building-blocks/pubsub/streaming-subscriptions.ts';
import { SubscriptionManager } from './building-blocks/pubsub/subscription-manager.ts';
import { watchFolders, type FolderWatcher } from './components/folder-watcher.ts';
import { DEFAULT_LIMITS } from './components/limits.ts';
import { loadWorkers } from './components/load-worker.ts';
import { ComponentRegistry } from './components/registry.ts';
import { scanResources } from './components/resources-loader.ts';
import { BUNDLED_DIR } from './components/bundled-dir.ts';
import { loadBundledTypes } from './components/type-catalog.ts';
import { DeferredListener } from './api/grpc/deferred-listener.ts';
import type { AppConnectionProperties } from './building-blocks/metadata/metadata-service.ts';
import type { GrpcProxy } from './building-blocks/invoke/grpc-proxy.ts';
import { InvokeService } from './building-blocks/invoke/invoke-service.ts';
import { LocalRegistry } from './building-blocks/invoke/name-resolution/local-registry.ts';
import type { NameResolver } from './building-blocks/invoke/name-resolution/name-resolver.ts';
import type { MtlsMaterial } from './security/mtls-credentials.ts';
import { formatSpiffeId } from './security/spiffe.ts';
import { listenErrorCode } from './errors.ts';
import type { Logger } from './observability/logger.ts';
import { formatGoDuration } from './units.ts';
import { SidecarMetrics } from './observability/metrics.ts';
import { startMetricsServer, type MetricsServer } from './observability/metrics-server.ts';
import { RUNTIME_VERSION } from './version.ts';
import { Resiliency } from './resiliency/resiliency.ts';
import { HttpPipeline, type MiddlewareComponent, type PipelineHandlerSpec } from './middleware/http-pipeline.ts';
import { ResiliencyResources } from './resiliency/resiliency-resources.ts';

/** Longest readiness waits for the gRPC APIs to listen once the components are in. */
const GRPC_READY_WAIT_MS = 10_000;

/** How soon a half-written module is looked at again. */
const RESCAN_MS = 100;

export interface SidecarOptions {
  appId: string;
  appPort?: number | undefined;
  /** `--app-max-concurrency`: most calls at the app at once; undefined for no limit. */
  appMaxConcurrency?: number | undefined;
  /** `--app-protocol`: http unless said. */
  appProtocol?: AppProtocol;
  /** `--app-channel-address`: 127.0.0.1 unless said. */
  appChannelAddress?: string;
  /** `--enable-app-health-check` and its settings; undefined when off. */
  appHealth?: AppHealthSettings | undefined;
  /** 0 picks a free port. */
  httpPort: number;
  /** The gRPC API's port (0 picks a free one); undefined serves no gRPC API. */
  grpcPort?: number | undefined;
  /**
   * The gRPC port is daprd's default, not one the user named: if another sidecar took it
   * between the start's check and the bind (the gRPC API binds once the components are
   * loaded), it gives way to a free port instead of stopping the sidecar.
   */
  grpcPortIsDefault?: boolean | undefined;
  /** The same for the HTTP port (daprd's 3500), taken between the check and the listen. */
  httpPortIsDefault?: boolean | undefined;
  /** `--dapr-internal-grpc-port`: where other sidecars call this one (0 picks a free port); undefined takes no calls from them. */
  internalGrpcPort?: number | undefined;
  /** The namespace of this app (NAMESPACE); `default` when unset. */
  namespace?: string | undefined;
  /** Finds other apps' sidecars (and makes this one findable); this host's registry by default. */
  resolver?: NameResolver | undefined;
  /** A Configuration's `spec.httpPipeline.handlers` and the file they came from; undefined: no pipeline. */
  httpPipeline?: { handlers: PipelineHandlerSpec[]; source: string } | undefined;
  /** mTLS between sidecars (the internal gRPC API and the calls to it); undefined: insecure. */
  mtls?: MtlsMaterial | undefined;
  /** Delivery timings of streaming subscriptions (tests shorten the deadline for an answer). */
  streamTimings?: Partial<DeliveryTimings> | undefined;
  listenAddress: string;
  resourcesPaths: string[];
  /** `--max-components`: most components run at once (DEFAULT_MAX_COMPONENTS unless given). */
  maxComponents?: number | undefined;
  maxBodyBytes: number;
  apiToken?: string | undefined;
  /** Sent to the app as `dapr-api-token`; defaults to APP_API_TOKEN from the environment. */
  appApiToken?: string | undefined;
  logger: Logger;
  /** Called after `POST /v1.0/shutdown` (or the gRPC Shutdown) has been answered. */
  onShutdownRequest?: () => void;
  /** Prometheus metrics at GET /metrics on this port (0 picks a free one); undefined: no metrics. */
  metricsPort?: number | undefined;
  /** Where the metrics server listens; the API's address unless given. */
  metricsAddress?: string | undefined;
}

/**
 * Listens on `port`; a default port (one the user did not name) taken since the start checked
 * it, by a sidecar starting beside this one, gives way to a free port, logged.
 */
async function listenOrFree<T>(listen: (port: number) => Promise<T>, port: number, isDefault: boolean | undefined, api: 'HTTP' | 'gRPC', logger: Logger): Promise<T> {
  try {
    return await listen(port);
  } catch (err) {
    if (!(isDefault === true && port !== 0 && listenErrorCode(err) === 'EADDRINUSE')) throw err;
    logger.info(`port ${port} was taken meanwhile (another sidecar?): the ${api} API listens on a free port instead; choose one with --dapr-${api.toLowerCase()}-port`);
    return listen(0);
  }
}

export class Sidecar {
  readonly registry: ComponentRegistry;
  readonly subscriptions: SubscriptionManager;
  /** The app's streaming subscriptions, opened on the gRPC API. */
  readonly streams: StreamingSubscriptions;
  /** A delivery loop per input binding, to the app. */
  readonly inputBindings: InputBindings;
  /** What the transports call: one set of services for every API. */
  readonly blocks: BuildingBlocks;
  readonly #options: SidecarOptions;
  readonly #api: ReturnType<typeof createHttpApi>;
  readonly #channel: AppCallbacks | undefined;
  readonly #appHealth: AppHealthMonitor | undefined;
  /** The gRPC API starting or started, and its port; undefined when not served. */
  #grpc: Promise<{ server: DeferredListener; port: number }> | undefined;
  /** What every layer reports to, when metrics are on. */
  readonly metrics: SidecarMetrics | undefined;
  #metricsServer: MetricsServer | undefined;
  #watcher: FolderWatcher | undefined;
  #ready = false;
  readonly #loaded = Promise.withResolvers<void>();
  /** Resolves once the first scan is applied: the gRPC APIs start then, and the sidecar is ready once they listen. */
  readonly #componentsIn = Promise.withResolvers<void>();
  #port = 0;
  /** The scan under way, if any: scans run one at a time, and changes meanwhile ask for one more. */
  #scanning: Promise<void> | undefined;
  #scanAgain = false;
  #rescanTimer: NodeJS.Timeout | undefined;
  /** The sha256 of each module the last scan planned: a scan prepares only new bytes as it reads them. */
  #known: ReadonlyMap<string, string> = new Map();
  #stopped = false;
  /** Dapr's Resiliency policies, from the resources folders. */
  readonly resiliency: Resiliency;
  readonly #resiliencyResources: ResiliencyResources;
  /** Service invocation, over the HTTP API and from other sidecars. */
  readonly invoke: InvokeService;
  readonly #resolver: NameResolver;
  /** The HTTP API's middleware (rate limits), resolved against every scan's middleware Components. */
  readonly #pipeline: HttpPipeline | undefined;
  /** The middleware Components of the last scan, which /v1.0/metadata lists. */
  #middlewares: readonly MiddlewareComponent[] = [];
  /** gRPC proxying, loaded with the first gRPC server that needs it. */
  #proxy: Promise<GrpcProxy> | undefined;
  /** The internal gRPC API starting or started, and its port; undefined when not served. */
  #internal: Promise<{ server: DeferredListener; port: number }> | undefined;

  private constructor(options: SidecarOptions, channel: AppCallbacks | undefined) {
    this.#options = options;
    const resiliencyLogger = options.logger.child('resiliency');
    const metrics = options.metricsPort === undefined ? undefined : new SidecarMetrics({ appId: options.appId, namespace: process.env.NAMESPACE });
    this.metrics = metrics;
    // daprd's gRPC client families, for the gRPC app channel's calls and those to other sidecars.
    const clientMetrics = metrics && ((method: string) => metrics.grpcClientMethod(method));
    if (clientMetrics !== undefined) channel?.measureCalls?.(clientMetrics);
    this.registry = new ComponentRegistry({
      logger: options.logger.child('components'),
      observer: metrics,
      maxComponents: options.maxComponents,
      onChange: () => {
        this.subscriptions.reconcile();
        this.inputBindings.reconcile();
      },
    });
    this.#channel = channel;
    this.resiliency = new Resiliency({
      appId: options.appId,
      onBreakerChange: (target, breaker, from, to) => resiliencyLogger.warn(`circuit breaker "${breaker}" of ${target}: ${from} -> ${to}`),
      observer: metrics?.resiliency,
    });
    this.#resiliencyResources = new ResiliencyResources(this.resiliency, resiliencyLogger);
    this.subscriptions = new SubscriptionManager({
      appId: options.appId,
      pubsubs: this.registry,
      channel: this.#channel,
      logger: options.logger.child('pubsub'),
      resiliency: this.resiliency,
      observer: metrics,
    });
    this.streams = new StreamingSubscriptions({
      appId: options.appId,
      pubsubs: this.registry,
      logger: options.logger.child('pubsub'),
      timings: options.streamTimings,
    });
    this.inputBindings = new InputBindings({ components: this.registry, channel: this.#channel, logger: options.logger.child('bindings'), observer: metrics });
    metrics?.sampleComponents(() =>
      this.registry.usage().map(({ name, generation, usage }) => ({ name, generation, memoryBytes: usage?.memoryBytes, fuelConsumed: usage?.fuelConsumed, instances: usage?.instances })),
    );
    this.blocks = createBuildingBlocks({
      appId: options.appId,
      runtimeVersion: RUNTIME_VERSION,
      components: this.registry,
      resiliency: this.resiliency,
      appConnection: appConnectionOf(options),
      subscriptions: {
        list: () => [...this.subscriptions.list(), ...this.streams.list()],
        problems: () => this.subscriptions.problems(),
      },
      isReady: () => this.#ready,
      onPublished: (pubsubName, topic) => {
        this.subscriptions.wake(pubsubName, topic);
        this.streams.wake(pubsubName, topic);
      },
      observer: metrics,
      middlewares: () => this.#middlewares.map(({ name, settings, version }) => ({ name, type: settings.type, version, capabilities: [] })),
    });
    this.#resolver = options.resolver ?? new LocalRegistry();
    this.invoke = new InvokeService({
      appId: options.appId,
      namespace: options.namespace ?? 'default',
      channel: this.#channel,
      resolver: this.#resolver,
      resiliency: this.resiliency,
      maxBodyBytes: options.maxBodyBytes,
      mtls: options.mtls,
      clientMetrics,
    });
    const pipeline = options.httpPipeline;
    this.#pipeline = pipeline && new HttpPipeline(pipeline.handlers, pipeline.source, options.logger.child('http'));
    this.#api = createHttpApi({
      blocks: this.blocks,
      invoke: this.invoke,
      admin: this.registry,
      apiToken: options.apiToken,
      maxBodyBytes: options.maxBodyBytes,
      shutdown: () => options.onShutdownRequest?.(),
      logger: options.logger.child('http'),
      metrics,
      pipeline: this.#pipeline,
    });
    // As daprd: with health checks, nothing is delivered until the app is first seen healthy.
    if (channel !== undefined && options.appHealth !== undefined) {
      this.#appHealth = new AppHealthMonitor(
        channel,
        options.appHealth,
        (healthy) => {
          this.subscriptions.setAppHealthy(healthy);
          this.inputBindings.setAppHealthy(healthy);
        },
        options.logger.child('app-health'),
      );
      this.subscriptions.setAppHealthy(false);
      this.inputBindings.setAppHealthy(false);
    }
  }

  /** Listens, starts watching the resources and loads them in the background. */
  static async start(options: SidecarOptions): Promise<Sidecar> {
    // A load worker takes a moment to start: it does while the API starts listening.
    loadWorkers.warm();
    const sidecar = new Sidecar(options, await openAppChannel(options));
    await sidecar.#start();
    return sidecar;
  }

  async #start(): Promise<void> {
    const { logger, resourcesPaths, appId, httpPort, listenAddress } = this.#options;
    await listenOrFree((port) => this.#api.listen({ port, host: listenAddress }), httpPort, this.#options.httpPortIsDefault, 'HTTP', logger);
    this.#port = (this.#api.server.address() as AddressInfo).port;
    logger.info(`dapr HTTP API listening on http://${listenAddress}:${this.#port} (app id "${appId}", Tessera ${RUNTIME_VERSION})`);
    if (this.#options.grpcPort !== undefined) {
      const port = this.#options.grpcPort;
      this.#grpc = this.#componentsIn.promise.then(() => this.#startGrpc(port));
      // Awaited by whoever needs the port (grpcPort); a failure is theirs to report.
      this.#grpc.catch(() => {});
    }
    if (this.#options.internalGrpcPort !== undefined) {
      const port = this.#options.internalGrpcPort;
      this.#internal = this.#componentsIn.promise.then(() => this.#startInternal(port));
      this.#internal.catch((err: Error) => logger.error(`the internal gRPC API could not start, so other sidecars cannot call this app: ${err.message}`));
    }
    // The bundled components are watched too, so a rebuilt bundled module is swapped in.
    const bundledDirs = (await readdir(BUNDLED_DIR, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(BUNDLED_DIR, e.name));
    this.#watcher = watchFolders([...resourcesPaths, ...bundledDirs], () => this.#reload(), logger.child('watcher'));
    this.#reload();
    if (this.metrics !== undefined) {
      const { metricsPort, metricsAddress, listenAddress } = this.#options;
      this.#metricsServer = await startMetricsServer(this.metrics, metricsPort!, metricsAddress ?? listenAddress, logger.child('metrics'));
      // prom-client (~100 ms to import) loads while the load worker compiles the components, not
      // after: a health check answered just then would wait for the import. Reports made
      // meanwhile wait in a bounded buffer.
      void this.metrics.load();
    }
    // In the background: the app usually starts after the sidecar, and is asked until it answers.
    void this.subscriptions.loadProgrammatic();
    this.#appHealth?.start();
  }

  /**
   * The gRPC API listens now and is built at its first connection (deferred-listener.ts): a
   * sidecar whose app never speaks gRPC never loads grpc-js, and readiness does not wait for it.
   */
  async #startGrpc(port: number): Promise<{ server: DeferredListener; port: number }> {
    const { logger, listenAddress } = this.#options;
    if (this.#stopped) throw new Error('the sidecar stopped before its gRPC API started');
    const server = new DeferredListener(
      'the gRPC API',
      async () => {
        const { createGrpcApi } = await import('./api/grpc/server.ts');
        return createGrpcApi({
          blocks: this.blocks,
          invoke: this.invoke,
          proxy: await this.#grpcProxy(),
          streams: this.streams,
          apiToken: this.#options.apiToken,
          maxBodyBytes: this.#options.maxBodyBytes,
          shutdown: () => this.#options.onShutdownRequest?.(),
          logger: logger.child('grpc'),
          metrics: this.metrics,
        });
      },
      logger,
    );
    const bound = await listenOrFree((p) => server.listen(listenAddress, p), port, this.#options.grpcPortIsDefault, 'gRPC', logger);
    logger.info(`dapr gRPC API listening on ${listenAddress}:${bound}`);
    return { server, port: bound };
  }

  /** The internal gRPC API, deferred as the gRPC API is: it loads at the first call from another sidecar. */
  async #startInternal(port: number): Promise<{ server: DeferredListener; port: number }> {
    const { logger, listenAddress, appId } = this.#options;
    if (this.#stopped) throw new Error('the sidecar stopped before its internal gRPC API started');
    const { mtls } = this.#options;
    const server = new DeferredListener(
      'the internal gRPC API',
      async () => {
        const { createInternalServer } = await import('./api/internal-grpc/internal-server.ts');
        return createInternalServer({ appId, channel: this.#channel, maxBodyBytes: this.#options.maxBodyBytes, logger: logger.child('invoke'), mtls, proxy: await this.#grpcProxy() });
      },
      logger,
    );
    const bound = await server.listen(listenAddress, port);
    logger.info(`dapr internal gRPC API listening on ${listenAddress}:${bound}${mtls === undefined ? '' : ` with mTLS as ${formatSpiffeId(mtls.identity)}`}`);
    if (this.#stopped) {
      await server.close();
      throw new Error('the sidecar stopped before it registered with its name resolver');
    }
    // A sidecar listening on every address is reached on loopback by the sidecars of its host.
    const host = listenAddress === '0.0.0.0' || listenAddress === '::' ? '127.0.0.1' : listenAddress;
    await this.#resolver.register({ appId, namespace: this.#options.namespace ?? 'default', host, port: bound });
    logger.info(`registered app id "${appId}" with the ${this.#resolver.name} name resolver`);
    return { server, port: bound };
  }

  /** The gRPC proxy both gRPC servers share; grpc-js loads only for a sidecar that serves gRPC. */
  #grpcProxy(): Promise<GrpcProxy> {
    const channel = this.#channel;
    this.#proxy ??= import('./building-blocks/invoke/grpc-proxy.ts').then(
      ({ GrpcProxy }) =>
        new GrpcProxy({
          appId: this.#options.appId,
          namespace: this.#options.namespace ?? 'default',
          resolver: this.#resolver,
          app: channel?.protocol === 'grpc' ? { address: channel.address, port: channel.port } : undefined,
          appApiToken: appApiTokenOf(this.#options),
          maxBodyBytes: this.#options.maxBodyBytes,
          resiliency: this.resiliency,
          mtls: this.#options.mtls,
          logger: this.#options.logger.child('invoke'),
        }),
    );
    return this.#proxy;
  }

  /** Resolves to the internal gRPC API's port once it listens and is registered (undefined when not served). */
  get internalGrpcPort(): Promise<number | undefined> {
    return this.#internal === undefined ? Promise.resolve(undefined) : this.#internal.then((internal) => internal.port);
  }

  /** Scans the resources again: now, or right after the scan under way. */
  #reload(): void {
    if (this.#stopped) return;
    if (this.#scanning !== undefined) {
      this.#scanAgain = true;
      return;
    }
    this.#scanning = this.#scan().finally(() => {
      this.#scanning = undefined;
      if (this.#scanAgain) {
        this.#scanAgain = false;
        this.#reload();
      }
    });
  }

  /**
   * One scan, its plan handed to the registry. The scan does not wait for the components to
   * load (the registry loads each on its own), so a slow one never holds up the next scan.
   */
  async #scan(): Promise<void> {
    const { logger, resourcesPaths, appId } = this.#options;
    let applied: Promise<void> = Promise.resolve();
    try {
      // Listed while the folders are read: neither waits for the other.
      const bundled = loadBundledTypes(undefined, (path, err) => logger.warn(`bundled component ${path} left out: ${err.message}`));
      const plan = await scanResources(resourcesPaths, bundled, appId, loadWorkers, { limits: DEFAULT_LIMITS, known: this.#known }, this.registry.files());
      this.#known = new Map(plan.components.map((c) => [c.modulePath, c.sha256]));
      this.subscriptions.setResources(plan.others);
      this.#resiliencyResources.apply(plan.others);
      this.#middlewares = plan.middlewares;
      this.#pipeline?.apply(plan.middlewares);
      applied = this.registry.apply(plan);
      // A file caught half-written gets another look once the writer is likely done.
      if (plan.failures.some((f) => f.transient)) {
        clearTimeout(this.#rescanTimer);
        this.#rescanTimer = setTimeout(() => this.#reload(), RESCAN_MS).unref();
      }
    } catch (err) {
      logger.error(`reading resources failed: ${(err as Error).message}`);
    }
    if (!this.#ready) {
      void applied.then(async () => {
        if (this.#ready || this.#stopped) return;
        this.#componentsIn.resolve();
        // As daprd, ready once the gRPC APIs listen too (and the sidecar is registered with its
        // name resolver), so a client that waits for /v1.0/healthz finds them. One that fails
        // to start is reported by its own path; one that hangs holds readiness only so long.
        let timer: NodeJS.Timeout | undefined;
        const listening = await Promise.race([
          Promise.allSettled([this.#grpc, this.#internal]).then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), GRPC_READY_WAIT_MS).unref())),
        ]);
        clearTimeout(timer);
        if (this.#ready || this.#stopped) return;
        if (!listening) logger.warn(`the gRPC APIs did not listen within ${GRPC_READY_WAIT_MS / 1000} s of the components loading; ready without them`);
        this.#ready = true;
        const listed = this.registry.list();
        const failed = listed.filter((c) => c.status === 'failed').length;
        logger.info(`resources loaded: ${listed.length - failed} component(s) running, ${failed} failed; ready`);
        loadWorkers.background();
        this.#loaded.resolve();
      });
    }
  }

  get port(): number {
    return this.#port;
  }

  /** Resolves to the gRPC API's port once it listens (undefined when not served); rejects when it cannot listen. */
  get grpcPort(): Promise<number | undefined> {
    return this.#grpc === undefined ? Promise.resolve(undefined) : this.#grpc.then((grpc) => grpc.port);
  }

  /** The port of GET /metrics; undefined with metrics off or when its port was taken. */
  get metricsPort(): number | undefined {
    return this.#metricsServer?.port;
  }

  /**
   * Resolves once the first scan of the resources is applied (every component in them
   * running, failed, or past its deadlines) and the gRPC APIs listen, or the sidecar
   * stopped. `/v1.0/healthz` says ready from then on.
   */
  get loaded(): Promise<void> {
    return this.#loaded.promise;
  }

  async stop(): Promise<void> {
    this.#ready = false;
    this.#stopped = true;
    this.#loaded.resolve();
    this.#componentsIn.resolve();
    clearTimeout(this.#rescanTimer);
    this.#watcher?.close();
    this.#appHealth?.stop();
    // Unregistered first, so other sidecars stop sending calls while the ones under way finish.
    await this.#resolver.close().catch(() => {});
    await Promise.all([this.subscriptions.stop(), this.inputBindings.stop(), this.streams.stop()]);
    const grpc = await this.#grpc?.catch(() => undefined);
    const internal = await this.#internal?.catch(() => undefined);
    await Promise.all([this.#api.close(), grpc?.server.close(), internal?.server.close(), this.#metricsServer?.close()]);
    this.invoke.close();
    (await this.#proxy?.catch(() => undefined))?.close();
    this.#channel?.close();
    await this.registry.close();
  }
}

/** The channel to the app, over its protocol; none without --app-port (no programmatic subscriptions, no deliveries). */
async function openAppChannel(options: SidecarOptions): Promise<AppCallbacks | undefined> {
  if (options.appPort === undefined) return undefined;
  const settings: AppChannelOptions = {
    port: options.appPort,
    address: options.appChannelAddress,
    appApiToken: appApiTokenOf(options),
    maxConcurrency: options.appMaxConcurrency,
    maxMessageBytes: options.maxBodyBytes,
  };
  if (options.appProtocol !== 'grpc') return new AppChannel(settings);
  // Loaded only for a gRPC app: grpc-js and the AppCallback services are not an HTTP sidecar's start-up cost.
  const { GrpcAppChannel } = await import('./app-channel/grpc-app-channel.ts');
  return GrpcAppChannel.open(settings);
}

/** APP_API_TOKEN, which the sidecar sends its app as `dapr-api-token`. */
function appApiTokenOf(options: SidecarOptions): string | undefined {
  return options.appApiToken ?? (process.env.APP_API_TOKEN || undefined);
}

/** `appConnectionProperties` of /v1.0/metadata, as daprd fills it. */
function appConnectionOf(options: SidecarOptions): AppConnectionProperties {
  const protocol = options.appProtocol ?? 'http';
  const properties: AppConnectionProperties = { port: options.appPort, protocol, channelAddress: options.appChannelAddress ?? '127.0.0.1', maxConcurrency: options.appMaxConcurrency };
  const health = options.appHealth;
  if (health !== undefined) {
    properties.health = {
      // daprd shows the path for HTTP apps only.
      healthCheckPath: protocol === 'http' ? health.path : undefined,
      healthProbeInterval: formatGoDuration(health.intervalMs),
      healthProbeTimeout: formatGoDuration(health.timeoutMs),
      healthThreshold: health.threshold,
    };
  }
  return properties;
}
