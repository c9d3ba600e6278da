// How both API transports report calls that failed: a client can make calls fail as often
// as it likes, so error lines get a burst and then a steady rate (the dropped ones counted
// in the next line let through), and failures whose cause the sidecar reports where it
// arises are not logged per call at all.
import { TesseraError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { rateLimitedLogger } from '../observability/rate-limited-logger.ts';
import { TokenBucket } from '../observability/token-bucket.ts';

/** Error lines failed calls may cause in a burst, and per second after it. */
export const FAILURE_LOG_BURST = 50;
export const FAILURE_LOG_PER_SECOND = 10;

/** A logger for failed calls of one transport, bounded as above. */
export function failedCallsLogger(log: Logger, what: string): Logger {
  return rateLimitedLogger(log, new TokenBucket(FAILURE_LOG_BURST, FAILURE_LOG_PER_SECOND), what);
}

/**
 * A failure whose cause the sidecar reports once where it arises: not ready yet (the health
 * checks say so), a component that failed to load (the registry logs each distinct error
 * once, metadata shows it). A client polling it must not add an error line per request.
 */
export function reportedElsewhere(err: unknown): boolean {
  return err instanceof TesseraError && (err.code === 'ERR_HEALTH_NOT_READY' || err.reason === 'not-loaded');
}
