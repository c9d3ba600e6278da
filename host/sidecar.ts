// Wires one sidecar: bundled types, the component registry fed by the resources folders
// (and kept in step with them by a watcher), the building blocks, and the HTTP API.
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createHttpApi } from './api/http/server.ts';
import { StateService } from './building-blocks/state/state-service.ts';
import { watchFolders, type FolderWatcher } from './components/folder-watcher.ts';
import { ComponentRegistry } from './components/registry.ts';
import { scanResources } from './components/resources-loader.ts';
import { loadBundledTypes } from './components/type-catalog.ts';
import type { Logger } from './observability/logger.ts';

export const RUNTIME_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface SidecarOptions {
  appId: string;
  appPort?: number | undefined;
  /** 0 picks a free port. */
  httpPort: number;
  listenAddress: string;
  resourcesPaths: string[];
  maxBodyBytes: number;
  apiToken?: string | undefined;
  logger: Logger;
  /** Per-instance linear memory cap for components. */
  memoryLimitBytes?: number;
  /** Called after `POST /v1.0/shutdown` has been answered. */
  onShutdownRequest?: () => void;
}

export class Sidecar {
  readonly registry: ComponentRegistry;
  readonly #options: SidecarOptions;
  readonly #api: ReturnType<typeof createHttpApi>;
  #watcher: FolderWatcher | undefined;
  #ready = false;
  #port = 0;

  private constructor(options: SidecarOptions) {
    this.#options = options;
    this.registry = new ComponentRegistry({
      logger: options.logger.child('components'),
      ...(options.memoryLimitBytes === undefined ? {} : { memoryLimitBytes: options.memoryLimitBytes }),
    });
    this.#api = createHttpApi({
      appId: options.appId,
      runtimeVersion: RUNTIME_VERSION,
      apiToken: options.apiToken,
      maxBodyBytes: options.maxBodyBytes,
      components: this.registry,
      state: new StateService(this.registry, { appId: options.appId }),
      isReady: () => this.#ready,
      shutdown: () => options.onShutdownRequest?.(),
      logger: options.logger.child('http'),
    });
  }

  /** Loads the resources, starts watching them and listens. */
  static async start(options: SidecarOptions): Promise<Sidecar> {
    const sidecar = new Sidecar(options);
    await sidecar.#start();
    return sidecar;
  }

  async #start(): Promise<void> {
    const { logger, resourcesPaths, appId } = this.#options;
    const bundled = await loadBundledTypes();
    const reload = async (): Promise<void> => {
      try {
        await this.registry.apply(await scanResources(resourcesPaths, bundled, appId));
      } catch (err) {
        logger.error(`reading resources failed: ${(err as Error).message}`);
      }
    };
    await reload();
    this.#watcher = watchFolders(resourcesPaths, () => void reload(), logger.child('watcher'));
    await this.#api.listen({ port: this.#options.httpPort, host: this.#options.listenAddress });
    this.#port = (this.#api.server.address() as AddressInfo).port;
    this.#ready = true;
    logger.info(`dapr HTTP API listening on http://${this.#options.listenAddress}:${this.#port} (app id "${appId}", Tessera ${RUNTIME_VERSION})`);
  }

  get port(): number {
    return this.#port;
  }

  async stop(): Promise<void> {
    this.#ready = false;
    this.#watcher?.close();
    await this.#api.close();
    await this.registry.close();
  }
}
