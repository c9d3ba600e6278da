// A logger for everything one component causes (its own log lines, its traps, its refusals),
// with one token bucket behind all of them: however a component makes the sidecar log, it
// gets at most a burst and then a steady rate; what is dropped is counted and said with the
// next line let through.
import type { Logger, LogLevel } from './logger.ts';
import { TokenBucket } from './token-bucket.ts';

/** Lines a component may cause in a burst, and per second after it. */
export const COMPONENT_LOG_BURST = 200;
export const COMPONENT_LOG_PER_SECOND = 100;

/**
 * `logger` behind `bucket`; `source` names what caused the lines in the line that says how
 * many were dropped (`this component`, `failed HTTP API calls`).
 */
export function rateLimitedLogger(
  logger: Logger,
  bucket = new TokenBucket(COMPONENT_LOG_BURST, COMPONENT_LOG_PER_SECOND),
  source = 'this component',
): Logger {
  let dropped = 0;
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (!logger.isEnabled(level)) return;
    if (!bucket.take()) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      logger.warn(`${dropped} log lines of ${source} dropped: more than ${bucket.perSecond} lines a second`);
      dropped = 0;
    }
    logger[level](message, fields);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (scope) => rateLimitedLogger(logger.child(scope), bucket, source),
    isEnabled: (level) => logger.isEnabled(level),
  };
}
