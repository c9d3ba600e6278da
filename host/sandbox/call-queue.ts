// The calls waiting for one component instance, run one at a time (a suspended instance
// must not be re-entered), each with a deadline counted from when it was queued, in a queue
// of bounded length: a call that waits too long fails without ever running, a running call
// past its deadline is abandoned (its owner stops the instance from the inside) and the
// queue moves on, and a call that finds the queue full fails at once.
import { TesseraError } from '../errors.ts';
import { DEFAULT_QUEUE_LIMIT } from './default-limits.ts';

interface Task {
  readonly label: string;
  readonly run: () => Promise<unknown>;
  /** Stops the work of a task that is running past its deadline; its promise is abandoned. */
  readonly abandon: () => TesseraError;
  state: 'waiting' | 'running' | 'done';
  timer: NodeJS.Timeout | undefined;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * The head of the queue runs; when it settles (or is abandoned at its deadline) the next
 * waiting call starts in the same step. No promise of the queue's own per call, no async
 * drain loop: a call through an idle queue costs one promise (the caller's), one timer and
 * the `then` step on its work, as a suspending component's every call goes through here.
 */
export class CallQueue {
  readonly #component: string;
  readonly #limit: number;
  readonly #tasks: Task[] = [];
  #idle: (() => void)[] = [];

  constructor(component: string, limit = DEFAULT_QUEUE_LIMIT) {
    this.#component = component;
    this.#limit = limit;
  }

  /** Calls queued or running. */
  get length(): number {
    return this.#tasks.length;
  }

  /**
   * Runs `run` after the calls before it, within `timeoutMs` of now. Past the deadline the
   * returned promise rejects: with ERR_COMPONENT_TIMEOUT if the call never started, else
   * with what `abandon` returns (it stops the running work).
   */
  push<T>(label: string, timeoutMs: number, run: () => Promise<T>, abandon: () => TesseraError): Promise<T> {
    if (this.#tasks.length >= this.#limit) {
      return Promise.reject(
        new TesseraError('ERR_COMPONENT_BUSY', `component "${this.#component}" has ${this.#tasks.length} calls waiting, its limit (tessera.dev/queue-limit); ${label} was refused`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const task: Task = { label, run, abandon, state: 'waiting', timer: undefined, resolve: resolve as (value: unknown) => void, reject };
      const queuedAt = performance.now();
      task.timer = setTimeout(() => this.#expire(task, queuedAt, timeoutMs), timeoutMs);
      this.#tasks.push(task);
      if (this.#tasks.length === 1) this.#start(task);
    });
  }

  #start(task: Task): void {
    task.state = 'running';
    let running: Promise<unknown>;
    try {
      running = task.run();
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (value) => this.#settle(task, true, value),
      (err: unknown) => this.#settle(task, false, err),
    );
  }

  #settle(task: Task, ok: boolean, outcome: unknown): void {
    // Abandoned at its deadline: its caller has its error and the queue moved on then.
    if (task.state === 'done') return;
    task.state = 'done';
    clearTimeout(task.timer);
    if (ok) task.resolve(outcome);
    else task.reject(outcome);
    this.#next();
  }

  #expire(task: Task, queuedAt: number, timeoutMs: number): void {
    if (task.state === 'done') return;
    const waited = task.state === 'waiting';
    task.state = 'done';
    task.reject(
      waited
        ? new TesseraError(
            'ERR_COMPONENT_TIMEOUT',
            `component "${this.#component}": ${task.label} waited ${Math.round(performance.now() - queuedAt)} ms behind other calls and did not start within its call timeout of ${timeoutMs} ms`,
          )
        : task.abandon(),
    );
    // A waiting call stays in line, skipped when it comes to the head; the running one is left behind.
    if (!waited) this.#next();
  }

  /** The head is done: starts the next call still waiting, or tells the idle waiters. */
  #next(): void {
    const tasks = this.#tasks;
    tasks.shift();
    while (tasks.length > 0 && tasks[0]!.state === 'done') tasks.shift();
    if (tasks.length > 0) {
      this.#start(tasks[0]!);
      return;
    }
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves once no call is queued or running. */
  whenIdle(): Promise<void> {
    if (this.#tasks.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
