// `clock`: wall-clock and monotonic time, the only clocks a component can read.
import type { Capability } from './capability.ts';

export const clockCapability: Capability = {
  interface: 'clock',
  async: new Set(),
  flatCost: true,
  build() {
    return {
      'now-ms': () => BigInt(Date.now()),
      'monotonic-ns': () => process.hrtime.bigint(),
    };
  },
};
