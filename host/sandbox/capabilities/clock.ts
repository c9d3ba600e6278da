// `clock`: wall-clock and monotonic time, the only clocks a component can read.
import type { Capability } from './capability.ts';

/** The component's `clock.monotonic-ns`; `sleep` measures its waits with it too, so a sleep is never short by the component's own clock. */
export const monotonicNs = (): bigint => process.hrtime.bigint();

export const clockCapability: Capability = {
  interface: 'clock',
  async: new Set(),
  flatCost: true,
  build() {
    return {
      'now-ms': () => BigInt(Date.now()),
      'monotonic-ns': monotonicNs,
    };
  },
};
