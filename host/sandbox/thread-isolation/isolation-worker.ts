// The worker-thread side of `tessera.dev/isolation: thread`: one LiveComponent, driven by an
// IsolatedComponent (isolated-component.ts) on the main thread. Requests come in batches and
// are handled in order; what goes back (answers, traps, log lines, which are truncated and
// rate-limited) leaves as one message per turn of the event loop. The id of the request
// running is kept in shared memory, so the main thread can tell a guest spinning in wasm
// (stopped by terminating this worker) from an answer still on its way.
import { parentPort, workerData } from 'node:worker_threads';
import { TesseraError, truncate } from '../../errors.ts';
import { MAX_LOG_MESSAGE_CHARS, type Logger, type LogLevel } from '../../observability/logger.ts';
import { rateLimitedLogger } from '../../observability/rate-limited-logger.ts';
import { CompiledComponent } from '../compiled-component.ts';
import { loadExtensions } from '../extensions.ts';
import type { SnapshotData } from '../guest-component.ts';
import { LiveComponent } from '../live-component.ts';
import { FAILURE, LOG, REPLY, STARTED, TRAP, epochMs, toWire, type Request, type WorkerMessage, type WorkerStart } from './protocol.ts';

const start = workerData as WorkerStart;
const { name } = start.options;
const port = parentPort!;
const busy = new Int32Array(start.busy);
// The kinds and capabilities the main thread added, before the component that may use them.
await loadExtensions(start.extensions);
const compiled = CompiledComponent.fromPrepared(start.prepared);
/** When this worker was ready for requests (its code loaded). */
const startedAt = epochMs();

interface Outgoing {
  message: WorkerMessage;
  /** Buffers that move instead of being copied (snapshot chunks). */
  transfer: ArrayBuffer[] | undefined;
  /** For a reply: what it answers, should it fail to cross. */
  label?: string;
}

/** What goes to the main thread at the next turn: one message however many requests a turn answered. */
let outbox: Outgoing[] = [];
let flushing = false;

function post(message: WorkerMessage, transfer?: ArrayBuffer[], label?: string): void {
  outbox.push({ message, transfer, ...(label === undefined ? {} : { label }) });
  schedule();
}

function schedule(): void {
  if (flushing) return;
  flushing = true;
  setImmediate(turn);
}

/** The event loop turned: the requests handled and their microtasks are done. */
function turn(): void {
  flushing = false;
  Atomics.store(busy, 0, 0);
  flush();
}

function flush(): void {
  if (outbox.length === 0) return;
  const batch = outbox;
  outbox = [];
  const transfer = batch.flatMap((o) => o.transfer ?? []);
  try {
    port.postMessage(batch.map((o) => o.message), transfer);
  } catch {
    // One of them cannot be cloned: each goes alone, and a reply that cannot becomes a failure.
    for (const o of batch) postAlone(o);
  }
}

function postAlone({ message, label }: Outgoing): void {
  try {
    port.postMessage([message]);
  } catch (err) {
    if (message.kind !== REPLY) return;
    const why = err instanceof Error ? err.message : String(err);
    const error = new TesseraError('ERR_COMPONENT_TRAP', `component "${name}": the result of ${label} could not be passed to the main thread: ${why}`);
    port.postMessage([{ kind: FAILURE, id: message.id, error: toWire(error) }]);
  }
}

/**
 * A logger that posts its lines to the main thread, each truncated, behind the same per-
 * component token bucket as inline components (rateLimitedLogger), so a worker cannot flood
 * the main thread with messages whatever the guest does.
 */
function forwardingLogger(enabled: ReadonlySet<LogLevel>): Logger {
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void =>
    post({ kind: LOG, level, message: truncate(message, MAX_LOG_MESSAGE_CHARS), ...(fields === undefined ? {} : { fields }) });
  const logger: Logger = {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    // Lines keep the component's scope; a finer one would need a logger per scope on the main thread.
    child: () => logger,
    isEnabled: (level) => enabled.has(level),
  };
  return rateLimitedLogger(logger);
}

const logger = forwardingLogger(new Set(start.logLevels));
let live: LiveComponent | undefined;
/** Set by the boot request; requests that arrive while it runs wait for it. */
let booting: Promise<LiveComponent> | undefined;

/** Starts the LiveComponent (`init`, `features`) and hands it the parked snapshot, if any. */
async function boot(parked: SnapshotData | undefined): Promise<LiveComponent> {
  const started = await LiveComponent.start(compiled, {
    ...start.options,
    config: new Map(start.config),
    logger,
    onTrap: (error) => post({ kind: TRAP, error: toWire(error) }),
  });
  if (parked !== undefined) {
    try {
      await started.restore(parked);
    } catch (err) {
      await started.close();
      throw err;
    }
  }
  live = started;
  return started;
}

/** Runs `work` now, or once the boot is done (then stamping `id` busy, as it runs from a microtask). */
const withLive = <T>(id: number, work: (l: LiveComponent) => Promise<T>): Promise<T> => {
  if (live !== undefined) return work(live);
  if (booting === undefined) return Promise.reject(new TesseraError('ERR_INTERNAL', `component "${name}": its worker thread got a request before it was started`));
  return booting.then((l) => {
    Atomics.store(busy, 0, id);
    return work(l);
  });
};

/** The buffers of snapshot chunks that own them whole: those move to the main thread instead of being copied. */
function ownedBuffers(data: unknown): ArrayBuffer[] | undefined {
  if (!Array.isArray(data)) return undefined;
  const buffers = new Set<ArrayBuffer>();
  for (const chunk of data as unknown[]) {
    if (chunk instanceof Uint8Array && chunk.buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength) {
      buffers.add(chunk.buffer);
    } else {
      return undefined;
    }
  }
  return [...buffers];
}

function settle(id: number, label: string, work: Promise<unknown>, transfer = false): void {
  work.then(
    (value) => post({ kind: REPLY, id, value }, transfer ? ownedBuffers(value) : undefined, label),
    (err: unknown) => post({ kind: FAILURE, id, error: toWire(err) }),
  );
}

function dispatch(req: Request): void {
  switch (req.op) {
    case 'boot':
      booting = boot(req.parked);
      // The answer goes at once, before the requests waiting for the boot run: until the main
      // thread has it, the boot is what it watches.
      booting.then(
        (l) => {
          post({ kind: REPLY, id: req.id, value: [...l.features] });
          flush();
        },
        (err: unknown) => {
          post({ kind: FAILURE, id: req.id, error: toWire(err) });
          flush();
        },
      );
      return;
    case 'call': {
      // Like a call that waited in LiveComponent's queue past its deadline: it fails without
      // running. Its wait counts from when this worker was ready for it, like its deadline.
      const waited = epochMs() - Math.max(req.sentAt, startedAt);
      if (waited >= req.timeoutMs) {
        const message = `component "${name}": ${req.fn} waited ${Math.round(waited)} ms behind other calls and did not start within its call timeout of ${req.timeoutMs} ms`;
        return settle(req.id, req.fn, Promise.reject(new TesseraError('ERR_COMPONENT_TIMEOUT', message)));
      }
      return settle(req.id, req.fn, withLive(req.id, (l) => l.call(req.fn, req.args)));
    }
    case 'snapshot':
      return settle(req.id, 'snapshot', withLive(req.id, (l) => l.snapshot()), true);
    case 'restore':
      return settle(req.id, 'restore', withLive(req.id, (l) => l.restore(req.data)));
  }
}

port.on('message', (batch: Request[]) => {
  for (const req of batch) {
    // While the boot runs, it is what runs: the requests behind it wait (and stamp themselves when they start).
    if (live !== undefined || booting === undefined) Atomics.store(busy, 0, req.id);
    dispatch(req);
  }
  schedule();
});
post({ kind: STARTED });
