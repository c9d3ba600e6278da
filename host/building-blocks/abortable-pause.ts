// A pause that ends early when its loop stops: the delivery loops (pub/sub subscriptions,
// input bindings) wait between retries and polls with it, so a stop never waits out a backoff.

/** Resolves after `ms`, or at once when `signal` is (or becomes) aborted. */
export function abortablePause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish);
  });
}
