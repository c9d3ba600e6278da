// One generation of a component on a worker thread (`tessera.dev/isolation: thread`): the
// worker (isolation-worker.ts) runs a LiveComponent; this main-thread side posts it requests,
// holds every request's wall-clock deadline, and terminates the worker when a guest spins
// past one (a synchronous wasm call cannot be interrupted otherwise), when it stops
// answering, or after it died: pending requests fail with ERR_COMPONENT_TRAP, the trap is
// reported, and the next call starts a fresh worker. Hibernation ends the worker too (after
// a snapshot, when the component can take one), so a sleeping component holds no thread.
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { TesseraError, isTesseraError } from '../../errors.ts';
import { siblingModule } from '../../package-root.ts';
import { LOG_LEVELS, type Logger } from '../../observability/logger.ts';
import { rateLimitedLogger } from '../../observability/rate-limited-logger.ts';
import { DEFAULT_QUEUE_LIMIT } from '../default-limits.ts';
import type { CompiledComponent, PreparedComponent } from '../compiled-component.ts';
import { canSnapshot } from '../snapshot-stream.ts';
import type { GuestComponent, SnapshotData } from '../guest-component.ts';
import { DEFAULT_CALL_TIMEOUT_MS, type LiveComponentOptions } from '../live-component.ts';
import { extensionUrls } from '../extensions.ts';
import { FAILURE, LOG, REPLY, STARTED, TRAP, epochMs, fromWire, type Request, type WorkerMessage, type WorkerStart } from './protocol.ts';

export interface IsolatedComponentOptions extends LiveComponentOptions {
  /** V8 heap limits of the worker; the guest's linear memory is capped by the module itself. */
  resourceLimits?: ResourceLimits;
}

/**
 * The worker's JavaScript heap holds lifted arguments and results, log lines and the host's
 * own objects; linear memory and snapshot data are ArrayBuffers outside it (linear memory is
 * capped by memory-limit). A heap much smaller than that data makes V8 collect garbage over
 * and over while a snapshot crosses (measured: a 42 MB restore took 1.0–1.4 s with a 128 MB
 * heap, 0.4 s with 256 MB or more), so the heap is sized after the memory limit.
 */
export function workerLimits(memoryLimitBytes: number): ResourceLimits {
  const memoryMb = Math.ceil(memoryLimitBytes / (1024 * 1024));
  return { maxOldGenerationSizeMb: Math.min(128 + 2 * memoryMb, 4096), maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };
}
/** Snapshot and restore work in proportion to the data; like LiveComponent's, they get at least this long. */
const LIFECYCLE_TIMEOUT_MS = 30_000;
/** A new worker loads its code before it boots the component; that time is not the guest's. */
const WORKER_START_TIMEOUT_MS = 30_000;
/**
 * How long after a deadline a worker whose event loop is free may take to answer (its own
 * LiveComponent fails the call at the deadline) before it is taken for stuck: a guest
 * spinning after it resumed from a suspending host call is not seen as busy.
 */
const ANSWER_GRACE_MS = 200;
const WORKER_URL = siblingModule('isolation-worker', import.meta.url);

interface Pending {
  readonly id: number;
  /** The function, or the lifecycle step (`init`, `snapshot`, `restore`), for messages. */
  readonly label: string;
  timeoutMs: number;
  /** `performance.now()` past which the request has overrun. */
  deadline: number;
  resolve(value: unknown): void;
  reject(err: TesseraError): void;
}

/** One worker and the requests it has not answered. */
interface Thread {
  readonly worker: Worker;
  readonly busy: Int32Array;
  readonly pending: Map<number, Pending>;
  /** Whether this worker replaces one that was lost or given up (its failures are traps, not load errors). */
  readonly restart: boolean;
  /** The boot request: `init` (and the restore of a parked snapshot); every later request waits behind it. */
  bootId: number;
  booted: Promise<void>;
  /** Why the worker is going away; set once, when it is stopped or found dead. */
  lost: TesseraError | undefined;
  /** Resolved when nothing is pending. */
  idleWaiters: (() => void)[];
  /** Requests not yet posted: those made in one synchronous run go as one message. */
  outbox: Request[];
  exited: boolean;
}

/** `component "x" (type): ...` or `component "x" failed to start: ...` -> what follows. */
const bare = (message: string): string => message.replace(/^component "[^"]*"(?: \([^)]*\))?(?::| failed to start:) /, '');

export class IsolatedComponent implements GuestComponent {
  readonly name: string;
  readonly compiled: CompiledComponent;
  readonly config: ReadonlyMap<string, string>;
  readonly loadedAt: Date;
  readonly #options: IsolatedComponentOptions;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #queueLimit: number;
  readonly #prepared: PreparedComponent;
  #thread: Thread | undefined;
  #nextId = 1;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #features: ReadonlySet<string> = new Set();
  /** A snapshot taken when the worker was given up (hibernation); the next worker restores it. */
  #parked: SnapshotData | undefined;
  /** Set while hibernating: calls wait, then wake a new worker. */
  #gate: Promise<void> | undefined;
  /** Errors already told to `onTrap`. */
  readonly #reported = new WeakSet<TesseraError>();
  #closed = false;

  private constructor(compiled: CompiledComponent, options: IsolatedComponentOptions) {
    this.name = options.name;
    this.compiled = compiled;
    this.config = options.config;
    this.loadedAt = new Date();
    this.#options = options;
    this.#logger = rateLimitedLogger(options.logger);
    this.#timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.#prepared = compiled.prepared();
  }

  /** Starts a worker, which instantiates, calls `init(config)` and reads `features()`; refuses with ERR_COMPONENT_LOAD. */
  static async start(compiled: CompiledComponent, options: IsolatedComponentOptions): Promise<IsolatedComponent> {
    if (compiled.code.format === 'component-model') {
      throw new TesseraError(
        'ERR_COMPONENT_LOAD',
        `component "${options.name}" is a Component Model binary, which tessera.dev/isolation: thread does not run (it runs core modules); use tessera.dev/isolation: inline`,
      );
    }
    const isolated = new IsolatedComponent(compiled, options);
    try {
      await isolated.#spawn(false).booted;
    } catch (err) {
      if (isTesseraError(err, 'ERR_COMPONENT_LOAD') && err.message.startsWith(`component "${options.name}" failed to start`)) throw err;
      const componentError = isTesseraError(err) ? err.componentError : undefined;
      throw new TesseraError('ERR_COMPONENT_LOAD', `component "${options.name}" failed to start: ${bare((err as Error).message)}`, { cause: err, componentError });
    }
    return isolated;
  }

  get features(): ReadonlySet<string> {
    return this.#features;
  }

  get supportsSnapshot(): boolean {
    return canSnapshot(this.compiled.optionalExports);
  }

  /**
   * True while no worker runs (hibernating, or lost after a deadline or a crash). A worker
   * whose instance trapped is not idle: it boots a new instance on the next call in
   * milliseconds, and hibernation is what gives its thread back.
   */
  get idle(): boolean {
    return this.#thread === undefined;
  }

  /** The thread id of the worker running the component, while one does (diagnostics). */
  get threadId(): number | undefined {
    return this.#thread?.worker.threadId;
  }

  call(fn: string, args: unknown[]): Promise<unknown> {
    const thread = this.#thread;
    if (thread === undefined || this.#gate !== undefined) return this.#callLater(fn, args);
    return this.#request(thread, { op: 'call', id: 0, fn, args, sentAt: epochMs(), timeoutMs: this.#timeoutMs }, fn, this.#timeoutMs);
  }

  async #callLater(fn: string, args: unknown[]): Promise<unknown> {
    while (this.#gate !== undefined) await this.#gate;
    const thread = this.#ensureThread();
    return this.#request(thread, { op: 'call', id: 0, fn, args, sentAt: epochMs(), timeoutMs: this.#timeoutMs }, fn, this.#timeoutMs);
  }

  async snapshot(): Promise<SnapshotData | undefined> {
    if (!this.supportsSnapshot) return undefined;
    while (this.#gate !== undefined) await this.#gate;
    const thread = this.#thread;
    if (thread === undefined) return this.#parked;
    return (await this.#request(thread, { op: 'snapshot', id: 0 }, 'snapshot', this.#lifecycleTimeout)) as SnapshotData | undefined;
  }

  async restore(data: SnapshotData): Promise<void> {
    while (this.#gate !== undefined) await this.#gate;
    await this.#request(this.#ensureThread(), { op: 'restore', id: 0, data }, 'restore', this.#lifecycleTimeout);
  }

  /**
   * Gives up the worker, keeping a snapshot when the component can take one; the next call
   * starts a new worker that restores it. When the snapshot fails the worker stays and this rejects.
   */
  async hibernate(): Promise<void> {
    while (this.#gate !== undefined) await this.#gate;
    const thread = this.#thread;
    if (thread === undefined) return;
    let release!: () => void;
    this.#gate = new Promise((resolve) => (release = resolve));
    try {
      // Queued after every call already sent, so it sees their writes; calls sent from now wait at the gate.
      const data = this.supportsSnapshot ? ((await this.#request(thread, { op: 'snapshot', id: 0 }, 'snapshot', this.#lifecycleTimeout)) as SnapshotData | undefined) : undefined;
      await this.#whenIdle(thread);
      if (thread.lost !== undefined) return;
      this.#parked = data;
      await this.#retire(thread, `component "${this.name}" hibernated`);
    } finally {
      this.#gate = undefined;
      release();
    }
  }

  /** Stops starting workers; once the requests already sent are answered (or met their deadlines), ends the worker. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#gate !== undefined) await this.#gate;
    const thread = this.#thread;
    if (thread === undefined) return;
    await this.#whenIdle(thread);
    await this.#retire(thread, `component "${this.name}" is unloaded`);
  }

  get #lifecycleTimeout(): number {
    return Math.max(this.#timeoutMs, LIFECYCLE_TIMEOUT_MS);
  }

  #ensureThread(): Thread {
    if (this.#thread !== undefined) return this.#thread;
    if (this.#closed) throw new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" is unloaded`);
    try {
      return this.#spawn(true);
    } catch (err) {
      // `new Worker` itself failed (the process is out of threads or memory).
      const error = new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" could not be restarted: its worker thread did not start: ${(err as Error).message}`, { cause: err });
      this.#trap(error);
      throw error;
    }
  }

  /** A new worker with its boot request sent; requests sent after it wait behind the boot. */
  #spawn(restart: boolean): Thread {
    const busy = new SharedArrayBuffer(4);
    // The logger and onTrap stay here (the worker posts what it would tell them); the rest is plain data.
    const { logger, onTrap, config, resourceLimits, ...options } = this.#options;
    const workerData: WorkerStart = {
      prepared: this.#prepared,
      // The CPU slice keeps one call from holding the event loop the others need; on its own
      // thread a call holds nobody's loop, so it runs to its deadline (and budget) unpaused.
      options: { ...options, callTimeoutMs: this.#timeoutMs, cpuSliceMs: Math.max(options.cpuSliceMs ?? 0, this.#timeoutMs) },
      config: [...config],
      logLevels: LOG_LEVELS.filter((level) => logger.isEnabled(level)),
      busy,
      extensions: extensionUrls(),
    };
    const worker = new Worker(WORKER_URL, { workerData, resourceLimits: { ...workerLimits(this.compiled.memoryLimitBytes), ...resourceLimits } });
    const thread: Thread = { worker, busy: new Int32Array(busy), pending: new Map(), restart, bootId: 0, booted: Promise.resolve(), lost: undefined, idleWaiters: [], outbox: [], exited: false };
    this.#thread = thread;
    worker.on('message', (batch: WorkerMessage[]) => this.#onMessages(thread, batch));
    worker.on('error', (err: Error) => this.#died(thread, `its worker thread failed: ${err.message}`));
    worker.on('messageerror', (err: Error) => this.#died(thread, `its worker thread sent an unreadable message: ${err.message}`));
    worker.on('exit', (code) => this.#exited(thread, code));

    const parked = this.#parked;
    const boot = this.#request(thread, { op: 'boot', id: 0, parked }, 'init', this.#timeoutMs + WORKER_START_TIMEOUT_MS);
    thread.bootId = this.#nextId - 1;
    thread.booted = boot.then(
      (features) => {
        this.#features = new Set(features as string[]);
        if (this.#parked === parked) this.#parked = undefined;
      },
      (err: TesseraError) => {
        const error = restart ? new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" could not be restarted: ${bare(err.message)}`, { cause: err }) : err;
        // A worker stopped or found dead was reported then.
        if (restart && thread.lost === undefined) this.#trap(error);
        this.#lose(thread, error);
        throw error;
      },
    );
    // A restart's failure reaches the requests waiting behind it; nobody awaits `booted` itself.
    if (restart) thread.booted.catch(() => undefined);
    return thread;
  }

  #request(thread: Thread, request: Request, label: string, timeoutMs: number): Promise<unknown> {
    if (thread.lost !== undefined) return Promise.reject(thread.lost);
    if (thread.pending.size >= this.#queueLimit) {
      return Promise.reject(
        new TesseraError('ERR_COMPONENT_BUSY', `component "${this.name}" has ${thread.pending.size} calls waiting, its limit (tessera.dev/queue-limit); ${label} was refused`),
      );
    }
    const id = this.#nextId++;
    request.id = id;
    return new Promise((resolve, reject) => {
      const pending: Pending = { id, label, timeoutMs, deadline: performance.now() + timeoutMs, resolve, reject };
      thread.pending.set(id, pending);
      // An idle worker does not keep the process alive; one with work pending does.
      if (thread.pending.size === 1) thread.worker.ref();
      thread.outbox.push(request);
      if (thread.outbox.length === 1) queueMicrotask(() => this.#flush(thread));
      this.#arm(pending.deadline);
    });
  }

  /** Posts the requests made since the last flush as one message (a message costs far more than its size). */
  #flush(thread: Thread): void {
    const batch = thread.outbox;
    thread.outbox = [];
    if (thread.lost !== undefined && thread.exited) {
      for (const request of batch) this.#fail(thread, request.id, this.#lostWith(thread, request.id));
      return;
    }
    try {
      thread.worker.postMessage(batch);
    } catch {
      // One of them cannot be cloned: each goes alone, and one that cannot fails.
      for (const request of batch) {
        try {
          thread.worker.postMessage([request]);
        } catch (err) {
          const label = thread.pending.get(request.id)?.label ?? request.op;
          this.#fail(thread, request.id, new TesseraError('ERR_INTERNAL', `component "${this.name}": ${label} could not be passed to its worker thread: ${(err as Error).message}`));
        }
      }
    }
  }

  #fail(thread: Thread, id: number, error: TesseraError): void {
    const pending = thread.pending.get(id);
    if (pending === undefined) return;
    this.#settled(thread, id);
    pending.reject(error);
  }

  /** What a request still pending when its worker ended fails with. */
  #lostWith(thread: Thread, id: number): TesseraError {
    const lost = thread.lost!;
    if (id === thread.bootId) return lost;
    const label = thread.pending.get(id)?.label ?? 'a request';
    return new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" (${this.compiled.manifest.type}): ${label} did not complete: its worker thread was stopped (${bare(lost.message)})`);
  }

  #onMessages(thread: Thread, batch: WorkerMessage[]): void {
    for (const message of batch) this.#onMessage(thread, message);
  }

  #onMessage(thread: Thread, message: WorkerMessage): void {
    switch (message.kind) {
      case REPLY:
      case FAILURE: {
        const pending = thread.pending.get(message.id);
        if (pending === undefined) return;
        this.#settled(thread, message.id);
        if (message.kind === REPLY) pending.resolve(message.value);
        else pending.reject(fromWire(message.error));
        return;
      }
      case TRAP: {
        const error = fromWire(message.error);
        this.#reported.add(error);
        this.#options.onTrap?.(error);
        return;
      }
      case LOG:
        this.#options.logger[message.level](message.message, message.fields);
        return;
      case STARTED: {
        // Deadlines count from now: loading the worker's code is not the guest's time (the
        // worker counts a call's wait from its start too).
        const now = performance.now();
        for (const pending of thread.pending.values()) pending.deadline = Math.max(pending.deadline, now + pending.timeoutMs);
        const boot = thread.pending.get(thread.bootId);
        if (boot !== undefined) {
          boot.timeoutMs = this.#timeoutMs;
          boot.deadline = now + this.#timeoutMs;
          this.#arm(boot.deadline);
        }
        return;
      }
    }
  }

  #settled(thread: Thread, id: number): void {
    thread.pending.delete(id);
    if (thread.pending.size > 0) return;
    thread.worker.unref();
    for (const resolve of thread.idleWaiters.splice(0)) resolve();
  }

  #whenIdle(thread: Thread): Promise<void> {
    if (thread.pending.size === 0 || thread.lost !== undefined) return Promise.resolve();
    return new Promise((resolve) => thread.idleWaiters.push(resolve));
  }

  /** One timer for the earliest deadline of the current worker's requests. */
  #arm(at: number): void {
    if (at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#watch(), Math.max(1, Math.ceil(at - performance.now())));
    this.#timer.unref();
  }

  /**
   * At a deadline: a request past it that the worker is still running synchronously is a
   * guest spinning in wasm, so the worker is terminated. A request past it while the
   * worker's event loop is free gets ANSWER_GRACE_MS for the worker's own answer (its
   * LiveComponent fails the call at the deadline); past that the worker is taken for stuck.
   * A request waiting behind a running one (or behind the boot, which comes first) is
   * bounded by the running one's deadline.
   */
  #watch(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const thread = this.#thread;
    if (thread === undefined || thread.lost !== undefined || thread.pending.size === 0) return;
    const now = performance.now();
    const running = this.#running(thread);
    if (running !== undefined && running.deadline <= now) return this.#overran(thread, running);
    let next = running?.deadline ?? Infinity;
    for (const pending of thread.pending.values()) {
      if (pending.deadline > now) next = Math.min(next, pending.deadline);
      else if (running === undefined) {
        if (pending.deadline + ANSWER_GRACE_MS <= now) return this.#overran(thread, pending);
        next = Math.min(next, pending.deadline + ANSWER_GRACE_MS);
      }
    }
    if (next !== Infinity) this.#arm(next);
  }

  /** The request the worker is running synchronously, if any: the boot while it is pending (everything waits behind it). */
  #running(thread: Thread): Pending | undefined {
    return thread.pending.get(thread.bootId) ?? thread.pending.get(Atomics.load(thread.busy, 0));
  }

  #overran(thread: Thread, culprit: Pending): void {
    const message = `component "${this.name}" (${this.compiled.manifest.type}): ${culprit.label} did not finish within its call timeout of ${culprit.timeoutMs} ms`;
    const error = new TesseraError('ERR_COMPONENT_TRAP', message);
    this.#logger.error(`${message}; its worker thread was stopped`);
    // A first start that overran is a load failure, told by `start`, not a trap.
    if (culprit.id !== thread.bootId || thread.restart) this.#trap(error);
    this.#settled(thread, culprit.id);
    culprit.reject(error);
    this.#lose(thread, error);
  }

  /** The worker died (an uncaught exception, out of memory) or sent what cannot be read. */
  #died(thread: Thread, why: string): void {
    if (thread.lost !== undefined) return;
    const running = this.#running(thread);
    const message = `component "${this.name}" (${this.compiled.manifest.type})${running ? ` failed in ${running.label}` : ''}: ${why}`;
    const error = new TesseraError('ERR_COMPONENT_TRAP', message);
    this.#logger.error(message);
    if (thread.restart || !thread.pending.has(thread.bootId)) this.#trap(error);
    this.#lose(thread, error);
  }

  #exited(thread: Thread, code: number): void {
    if (thread.lost === undefined) this.#died(thread, `its worker thread exited (code ${code})`);
    thread.exited = true;
    // Answers the worker posted before it ended were delivered before 'exit'; the rest are lost.
    for (const id of [...thread.pending.keys()]) this.#fail(thread, id, this.#lostWith(thread, id));
    for (const resolve of thread.idleWaiters.splice(0)) resolve();
  }

  #trap(error: TesseraError): void {
    if (this.#reported.has(error)) return;
    this.#reported.add(error);
    this.#options.onTrap?.(error);
  }

  /** Ends a worker after a failure: the next call starts a fresh one. */
  #lose(thread: Thread, error: TesseraError): void {
    if (thread.lost !== undefined) return;
    thread.lost = error;
    void this.#drop(thread);
  }

  /** Ends a worker on purpose (hibernation, close): nothing is pending, nothing is reported. Resolves once it has exited. */
  async #retire(thread: Thread, why: string): Promise<void> {
    if (thread.lost !== undefined) return;
    thread.lost = new TesseraError('ERR_COMPONENT_TRAP', why);
    await this.#drop(thread);
  }

  #drop(thread: Thread): Promise<unknown> {
    if (this.#thread === thread) {
      this.#thread = undefined;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
    }
    // Terminating stops a worker even mid-wasm, in a few milliseconds; 'exit' settles what is left.
    return thread.worker.terminate();
  }
}
