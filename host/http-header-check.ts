// Whether a header name and value are ones Node sends as they are, by the rules of its own
// checks (`validateHeaderName`/`validateHeaderValue`) as two regular expressions: on a hot
// path those are cheaper than Node's, which exist to build the error to throw. Callers run
// Node's checks when these fail, for the message.

/** RFC 9110's token: what a header name (or a method) may be. */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** No control character but tab, nothing past U+00FF. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function isPlainHeader(name: string, value: string): boolean {
  return HTTP_TOKEN.test(name) && FIELD_VALUE.test(value);
}
