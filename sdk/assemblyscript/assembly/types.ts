// Types shared by every component kind (WIT interface `types`), written by hand as the SDK's
// idiomatic classes: request metadata and the error every fallible export returns (its cases,
// `StateErrorKind`, are generated from the WIT).
import { ErrorKind } from "./generated/types";

/** The cases of the WIT `error` variant: `EtagMismatch` (HTTP 409), `EtagInvalid` and `InvalidArgument` (HTTP 400), `NotFound`, `Unavailable` (may be retried), `Internal`. */
export { ErrorKind as StateErrorKind } from "./generated/types";

/** A WIT `option` of a number or bool (which AssemblyScript cannot make null): a `Box`, or null for none. */
export class Box<T> {
  constructor(public value: T) {}
}

/**
 * Ordered key/value pairs (WIT `list<tuple<string, string>>`): a component's configuration
 * and the metadata that travels with a request or a response. Order and duplicates survive
 * the trip through the ABI; `get` answers the first match.
 */
export class Metadata {
  // Keys and values interleaved; allocated on first write so empty metadata costs one object.
  private pairs: Array<string> | null = null;

  get length(): i32 {
    const pairs = this.pairs;
    return pairs === null ? 0 : pairs.length >> 1;
  }

  keyAt(index: i32): string {
    return this.pairs![index << 1];
  }

  valueAt(index: i32): string {
    return this.pairs![(index << 1) + 1];
  }

  /** The value of the first pair named `key`, or null. */
  get(key: string): string | null {
    const pairs = this.pairs;
    if (pairs === null) return null;
    for (let i = 0; i < pairs.length; i += 2) {
      if (pairs[i] == key) return pairs[i + 1];
    }
    return null;
  }

  has(key: string): bool {
    return this.get(key) !== null;
  }

  /** Replaces the value of the first pair named `key`, or appends the pair. */
  set(key: string, value: string): Metadata {
    const pairs = this.pairs;
    if (pairs !== null) {
      for (let i = 0; i < pairs.length; i += 2) {
        if (pairs[i] == key) {
          pairs[i + 1] = value;
          return this;
        }
      }
    }
    return this.append(key, value);
  }

  /** Appends a pair, even when `key` is already present. */
  append(key: string, value: string): Metadata {
    let pairs = this.pairs;
    if (pairs === null) {
      pairs = new Array<string>();
      this.pairs = pairs;
    }
    pairs.push(key);
    pairs.push(value);
    return this;
  }
}

/**
 * The error a fallible export returns (WIT `error`). AssemblyScript has no exceptions, so
 * store methods return one (or null for success) instead of throwing; a `throw` traps the
 * whole instance, which the host then rebuilds.
 */
export class StateError {
  constructor(public kind: ErrorKind, public message: string) {}

  static etagMismatch(message: string): StateError {
    return new StateError(ErrorKind.EtagMismatch, message);
  }

  static etagInvalid(message: string): StateError {
    return new StateError(ErrorKind.EtagInvalid, message);
  }

  static notFound(message: string): StateError {
    return new StateError(ErrorKind.NotFound, message);
  }

  static invalidArgument(message: string): StateError {
    return new StateError(ErrorKind.InvalidArgument, message);
  }

  static unavailable(message: string): StateError {
    return new StateError(ErrorKind.Unavailable, message);
  }

  static internal(message: string): StateError {
    return new StateError(ErrorKind.Internal, message);
  }
}
