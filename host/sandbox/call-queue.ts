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
  /** Resolves when the task is done one way or the other, so the queue can move on. */
  done: Promise<void>;
  finish(): void;
}

export class CallQueue {
  readonly #component: string;
  readonly #limit: number;
  readonly #tasks: Task[] = [];
  #draining = false;
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
      let finish!: () => void;
      const task: Task = {
        label,
        run,
        abandon,
        state: 'waiting',
        timer: undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
        done: new Promise<void>((r) => (finish = r)),
        finish: () => finish(),
      };
      const queuedAt = performance.now();
      task.timer = setTimeout(() => this.#expire(task, queuedAt, timeoutMs), timeoutMs);
      this.#tasks.push(task);
      void this.#drain();
    });
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
    task.finish();
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    while (this.#tasks.length > 0) {
      const task = this.#tasks[0]!;
      if (task.state === 'waiting') {
        task.state = 'running';
        task.run().then(
          (value) => this.#settle(task, () => task.resolve(value)),
          (err: unknown) => this.#settle(task, () => task.reject(err)),
        );
        await task.done;
      }
      this.#tasks.shift();
    }
    this.#draining = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  #settle(task: Task, settle: () => void): void {
    if (task.state === 'done') return;
    task.state = 'done';
    clearTimeout(task.timer);
    settle();
    task.finish();
  }

  /** Resolves once no call is queued or running. */
  whenIdle(): Promise<void> {
    if (this.#tasks.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
