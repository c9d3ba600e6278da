// `sleep`: suspends the calling component (JSPI) while the event loop keeps serving.
import { setTimeout as delay } from 'node:timers/promises';
import type { Capability } from './capability.ts';

export const sleepCapability: Capability = {
  interface: 'sleep',
  async: new Set(['sleep-ms']),
  build({ onDispose }) {
    // A dropped instance must not sleep on: its pending sleeps reject, unwinding its stack.
    const abort = new AbortController();
    onDispose(() => abort.abort());
    return {
      'sleep-ms': (ms: number) => delay(ms, undefined, { signal: abort.signal }),
    };
  },
};
