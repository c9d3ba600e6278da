// DAPR_API_TOKEN comparison for both transports: constant-time whatever the lengths, by
// comparing fixed-length digests.
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Whether a given token (a header or gRPC metadata value, if any) is `token`. */
export function tokenMatcher(token: string): (given: unknown) => boolean {
  const expected = digest(token);
  return (given) => typeof given === 'string' && timingSafeEqual(digest(given), expected);
}
