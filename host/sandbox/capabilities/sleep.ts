// `sleep`: suspends the calling component (JSPI) while the event loop keeps serving. A sleep
// never ends before the time asked for, as the component's own `clock.monotonic-ns` measures
// it: Node's timers may fire up to a millisecond early (libuv counts from the loop's cached
// time), so the rest is waited again, measured on that same clock. It never asks Node for a
// timer past its range (which Node would shorten to 1 ms with a warning per call): the call's
// deadline ends such a sleep long before, so it is capped instead.
import { setTimeout as delay } from 'node:timers/promises';
import type { Capability } from './capability.ts';
import { MAX_TIMER_MS } from '../../units.ts';
import { monotonicNs } from './clock.ts';

export const sleepCapability: Capability = {
  interface: 'sleep',
  async: new Set(['sleep-ms']),
  build({ onDispose }) {
    // A dropped instance must not sleep on: its pending sleeps reject, unwinding its stack.
    const abort = new AbortController();
    onDispose(() => abort.abort());
    return {
      'sleep-ms': async (ms: number) => {
        const until = monotonicNs() + BigInt(ms) * 1_000_000n;
        let left = ms;
        while (left > 0) {
          await delay(Math.min(Math.ceil(left), MAX_TIMER_MS), undefined, { signal: abort.signal });
          left = Number(until - monotonicNs()) / 1e6;
        }
      },
    };
  },
};
