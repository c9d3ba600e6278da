// The value shapes the host lifts from and lowers into components, generated from
// `abi/wit/types.wit` into `wit/types.ts` (jco's conventions: camelCase fields, `{ tag, val }`
// variants, `undefined` for none, `Uint8Array` for `list<u8>`, `bigint` for 64-bit integers).
import type { WitResult as GeneratedResult } from './wit/abi.ts';
import type { WitError } from './wit/types.ts';

export type { Metadata, WitError } from './wit/types.ts';

/** The cases of the WIT `error` variant. */
export type ComponentErrorKind = WitError['tag'];

/** A WIT `result<T, E>` as lifted; the error is the WIT `error` unless said otherwise. */
export type WitResult<T, E = WitError> = GeneratedResult<T, E>;
