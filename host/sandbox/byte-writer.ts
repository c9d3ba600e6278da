// A growable byte buffer for rewriters that emit a module in many small pieces (metering.ts
// writes a few bytes at every charge point): no array or view per piece, so rewriting a
// module allocates a handful of buffers instead of one object per instruction it touches.
import { encodeU32 } from './wasm-binary.ts';

/** Spans up to this long are copied byte by byte: cheaper than a `subarray` view and `set`. */
const SHORT_SPAN = 32;

export class ByteWriter {
  #buffer: Uint8Array;
  length = 0;

  constructor(capacity = 1024) {
    this.#buffer = new Uint8Array(capacity);
  }

  #room(n: number): Uint8Array {
    if (this.length + n > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.length + n));
      grown.set(this.#buffer.subarray(0, this.length));
      this.#buffer = grown;
    }
    return this.#buffer;
  }

  byte(b: number): void {
    this.#room(1)[this.length++] = b;
  }

  /** Unsigned LEB128 (a body's size, a count: a few per body). */
  u32(value: number): void {
    this.bytes(encodeU32(value));
  }

  /** Signed LEB128 of a non-negative safe integer, as `i64.const` takes it (`encodeI64` without a bigint). */
  i64(value: number): void {
    for (;;) {
      const b = value % 128;
      value = Math.floor(value / 128);
      if (value === 0 && (b & 0x40) === 0) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  /** All of `bytes`. */
  bytes(bytes: Uint8Array | readonly number[]): void {
    this.copy(bytes, 0, bytes.length);
  }

  /** `source[from..to)`. */
  copy(source: Uint8Array | readonly number[], from: number, to: number): void {
    const n = to - from;
    const buffer = this.#room(n);
    if (n > SHORT_SPAN && source instanceof Uint8Array) buffer.set(source.subarray(from, to), this.length);
    else for (let i = 0; i < n; i++) buffer[this.length + i] = source[from + i]!;
    this.length += n;
  }

  /** Starts over, keeping the buffer. */
  reset(): void {
    this.length = 0;
  }

  /** A view of what was written (valid until the next write or reset). */
  view(): Uint8Array {
    return this.#buffer.subarray(0, this.length);
  }
}
