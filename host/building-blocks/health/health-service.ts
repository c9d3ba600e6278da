// Dapr's health checks below the transports: whether the sidecar is ready (and is the app
// a caller expects), and whether every component loaded and answers a ping, naming the ones
// that did not.
import type { ComponentDirectory } from '../../components/types.ts';
import { TesseraError } from '../../errors.ts';

export interface HealthServiceOptions {
  appId: string;
  components: Pick<ComponentDirectory, 'pingAll'>;
  isReady(): boolean;
}

export class HealthService {
  readonly #options: HealthServiceOptions;

  constructor(options: HealthServiceOptions) {
    this.#options = options;
  }

  /**
   * Throws unless the sidecar is ready. Name resolvers (Consul, for one) pass the app id they
   * expect, to check the app was not replaced.
   */
  checkReady(appId?: string): void {
    if (!this.#options.isReady()) throw new TesseraError('ERR_HEALTH_NOT_READY', 'dapr is not ready');
    if (appId !== undefined && appId !== this.#options.appId) {
      throw new TesseraError('ERR_HEALTH_APPID_NOT_MATCH', 'dapr app-id does not match');
    }
  }

  /** Rejects unless the sidecar is ready and every component loaded and answers its ping. */
  async checkOutbound(): Promise<void> {
    if (!this.#options.isReady()) throw new TesseraError('ERR_OUTBOUND_HEALTH_NOT_READY', 'dapr outbound is not ready');
    const failing = await this.#options.components.pingAll();
    if (failing.length > 0) {
      throw new TesseraError(
        'ERR_OUTBOUND_HEALTH_NOT_READY',
        `dapr outbound is not ready: components failed to load or not answering their ping: ${failing.join(', ')}`,
      );
    }
  }
}
