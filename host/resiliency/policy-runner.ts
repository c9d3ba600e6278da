// Runs one operation under a target's policies, composed as Dapr composes them: each attempt
// passes the circuit breaker and runs under the timeout; a failed attempt is retried by the
// retry policy (after its backoff) while it allows, the breaker counting every attempt. A call
// the breaker refuses is not retried: it fails at once, naming the breaker.
import { abortablePause } from '../building-blocks/abortable-pause.ts';
import { backoffMs, retriable } from './retry-backoff.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { PolicyMeter } from '../observability/resiliency-observer.ts';
import type { RetryPolicy } from './resiliency-document.ts';

/** The policies that apply to one target (an app, a component's outbound or inbound calls). */
export interface TargetPolicy {
  /** What the policies guard, for messages: `app "b"`, `component "statestore" (outbound)`. */
  target: string;
  timeoutMs?: number;
  retry?: RetryPolicy;
  breaker?: CircuitBreaker;
  /** Counts the runs and what the policies did (dapr_resiliency_*); none with metrics off. */
  meter?: PolicyMeter;
}

/** An attempt ran past the policy's timeout (and was aborted). */
export class PolicyTimeoutError extends Error {
  override name = 'PolicyTimeoutError';
  readonly target: string;
  readonly timeoutMs: number;

  constructor(target: string, timeoutMs: number) {
    super(`${target}: timed out after ${timeoutMs} ms (resiliency timeout)`);
    this.target = target;
    this.timeoutMs = timeoutMs;
  }
}

/** The status a failure carries, which a retry policy's `matching` looks at. */
export interface FailureStatus {
  http?: number;
  grpc?: number;
}

export interface RunOptions<T> {
  /** Ends the run: no more attempts, no more waiting. */
  signal?: AbortSignal;
  /** A returned value that counts as a failure (an app's 5xx), with its status; undefined: a success. */
  failureOf?(value: T): FailureStatus | undefined;
  /** The status of a thrown error, for `matching`; none: any retry policy retries it. */
  statusOf?(err: unknown): FailureStatus;
  /** A thrown error no retry can fix (the caller's bad request): it fails at once. */
  permanent?(err: unknown): boolean;
  /** False for a thrown error that is an answer, not a failure (an ETag mismatch): rethrown at once, and a success to the breaker. */
  isFailure?(err: unknown): boolean;
}

/** A policy that does nothing: the operation runs once, as it is. */
export const NO_POLICY: TargetPolicy = { target: 'none' };

/** Whether `policy` does anything: one without a timeout, retry or breaker runs the operation once, as it is. */
export const hasPolicies = (policy: TargetPolicy | undefined): policy is TargetPolicy =>
  policy !== undefined && (policy.timeoutMs !== undefined || policy.retry !== undefined || policy.breaker !== undefined);

const NEVER = new AbortController().signal;
const noop = (): void => {};

/** One attempt under the timeout: the operation's own signal aborts when the timeout or the run's signal fires. */
async function attempt<T>(policy: TargetPolicy, op: (signal: AbortSignal) => Promise<T>, outer: AbortSignal, onTimeout: () => void): Promise<T> {
  if (policy.timeoutMs === undefined || policy.timeoutMs <= 0) return op(outer);
  const controller = new AbortController();
  const stop = (): void => controller.abort(outer.reason);
  outer.addEventListener('abort', stop);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new PolicyTimeoutError(policy.target, policy.timeoutMs!);
      onTimeout();
      controller.abort(err);
      reject(err);
    }, policy.timeoutMs);
  });
  try {
    return await Promise.race([op(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', stop);
  }
}

/** Runs `op` under `policy`; resolves with its value (perhaps one that counts as a failure, once retries are spent) or rejects with its last error. */
export async function runWithPolicy<T>(policy: TargetPolicy, op: (signal: AbortSignal) => Promise<T>, options: RunOptions<T> = {}): Promise<T> {
  if (!hasPolicies(policy)) return op(options.signal ?? NEVER);
  const signal = options.signal ?? NEVER;
  const meter = policy.meter;
  meter?.executed();
  // daprd counts a timeout's activation once per run, however many attempts it cuts.
  let timedOut = false;
  const onTimeout =
    meter === undefined
      ? noop
      : (): void => {
          if (!timedOut) meter.timedOut();
          timedOut = true;
        };
  for (let retry = 0; ; retry++) {
    const generation = policy.breaker?.admit();
    let failure: FailureStatus | undefined;
    let thrown: { err: unknown } | undefined;
    let value: T | undefined;
    try {
      value = await attempt(policy, op, signal, onTimeout);
      failure = options.failureOf?.(value);
    } catch (err) {
      if (options.isFailure?.(err) === false) {
        if (generation !== undefined) policy.breaker!.done(generation, true);
        throw err;
      }
      thrown = { err };
      failure = options.statusOf?.(err) ?? {};
    }
    if (generation !== undefined) policy.breaker!.done(generation, failure === undefined);
    if (failure === undefined) return value as T;
    const mayRetry =
      policy.retry !== undefined &&
      !signal.aborted &&
      (policy.retry.maxRetries < 0 || retry < policy.retry.maxRetries) &&
      !(thrown !== undefined && options.permanent?.(thrown.err)) &&
      retriable(policy.retry, failure);
    if (!mayRetry) {
      if (thrown !== undefined) throw thrown.err;
      return value as T;
    }
    meter?.retried();
    await abortablePause(backoffMs(policy.retry!, retry), signal);
    if (signal.aborted) {
      if (thrown !== undefined) throw thrown.err;
      return value as T;
    }
  }
}
