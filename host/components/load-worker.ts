// The worker threads that read, parse, check, harden and compile components (load-jobs.ts),
// so none of it runs on the event loop: one job per worker at a time; a job past its deadline
// has its worker terminated and fails naming its file; a second worker starts only for a job
// that waited; idle workers stop after a few seconds.
import module from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TesseraError } from '../errors.ts';
import { siblingModule } from '../package-root.ts';
import { extensionUrls } from '../sandbox/extensions.ts';
import type { LoadJobName, LoadJobs, LoadReply, LoadRequest, LoadThreadData, LowerPriority } from './load-jobs.ts';
import { QUICK_JOB_CPU_MS, lowerThread, threadCpuMs } from './load-priority.ts';

export interface LoadWorkerOptions {
  /** Workers at most; more jobs wait for one. */
  maxWorkers?: number;
  /** A job still running after this long has its worker terminated. */
  deadlineMs?: number;
  /** An idle worker stops after this long. */
  idleMs?: number;
}

/** Preparing a component: checks, hardening, compiling, jco's transpile of a large component. */
export const LOAD_DEADLINE_MS = 30_000;
/**
 * Reading and parsing one resources file (at most 32 MiB) takes well under a second; a read
 * still going after this is stuck (a hung file system, say). A scan waits for its reads.
 */
export const READ_DEADLINE_MS = 10_000;
/**
 * Workers at most: two, so a job that takes seconds (jco on a large component) does not
 * queue the others behind it; not more, as each holds 20-60 MB (its own copy of the code it
 * needs, and its heap). A job that runs long finishes below the event loop's priority
 * (load-priority.ts; once the sidecar is ready), so none can starve it.
 */
const MAX_WORKERS = 2;
/**
 * Another worker starts only while a job has run this long with others waiting (metering a
 * module not seen before, jco on a component): most jobs take milliseconds, and a worker
 * starting (CPU and memory of its own) would only compete with them.
 */
const LONG_JOB_MS = 250;
/**
 * An idle worker stops after this long, so an idle sidecar holds no worker's memory; a
 * change to the resources later starts one again (about 100-300 ms).
 */
const IDLE_MS = 5_000;
/** A worker starts in well under a second (it imports only the readers; the sandbox on its first miss of the prepared cache); one not up after this is stuck. */
const START_DEADLINE_MS = 30_000;
/**
 * Heap of one worker. The largest legitimate job (jco transpiling a 12 MB component) stays
 * well under it; a job that needs more fails alone, naming its file.
 */
const WORKER_HEAP_MB = 512;
const THREAD = siblingModule('load-worker-thread', import.meta.url);

/**
 * The worker's environment: ours, naming the compile cache this thread uses, if on (a worker
 * thread does not share it otherwise, and would strip and compile its modules every start).
 * Node keeps its cache in a per-version folder inside the one it is given.
 */
function workerEnv(): NodeJS.ProcessEnv {
  const dir = module.getCompileCacheDir();
  return dir === undefined ? process.env : { ...process.env, NODE_COMPILE_CACHE: dirname(dir) };
}

type Result<K extends LoadJobName> = Awaited<ReturnType<LoadJobs[K]>>;

interface Job {
  id: number;
  request: LoadRequest;
  deadlineMs: number;
  /** The file the job is about, named in a failure the job cannot word itself. */
  label: string;
  resolve: (value: unknown) => void;
  reject: (error: TesseraError) => void;
}

interface Slot {
  worker: Worker;
  /** Until the worker says it is up (it imports the readers first). */
  starting: boolean;
  job: Job | undefined;
  /** When the worker took its job (performance.now()). */
  jobStartedAt: number;
  /** The CPU its thread had used then (ms), when that can be read. */
  jobCpuAtStart: number | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The worker's thread id, by which its priority is lowered (load-priority.ts); undefined: it lowers itself. */
  tid: number | undefined;
  /** Whether the pool lowered it (for the rest of its life); one with no `tid` lowers itself. */
  lowered: boolean;
  /** Checks whether its job has used QUICK_JOB_CPU_MS yet, and lowers it when it has. */
  lowerTimer: NodeJS.Timeout | undefined;
}

export class LoadWorkers {
  readonly #maxWorkers: number;
  readonly #deadlineMs: number;
  readonly #idleMs: number;
  readonly #slots = new Set<Slot>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  /** Set while jobs wait for busy workers: fires when the oldest running job becomes a long one. */
  #spawnTimer: NodeJS.Timeout | undefined;
  /** Whether long jobs run below the event loop's priority (see `warm`). */
  #background = true;

  constructor(options: LoadWorkerOptions = {}) {
    this.#maxWorkers = options.maxWorkers ?? MAX_WORKERS;
    this.#deadlineMs = options.deadlineMs ?? LOAD_DEADLINE_MS;
    this.#idleMs = options.idleMs ?? IDLE_MS;
  }

  /**
   * Runs `job` on a worker; `label` (the file) names it in a failure the job cannot word
   * itself; `deadlineMs` (the pool's by default) counts from when a worker takes it.
   */
  run<K extends LoadJobName>(job: K, args: Parameters<LoadJobs[K]>, label: string, deadlineMs = this.#deadlineMs): Promise<Result<K>> {
    return new Promise<Result<K>>((resolve, reject) => {
      const id = this.#nextId++;
      this.#queue.push({ id, request: { id, job, args, extensions: extensionUrls() }, deadlineMs, label, resolve: resolve as (value: unknown) => void, reject });
      this.#dispatch();
    });
  }

  /**
   * Starts a worker now if there is none, so the first job does not wait for one to start.
   * `{ foreground: true }` (a sidecar starting, with nothing to serve but health and
   * metadata): even long jobs run at the event loop's priority until `background()`.
   */
  warm({ foreground = false }: { foreground?: boolean } = {}): void {
    if (foreground) this.#background = false;
    if (this.#slots.size === 0) this.#spawn();
  }

  /** From now on, long jobs run below the event loop's priority, so serving never waits for a core. */
  background(): void {
    if (this.#background) return;
    this.#background = true;
    for (const slot of this.#slots) {
      if (slot.tid === undefined) slot.worker.postMessage({ lowerPriority: true } satisfies LowerPriority);
      else this.#lowerIfLong(slot);
    }
  }

  /** Terminates every worker; jobs running or waiting fail. */
  async close(): Promise<void> {
    clearTimeout(this.#spawnTimer);
    this.#spawnTimer = undefined;
    for (const job of this.#queue.splice(0)) job.reject(new TesseraError('ERR_COMPONENT_LOAD', `${job.label}: not loaded: the sidecar is stopping`));
    await Promise.all([...this.#slots].map((slot) => this.#retire(slot, 'not loaded: the sidecar is stopping')));
  }

  /**
   * Gives waiting jobs to workers that are up and free; with jobs still waiting, starts one
   * more worker: at once when there is none, else once a running job is a long one
   * (LONG_JOB_MS). One starts at a time: workers starting together compete for the same
   * cores, and once one is up most jobs take it milliseconds.
   */
  #dispatch(): void {
    while (this.#queue.length > 0) {
      const slot = [...this.#slots].find((s) => !s.starting && s.job === undefined);
      if (slot === undefined) break;
      this.#start(slot, this.#queue.shift()!);
    }
    if (this.#queue.length === 0 || this.#slots.size >= this.#maxWorkers || [...this.#slots].some((s) => s.starting)) return;
    if (this.#slots.size === 0) {
      this.#spawn();
      return;
    }
    const oldest = Math.min(...[...this.#slots].map((s) => (s.job === undefined ? Infinity : s.jobStartedAt)));
    if (oldest === Infinity || this.#spawnTimer !== undefined) return;
    const waitMs = oldest + LONG_JOB_MS - performance.now();
    if (waitMs <= 0) {
      this.#spawn();
      return;
    }
    this.#spawnTimer = setTimeout(() => {
      this.#spawnTimer = undefined;
      this.#dispatch();
    }, waitMs).unref();
  }

  #spawn(): Slot {
    const worker = new Worker(THREAD, { env: workerEnv(), workerData: { background: this.#background } satisfies LoadThreadData, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    // One that never says it is up fails the jobs waiting for it.
    const timer = setTimeout(() => void this.#retire(slot, `the load worker did not start within ${START_DEADLINE_MS / 1000} s`), START_DEADLINE_MS);
    const slot: Slot = { worker, starting: true, job: undefined, jobStartedAt: 0, jobCpuAtStart: undefined, timer, tid: undefined, lowered: false, lowerTimer: undefined };
    worker.on('message', (reply: LoadReply) => {
      if (!('ready' in reply)) return this.#finish(slot, reply);
      clearTimeout(slot.timer);
      slot.starting = false;
      slot.tid = reply.tid;
      this.#idle(slot);
    });
    // An uncaught error or running out of heap ends the worker: its job fails, the next job gets a new worker.
    worker.on('error', (err) => void this.#retire(slot, `the load worker failed: ${err.message}`));
    worker.on('exit', (code) => void this.#retire(slot, `the load worker stopped (exit code ${code})`));
    this.#slots.add(slot);
    return slot;
  }

  #start(slot: Slot, job: Job): void {
    clearTimeout(slot.timer);
    slot.job = job;
    slot.jobStartedAt = performance.now();
    slot.jobCpuAtStart = slot.tid === undefined || slot.lowered ? undefined : threadCpuMs(slot.tid);
    slot.worker.ref();
    slot.timer = setTimeout(() => {
      void this.#retire(slot, `loading took longer than ${job.deadlineMs / 1000} s and was stopped`);
    }, job.deadlineMs);
    slot.worker.postMessage(job.request);
    this.#lowerIfLong(slot);
  }

  /**
   * In the background, lowers the slot's worker once its job has used QUICK_JOB_CPU_MS of
   * CPU (load-priority.ts): checked when that much wall time has passed (a thread cannot have
   * used more CPU than that), then again after the CPU it still has left.
   */
  #lowerIfLong(slot: Slot): void {
    const { tid, job } = slot;
    if (!this.#background || slot.lowered || tid === undefined || job === undefined || slot.lowerTimer !== undefined) return;
    const check = (): void => {
      slot.lowerTimer = undefined;
      if (slot.job !== job || slot.lowered) return;
      const now = threadCpuMs(tid);
      const used = now === undefined || slot.jobCpuAtStart === undefined ? performance.now() - slot.jobStartedAt : now - slot.jobCpuAtStart;
      if (used >= QUICK_JOB_CPU_MS) {
        slot.lowered = true;
        lowerThread(tid);
        return;
      }
      slot.lowerTimer = setTimeout(check, Math.max(QUICK_JOB_CPU_MS - used, 5)).unref();
    };
    slot.lowerTimer = setTimeout(check, Math.max(slot.jobStartedAt + QUICK_JOB_CPU_MS - performance.now(), 0)).unref();
  }

  #finish(slot: Slot, reply: Exclude<LoadReply, { ready: true }>): void {
    const job = slot.job;
    if (job === undefined || job.id !== reply.id) return;
    clearTimeout(slot.timer);
    clearTimeout(slot.lowerTimer);
    slot.lowerTimer = undefined;
    slot.job = undefined;
    if ('error' in reply) job.reject(new TesseraError(reply.error.code, reply.error.message));
    else job.resolve(reply.value);
    this.#idle(slot);
  }

  /** A worker with nothing to do: does not keep the process alive, stops after a while, takes the next job. */
  #idle(slot: Slot): void {
    slot.worker.unref();
    slot.timer = setTimeout(() => void this.#retire(slot, 'idle'), this.#idleMs).unref();
    this.#dispatch();
  }

  /**
   * Stops a worker for good; its job, if any, fails with `why`. A worker that died while
   * starting fails every waiting job instead: the next one would die the same way.
   */
  async #retire(slot: Slot, why: string): Promise<void> {
    if (!this.#slots.delete(slot)) return;
    clearTimeout(slot.timer);
    clearTimeout(slot.lowerTimer);
    const failed = slot.starting ? this.#queue.splice(0) : slot.job === undefined ? [] : [slot.job];
    slot.job = undefined;
    for (const job of failed) job.reject(new TesseraError('ERR_COMPONENT_LOAD', `${job.label}: ${why}`));
    this.#dispatch();
    await slot.worker.terminate();
  }
}

/** The pool every registry and scan shares unless given its own. */
export const loadWorkers = new LoadWorkers();
