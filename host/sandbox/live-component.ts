// A running component: one instance at a time, initialised with its configuration, called
// one call at a time. Any throw out of the guest (a trap, a stack overflow, a bad pointer)
// fails that call with ERR_COMPONENT_TRAP naming the component and the function, and drops
// the instance; the next call builds a fresh one from the same compiled module.
import type { Metadata, WitError, WitResult } from '../../abi/ts/types.ts';
import { TesseraError, isTesseraError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { CompiledComponent } from './compiled-component.ts';
import { instantiate, type ComponentInstance } from './component-instance.ts';

export interface LiveComponentOptions {
  name: string;
  config: ReadonlyMap<string, string>;
  logger: Logger;
}

function describeThrow(err: unknown): string {
  if (isTesseraError(err)) return err.message;
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'stack overflow (unbounded recursion?)';
  if (err instanceof Error) return `${err.constructor.name === 'RuntimeError' ? 'trap' : err.name}: ${err.message}`;
  return String(err);
}

export class LiveComponent {
  readonly name: string;
  readonly compiled: CompiledComponent;
  readonly config: ReadonlyMap<string, string>;
  readonly loadedAt: Date;
  #logger: Logger;
  #instance: ComponentInstance | undefined;
  #features: ReadonlySet<string> = new Set();
  /** Tail of the call queue; only used for JSPI components, whose calls can interleave. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(compiled: CompiledComponent, options: LiveComponentOptions) {
    this.name = options.name;
    this.compiled = compiled;
    this.config = options.config;
    this.#logger = options.logger;
    this.loadedAt = new Date();
  }

  /** Instantiates, calls `init(config)` and reads `features()`; refuses with ERR_COMPONENT_LOAD. */
  static async start(compiled: CompiledComponent, options: LiveComponentOptions): Promise<LiveComponent> {
    const live = new LiveComponent(compiled, options);
    try {
      await live.#boot();
    } catch (err) {
      throw new TesseraError('ERR_COMPONENT_LOAD', `component "${options.name}" failed to start: ${describeThrow(err)}`, { cause: err });
    }
    return live;
  }

  /** Features the component advertised at start. */
  get features(): ReadonlySet<string> {
    return this.#features;
  }

  async #boot(): Promise<void> {
    const instance = await instantiate(this.compiled, this.name, this.#logger);
    const config: Metadata = [...this.config];
    const init = (await instance.calls.get('init')!(config)) as WitResult<undefined>;
    if (init.tag === 'err') throw new TesseraError('ERR_COMPONENT_LOAD', `init refused the configuration: ${init.val.tag}: ${init.val.val}`);
    const features = instance.calls.get('features');
    if (features) this.#features = new Set((await features()) as string[]);
    this.#instance = instance;
  }

  /**
   * Calls an export with lifted arguments and resolves to its lifted result. A component
   * error (`result::err`) is a value, not a throw; only a failure of the guest rejects.
   */
  call(fn: string, args: unknown[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" is unloaded`));
    if (this.compiled.needsJspi || this.#instance === undefined) {
      const run = this.#queue.then(() => this.#callOnce(fn, args));
      this.#queue = run.catch(() => undefined);
      return run;
    }
    try {
      return Promise.resolve(this.#instance.calls.get(fn)!(...args));
    } catch (err) {
      return Promise.reject(this.#trapped(fn, err));
    }
  }

  async #callOnce(fn: string, args: unknown[]): Promise<unknown> {
    if (this.#instance === undefined) {
      try {
        await this.#boot();
        this.#logger.info(`component "${this.name}" restarted after a trap`);
      } catch (err) {
        throw new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" could not be restarted: ${describeThrow(err)}`, { cause: err });
      }
    }
    try {
      return await this.#instance!.calls.get(fn)!(...args);
    } catch (err) {
      throw this.#trapped(fn, err);
    }
  }

  #trapped(fn: string, err: unknown): TesseraError {
    this.#instance = undefined;
    const message = `component "${this.name}" (${this.compiled.manifest.type}) trapped in ${fn}: ${describeThrow(err)}`;
    this.#logger.error(message);
    return new TesseraError('ERR_COMPONENT_TRAP', message, { cause: err });
  }

  /** Drops the instance once the calls already queued have finished. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    this.#instance = undefined;
  }
}

/** Unwraps a WIT `result`, turning `err` into a TesseraError carrying the component's typed error. */
export function unwrapResult<T>(component: string, fn: string, result: WitResult<T>): T {
  if (result.tag === 'ok') return result.val;
  const e: WitError = result.val;
  throw new TesseraError('ERR_INTERNAL', `component "${component}" ${fn}: ${e.tag}: ${e.val}`, { componentError: e });
}
