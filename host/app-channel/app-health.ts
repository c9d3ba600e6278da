// App health checks, as daprd's pkg/apphealth runs them with `--enable-app-health-check`: a
// probe every interval over the app channel (HTTP: GET the health path, any 2xx; gRPC:
// AppCallbackHealthCheck.HealthCheck), each with its timeout. The app starts unhealthy; one
// probe that passes makes it healthy; `threshold` failures in a row make it unhealthy again.
// Each change is reported once, and the sidecar stops delivering to an unhealthy app. One
// probe at a time: a tick while one is out is skipped.
import type { Logger } from '../observability/logger.ts';
import type { AppCallbacks } from './app-callbacks.ts';

export interface AppHealthSettings {
  /** `--app-health-check-path`: HTTP only. */
  path: string;
  /** `--app-health-probe-interval`, in ms (the flag is seconds). */
  intervalMs: number;
  /** `--app-health-probe-timeout`, in ms. */
  timeoutMs: number;
  /** `--app-health-threshold`: failures in a row that make the app unhealthy. */
  threshold: number;
}

export const APP_HEALTH_DEFAULTS: AppHealthSettings = { path: '/healthz', intervalMs: 5000, timeoutMs: 500, threshold: 3 };

export class AppHealthMonitor {
  readonly #channel: AppCallbacks;
  readonly #settings: AppHealthSettings;
  readonly #onChange: (healthy: boolean) => void;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #failures: number;
  #timer: NodeJS.Timeout | undefined;
  #probing = false;

  constructor(channel: AppCallbacks, settings: AppHealthSettings, onChange: (healthy: boolean) => void, logger: Logger) {
    this.#channel = channel;
    this.#settings = settings;
    this.#onChange = onChange;
    this.#log = logger;
    this.#failures = settings.threshold;
  }

  get healthy(): boolean {
    return this.#failures < this.#settings.threshold;
  }

  /** Probes now, then every interval. */
  start(): void {
    this.#log.info(`app health probes starting: every ${this.#settings.intervalMs} ms, unhealthy after ${this.#settings.threshold} failures`);
    void this.#probe();
    this.#timer = setInterval(() => void this.#probe(), this.#settings.intervalMs);
  }

  async #probe(): Promise<void> {
    if (this.#probing || this.#abort.signal.aborted) return;
    this.#probing = true;
    try {
      await this.#channel.healthCheck(this.#settings.path, { timeoutMs: this.#settings.timeoutMs, signal: this.#abort.signal });
      this.#passed();
    } catch (err) {
      if (!this.#abort.signal.aborted) this.#failed((err as Error).message);
    } finally {
      this.#probing = false;
    }
  }

  #passed(): void {
    const wasHealthy = this.healthy;
    this.#failures = 0;
    if (wasHealthy) return;
    this.#log.info('the app entered healthy status');
    this.#onChange(true);
  }

  #failed(why: string): void {
    this.#failures++;
    if (this.#failures !== this.#settings.threshold) return;
    this.#log.warn(`the app entered unhealthy status: ${this.#settings.threshold} health probes failed in a row, the last: ${why}`);
    this.#onChange(false);
  }

  stop(): void {
    this.#abort.abort();
    clearInterval(this.#timer);
  }
}
