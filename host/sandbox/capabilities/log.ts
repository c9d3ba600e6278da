// `log`: a component's log lines go into the sidecar's log, scoped to the component,
// truncated, and rate-limited per instance (a token bucket), so a chatty or hostile module
// cannot flood the log: what is dropped is counted and reported with the next line let
// through. (The component's logger has a bucket of its own across instances and everything
// else the component causes: see observability/rate-limited-logger.ts.)
import { truncate } from '../../errors.ts';
import { MAX_LOG_MESSAGE_CHARS } from '../../observability/logger.ts';
import { TokenBucket } from '../../observability/token-bucket.ts';
import type { Capability } from './capability.ts';

/** Lines an instance may write in a burst, and per second after it. */
const BURST = 200;
const PER_SECOND = 100;

export const logCapability: Capability = {
  interface: 'log',
  async: new Set(),
  build({ logger }) {
    const bucket = new TokenBucket(BURST, PER_SECOND);
    let dropped = 0;
    return {
      log(level: string, message: string) {
        if (!bucket.take()) {
          dropped++;
          return;
        }
        if (dropped > 0) {
          logger.warn(`${dropped} log lines dropped: the component logs more than ${PER_SECOND} lines a second`);
          dropped = 0;
        }
        const text = truncate(message, MAX_LOG_MESSAGE_CHARS);
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
