// Wires one sidecar: bundled types, the component registry fed by the resources folders
// (and kept in step with them by a watcher), the building blocks, the channel to the app,
// and the HTTP API, which is handed the building blocks to call. The API listens first; components load in the background and appear as
// they start, and /v1.0/healthz says ready once the first scan is applied. Every reload of
// the resources also re-reads the declarative subscriptions, and every component loaded or
// unloaded re-matches the delivery loops to the loaded brokers.
import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createHttpApi } from './api/http/server.ts';
import { AppChannel } from './app-channel/app-channel.ts';
import { createBuildingBlocks, type BuildingBlocks } from './building-blocks/building-blocks.ts';
import { InputBindings } from './building-blocks/bindings/input-bindings.ts';
import { SubscriptionManager } from './building-blocks/pubsub/subscription-manager.ts';
import { watchFolders, type FolderWatcher } from './components/folder-watcher.ts';
import { DEFAULT_LIMITS } from './components/limits.ts';
import { loadWorkers } from './components/load-worker.ts';
import { ComponentRegistry } from './components/registry.ts';
import { scanResources } from './components/resources-loader.ts';
import { BUNDLED_DIR } from './components/bundled-dir.ts';
import { loadBundledTypes } from './components/type-catalog.ts';
import type { Logger } from './observability/logger.ts';
import { SidecarMetrics } from './observability/metrics.ts';
import { startMetricsServer, type MetricsServer } from './observability/metrics-server.ts';
import { RUNTIME_VERSION } from './version.ts';

/** How soon a half-written module is looked at again. */
const RESCAN_MS = 100;

export interface SidecarOptions {
  appId: string;
  appPort?: number | undefined;
  /** `--app-max-concurrency`: most calls at the app at once; undefined for no limit. */
  appMaxConcurrency?: number | undefined;
  /** 0 picks a free port. */
  httpPort: number;
  listenAddress: string;
  resourcesPaths: string[];
  maxBodyBytes: number;
  apiToken?: string | undefined;
  /** Sent to the app as `dapr-api-token`; defaults to APP_API_TOKEN from the environment. */
  appApiToken?: string | undefined;
  logger: Logger;
  /** Called after `POST /v1.0/shutdown` has been answered. */
  onShutdownRequest?: () => void;
  /** Prometheus metrics at GET /metrics on this port (0 picks a free one); undefined: no metrics. */
  metricsPort?: number | undefined;
  /** Where the metrics server listens; the API's address unless given. */
  metricsAddress?: string | undefined;
}

export class Sidecar {
  readonly registry: ComponentRegistry;
  readonly subscriptions: SubscriptionManager;
  /** A delivery loop per input binding, to the app. */
  readonly inputBindings: InputBindings;
  /** What the transports call: one set of services for every API. */
  readonly blocks: BuildingBlocks;
  readonly #options: SidecarOptions;
  readonly #api: ReturnType<typeof createHttpApi>;
  readonly #channel: AppChannel | undefined;
  /** What every layer reports to, when metrics are on. */
  readonly metrics: SidecarMetrics | undefined;
  #metricsServer: MetricsServer | undefined;
  #watcher: FolderWatcher | undefined;
  #ready = false;
  readonly #loaded = Promise.withResolvers<void>();
  #port = 0;
  /** The scan under way, if any: scans run one at a time, and changes meanwhile ask for one more. */
  #scanning: Promise<void> | undefined;
  #scanAgain = false;
  #rescanTimer: NodeJS.Timeout | undefined;
  /** The sha256 of each module the last scan planned: a scan prepares only new bytes as it reads them. */
  #known: ReadonlyMap<string, string> = new Map();
  #stopped = false;

  private constructor(options: SidecarOptions) {
    this.#options = options;
    const metrics = options.metricsPort === undefined ? undefined : new SidecarMetrics({ appId: options.appId, namespace: process.env.NAMESPACE });
    this.metrics = metrics;
    this.registry = new ComponentRegistry({
      logger: options.logger.child('components'),
      observer: metrics,
      onChange: () => {
        this.subscriptions.reconcile();
        this.inputBindings.reconcile();
      },
    });
    // Only an app with a port can be called: no --app-port, no programmatic subscriptions and no deliveries.
    this.#channel =
      options.appPort === undefined
        ? undefined
        : new AppChannel({
            port: options.appPort,
            appApiToken: options.appApiToken ?? (process.env.APP_API_TOKEN || undefined),
            maxConcurrency: options.appMaxConcurrency,
          });
    this.subscriptions = new SubscriptionManager({
      appId: options.appId,
      pubsubs: this.registry,
      channel: this.#channel,
      logger: options.logger.child('pubsub'),
      observer: metrics,
    });
    this.inputBindings = new InputBindings({ components: this.registry, channel: this.#channel, logger: options.logger.child('bindings'), observer: metrics });
    metrics?.sampleComponents(() =>
      this.registry.usage().map(({ name, generation, usage }) => ({ name, generation, memoryBytes: usage?.memoryBytes, fuelConsumed: usage?.fuelConsumed, instances: usage?.instances })),
    );
    this.blocks = createBuildingBlocks({
      appId: options.appId,
      runtimeVersion: RUNTIME_VERSION,
      components: this.registry,
      subscriptions: this.subscriptions,
      isReady: () => this.#ready,
      onPublished: (pubsubName, topic) => this.subscriptions.wake(pubsubName, topic),
      observer: metrics,
    });
    this.#api = createHttpApi({
      blocks: this.blocks,
      admin: this.registry,
      apiToken: options.apiToken,
      maxBodyBytes: options.maxBodyBytes,
      shutdown: () => options.onShutdownRequest?.(),
      logger: options.logger.child('http'),
      metrics,
    });
  }

  /** Listens, starts watching the resources and loads them in the background. */
  static async start(options: SidecarOptions): Promise<Sidecar> {
    // A load worker takes a moment to start: it does while the API starts listening.
    loadWorkers.warm();
    const sidecar = new Sidecar(options);
    await sidecar.#start();
    return sidecar;
  }

  async #start(): Promise<void> {
    const { logger, resourcesPaths, appId } = this.#options;
    await this.#api.listen({ port: this.#options.httpPort, host: this.#options.listenAddress });
    this.#port = (this.#api.server.address() as AddressInfo).port;
    logger.info(`dapr HTTP API listening on http://${this.#options.listenAddress}:${this.#port} (app id "${appId}", Tessera ${RUNTIME_VERSION})`);
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
      const plan = await scanResources(resourcesPaths, bundled, appId, loadWorkers, { limits: DEFAULT_LIMITS, known: this.#known });
      this.#known = new Map(plan.components.map((c) => [c.modulePath, c.sha256]));
      this.subscriptions.setResources(plan.others);
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
      void applied.then(() => {
        if (this.#ready || this.#stopped) return;
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

  /** The port of GET /metrics; undefined with metrics off or when its port was taken. */
  get metricsPort(): number | undefined {
    return this.#metricsServer?.port;
  }

  /**
   * Resolves once the first scan of the resources is applied: every component in them
   * running, failed, or past its deadlines (or the sidecar stopped). `/v1.0/healthz` says
   * ready from then on.
   */
  get loaded(): Promise<void> {
    return this.#loaded.promise;
  }

  async stop(): Promise<void> {
    this.#ready = false;
    this.#stopped = true;
    this.#loaded.resolve();
    clearTimeout(this.#rescanTimer);
    this.#watcher?.close();
    await Promise.all([this.subscriptions.stop(), this.inputBindings.stop()]);
    await Promise.all([this.#api.close(), this.#metricsServer?.close()]);
    this.#channel?.close();
    await this.registry.close();
  }
}
