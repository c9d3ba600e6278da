// The method of a service invocation, checked and normalised before anything else looks at it
// (a resiliency policy, the name resolver, the callee): daprd cleans method paths so an app
// can never be reached at a path its caller did not name. A `..` segment, in any spelling
// (`%2e%2e`, `..\`), is refused rather than resolved: it can only be a mistake or an attack.
import { TesseraError } from '../../errors.ts';

/** Control characters and NUL, which no method name needs and some servers mishandle. */
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f]/;

function refuse(method: string, why: string): TesseraError {
  return new TesseraError('ERR_MALFORMED_REQUEST', `invalid method "${method.slice(0, 200)}": ${why}`);
}

/**
 * The method as the callee gets it (still percent-encoded as sent, no leading `/`): `//` and
 * `.` segments dropped, a trailing `/` kept. Throws ERR_MALFORMED_REQUEST (400) for a `..`
 * segment, a control character, or broken percent-encoding.
 */
export function normaliseMethod(method: string): string {
  const kept: string[] = [];
  const segments = method.split('/');
  for (const segment of segments) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw refuse(method, `"${segment.slice(0, 50)}" is not valid percent-encoding`);
    }
    if (FORBIDDEN_CHARS.test(decoded)) throw refuse(method, 'it contains a control character');
    // A backslash is a separator to some servers: `..\x` is traversal there.
    if (decoded.split(/[/\\]/).some((part) => part === '..')) throw refuse(method, 'path traversal ("..") is not allowed');
    if (decoded === '' || decoded === '.') continue;
    kept.push(segment);
  }
  const trailing = kept.length > 0 && /\/\.?$/.test(method) ? '/' : '';
  return kept.join('/') + trailing;
}
