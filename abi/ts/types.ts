// TypeScript mirror of `abi/wit/types.wit`: the value shapes the host lifts from and lowers
// into components, following jco's conventions (camelCase fields, `{ tag, val }` variants,
// `undefined` for none, `Uint8Array` for `list<u8>`, `bigint` for 64-bit integers).

/** Ordered key/value pairs: component configuration and request metadata. */
export type Metadata = Array<[string, string]>;

/** The cases of the WIT `error` variant. */
export type ComponentErrorKind =
  | 'etag-mismatch'
  | 'etag-invalid'
  | 'not-found'
  | 'invalid-argument'
  | 'unavailable'
  | 'internal';

/** The WIT `error` variant as lifted. */
export interface WitError {
  tag: ComponentErrorKind;
  val: string;
}

/** A WIT `result<T, E>` as lifted. */
export type WitResult<T, E = WitError> = { tag: 'ok'; val: T } | { tag: 'err'; val: E };
