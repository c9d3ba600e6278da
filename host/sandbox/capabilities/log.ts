// `log`: a component's log lines go into the sidecar's log, scoped to the component,
// truncated, and rate-limited per instance (a token bucket), so a chatty or hostile module
// cannot flood the log: what is dropped is counted and reported with the next line let through.
import type { Capability } from './capability.ts';

const MAX_MESSAGE = 8192;
/** Lines an instance may write in a burst, and per second after it. */
const BURST = 200;
const PER_SECOND = 100;

export const logCapability: Capability = {
  interface: 'log',
  async: new Set(),
  build({ logger }) {
    let tokens = BURST;
    let refilledAt = Date.now();
    let dropped = 0;
    return {
      log(level: string, message: string) {
        const now = Date.now();
        tokens = Math.min(BURST, tokens + ((now - refilledAt) / 1000) * PER_SECOND);
        refilledAt = now;
        if (tokens < 1) {
          dropped++;
          return;
        }
        tokens--;
        if (dropped > 0) {
          logger.warn(`${dropped} log lines dropped: the component logs more than ${PER_SECOND} lines a second`);
          dropped = 0;
        }
        const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}… (truncated)` : message;
        switch (level) {
          case 'trace':
          case 'debug':
            return logger.debug(text);
          case 'info':
            return logger.info(text);
          case 'warn':
            return logger.warn(text);
          default:
            return logger.error(text);
        }
      },
    };
  },
};
