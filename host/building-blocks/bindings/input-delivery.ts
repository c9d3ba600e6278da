// One delivery loop per input binding, as daprd's runtime reads one: unless the binding's
// `direction` says `input`, ask the app first whether it listens (HTTP: `OPTIONS /{route}`,
// 2xx or 405 means yes; gRPC: the binding is in ListInputBindings); then read events and hand
// each to the app channel (HTTP: POST `/{route}`, the `route` metadata else the binding's
// name, with the event's data as the body, its content type, JSON when none, and its
// metadata as headers; gRPC: OnBindingEvent). The app taking it acknowledges the event
// `success`; any other answer, or no answer, is reported to the binding as `failure`, and
// the binding decides whether to deliver it again. Events go one at a time, in order. Nothing here throws out of the loop,
// and nothing spins: binding errors back off, and a binding that cannot wait is polled with
// an idle backoff.
import type { Binding, BindingEvent, BindingReader, EventOutcome } from '../../../abi/ts/binding.ts';
import type { AppCallbacks } from '../../app-channel/app-callbacks.ts';
import type { Logger } from '../../observability/logger.ts';
import { abortablePause } from '../abortable-pause.ts';
import type { BlockObserver } from '../../observability/component-observer.ts';

export interface InputTimings {
  /** Most events one read asks for. */
  maxEvents: number;
  /** How long a binding that can wait may hold a read open (also how soon a stop is seen). */
  waitMs: number;
  /** Pause after an empty read from a binding that cannot wait; doubles up to `idleMaxMs`. */
  idleMinMs: number;
  idleMaxMs: number;
  /** Pause after a binding error, and between probes of an app that is not up; doubles up to `errorMaxMs`. */
  errorMinMs: number;
  errorMaxMs: number;
  /** How long the app may take to answer one event. */
  appTimeoutMs: number;
}

export const INPUT_TIMINGS: InputTimings = {
  maxEvents: 10,
  waitMs: 1000,
  idleMinMs: 1,
  idleMaxMs: 50,
  errorMinMs: 100,
  errorMaxMs: 5000,
  appTimeoutMs: 60_000,
};

export interface InputLoopDeps {
  name: string;
  binding: Binding;
  /** The binding's Component YAML metadata: `route` and `direction` are read here. */
  config: ReadonlyMap<string, string>;
  channel: AppCallbacks;
  logger: Logger;
  timings: InputTimings;
  /** Told of every delivery (dapr_component_input_binding_*), when metrics are on. */
  observer?: BlockObserver | undefined;
}

/** The app's path for a binding: its `route` metadata, else its name, with one leading `/`. */
export function routeOf(name: string, config: ReadonlyMap<string, string>): string {
  const route = config.get('route')?.trim() || name;
  return route.startsWith('/') ? route : `/${route}`;
}

/** Whether the YAML's `direction` (`input`, `output`, `input, output`) names input: then the app is not asked first. */
export function declaresInput(config: ReadonlyMap<string, string>): boolean {
  return (config.get('direction') ?? '').split(',').some((d) => d.trim().toLowerCase() === 'input');
}

export class InputBindingLoop {
  readonly #deps: InputLoopDeps;
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;
  readonly path: string;
  #lastError = '';
  /** Whether the app said it listens; undefined until asked. */
  listening: boolean | undefined;

  constructor(deps: InputLoopDeps) {
    this.#deps = deps;
    this.path = routeOf(deps.name, deps.config);
    this.#done = this.#run();
  }

  get binding(): Binding {
    return this.#deps.binding;
  }

  /** Stops reading; the event in hand finishes delivering (or is reported failed), and the reader is closed. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  get #stopping(): boolean {
    return this.#abort.signal.aborted;
  }

  #pause(ms: number): Promise<void> {
    return abortablePause(ms, this.#abort.signal);
  }

  #warn(message: string, retryInMs: number): void {
    // The first of a run of identical errors is a warning; the repeats would flood the log.
    if (message !== this.#lastError) this.#deps.logger.warn(`${message}; retrying in ${retryInMs} ms`);
    else this.#deps.logger.debug(`${message}; retrying in ${retryInMs} ms`);
    this.#lastError = message;
  }

  /** Asks the app until it answers; true when it listens on the route. */
  async #appListens(): Promise<boolean> {
    const { channel, timings, name } = this.#deps;
    let delay = timings.errorMinMs;
    while (!this.#stopping) {
      try {
        const answer = await channel.inputBindingListens(name, this.path, { timeoutMs: timings.appTimeoutMs, signal: this.#abort.signal });
        if (!answer.listens) this.#deps.logger.info(`input binding ${name} is not delivered: ${answer.why} (set metadata direction: input to deliver without asking)`);
        return answer.listens;
      } catch (err) {
        if (this.#stopping) break;
        this.#warn(`input binding ${name}: ${(err as Error).message}`, delay);
        await this.#pause(delay);
        delay = Math.min(delay * 2, timings.errorMaxMs);
      }
    }
    return false;
  }

  /** Hands one event to the app; its verdict. */
  async #deliver(event: BindingEvent): Promise<EventOutcome> {
    const t0 = performance.now();
    const outcome = await this.#post(event);
    this.#deps.observer?.inputBinding(this.#deps.name, outcome === 'success', performance.now() - t0);
    return outcome;
  }

  async #post(event: BindingEvent): Promise<EventOutcome> {
    const { channel, timings, name, logger } = this.#deps;
    const failed = await channel.onBindingEvent({
      name,
      id: event.id,
      path: this.path,
      data: event.data,
      contentType: event.contentType ?? '',
      metadata: event.metadata,
      timeoutMs: timings.appTimeoutMs,
      signal: this.#abort.signal,
    });
    if (failed === undefined) return 'success';
    logger.warn(`input binding ${name}: ${failed}: reported to the binding as a failure`);
    return 'failure';
  }

  async #run(): Promise<void> {
    const { binding, timings, name, config, logger, channel } = this.#deps;
    this.listening = declaresInput(config) || (await this.#appListens());
    if (!this.listening || this.#stopping) return;
    logger.info(`input binding ${name} delivers to ${channel.protocol === 'http' ? `POST ${this.path}` : 'OnBindingEvent'}`);
    let reader: BindingReader | undefined;
    let idle = timings.idleMinMs;
    let errorDelay = timings.errorMinMs;
    try {
      while (!this.#stopping) {
        let stage = 'open';
        try {
          reader ??= await binding.openReader();
          stage = 'read';
          const events = await reader.read(timings.maxEvents, reader.canWait ? timings.waitMs : 0);
          errorDelay = timings.errorMinMs;
          this.#lastError = '';
          if (events.length === 0) {
            if (!reader.canWait) {
              await this.#pause(idle);
              idle = Math.min(idle * 2, timings.idleMaxMs);
            }
            continue;
          }
          idle = timings.idleMinMs;
          for (const event of events) {
            const outcome = this.#stopping ? 'failure' : await this.#deliver(event);
            stage = 'ack';
            await reader.ack(event.id, outcome);
          }
        } catch (err) {
          if (this.#stopping) break;
          this.#warn(`input binding ${name}: ${stage} failed: ${(err as Error)?.message ?? String(err)}`, errorDelay);
          await this.#pause(errorDelay);
          errorDelay = Math.min(errorDelay * 2, timings.errorMaxMs);
        }
      }
    } finally {
      await reader?.close().catch((err: Error) => logger.warn(`input binding ${name}: closing its reader failed: ${err.message}`));
    }
  }
}
