// `sleep`: suspends the calling component (JSPI) while the event loop keeps serving.
import { setTimeout as delay } from 'node:timers/promises';
import type { Capability } from './capability.ts';

export const sleepCapability: Capability = {
  interface: 'sleep',
  async: new Set(['sleep-ms']),
  build() {
    return {
      'sleep-ms': (ms: number) => delay(ms),
    };
  },
};
