// RESP framing for the `redis` capability: where each reply ends in the bytes a server sends,
// and whether the commands a component hands over are what they claim to be. The host never
// builds values from either (the component parses its replies itself); it only has to know
// which bytes belong to which call on a connection several instances share.
//
// Written by hand, not taken from a Redis client library: a client parses replies into values
// (work and garbage in proportion to every element, on the event loop), where this needs only
// the boundaries, found incrementally across chunks with bulk bodies skipped by their length,
// so the work per chunk is bounded by its element count, not its bytes.

/** A reply nested deeper than this is taken for a broken stream (Redis nests a few levels). */
const MAX_DEPTH = 32;
/** A status or error line longer than this is taken for a broken stream. */
const MAX_LINE_BYTES = 64 * 1024;
/** The most commands one `execute` may carry, and arguments in all: bounds the check below (about 3 ms at the most). */
export const MAX_COMMANDS = 10_000;
export const MAX_ARGUMENTS = 65_536;

const CR = 0x0d;
const LF = 0x0a;

/**
 * Commands refused on a shared connection: each changes the state of the connection (its
 * database, its user, a transaction, a subscription, whether it replies) or holds it for a
 * while (a blocking read), so it would change what every other call on it gets.
 */
const REFUSED = new Set([
  'AUTH', 'HELLO', 'SELECT', 'SWAPDB', 'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH', 'SUBSCRIBE', 'PSUBSCRIBE',
  'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'MONITOR', 'QUIT', 'RESET', 'CLIENT', 'READONLY',
  'READWRITE', 'ASKING', 'SYNC', 'PSYNC', 'REPLICAOF', 'SLAVEOF', 'BLPOP', 'BRPOP', 'BRPOPLPUSH', 'BLMOVE', 'BLMPOP',
  'BZPOPMIN', 'BZPOPMAX', 'BZMPOP', 'WAIT', 'WAITAOF',
]);
/** Refused only with a `BLOCK` argument. */
const REFUSED_WITH_BLOCK = new Set(['XREAD', 'XREADGROUP']);

/** Thrown for bytes that are not a RESP stream; the connection they came on cannot go on. */
export class RespFramingError extends Error {}

/** An ASCII decimal (optionally negative) in `bytes[from, to)`, or NaN. */
function decimal(bytes: Uint8Array, from: number, to: number): number {
  let at = from;
  const negative = bytes[at] === 0x2d;
  if (negative) at++;
  if (at === to || to - at > 15) return Number.NaN;
  let n = 0;
  for (; at < to; at++) {
    const d = bytes[at]! - 0x30;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/** The command name (upper case ASCII) of an argument's bytes; longer than any refused one, it is left empty. */
function commandName(bytes: Uint8Array, from: number, to: number): string {
  if (to - from > 12) return '';
  let name = '';
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    name += String.fromCharCode(c >= 0x61 && c <= 0x7a ? c - 0x20 : c);
  }
  return name;
}

/**
 * Checks that `bytes` holds exactly `count` commands, each an array of one or more bulk
 * strings, none of them refused; returns undefined when they do, else what is wrong, naming
 * the command (by position and name).
 */
export function checkCommands(bytes: Uint8Array, count: number): string | undefined {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COMMANDS) return `count must be 1 to ${MAX_COMMANDS}, got ${count}`;
  let at = 0;
  let argumentsLeft = MAX_ARGUMENTS;
  const line = (what: string): number | string => {
    const lf = bytes.indexOf(LF, at);
    if (lf < 0 || lf - at > 24 || bytes[lf - 1] !== CR || bytes[at] !== (what === 'array' ? 0x2a : 0x24)) return `expected a RESP ${what} header at byte ${at}`;
    const n = decimal(bytes, at + 1, lf - 1);
    if (!(n >= 0)) return `a RESP ${what} header at byte ${at} has no valid length`;
    at = lf + 1;
    return n;
  };
  for (let command = 1; command <= count; command++) {
    if (at >= bytes.length) return `holds ${command - 1} commands, count says ${count}`;
    const args = line('array');
    if (typeof args === 'string') return `command ${command}: ${args}`;
    if (args === 0) return `command ${command} is an empty array`;
    if ((argumentsLeft -= args) < 0) return `holds more than ${MAX_ARGUMENTS} arguments in all`;
    let name = '';
    for (let arg = 0; arg < args; arg++) {
      const length = line('bulk string');
      if (typeof length === 'string') return `command ${command}${name ? ` (${name})` : ''}: ${length}`;
      const end = at + length;
      if (end + 2 > bytes.length || bytes[end] !== CR || bytes[end + 1] !== LF) return `command ${command}${name ? ` (${name})` : ''}: a bulk string at byte ${at} runs past its length`;
      if (arg === 0) {
        name = commandName(bytes, at, end);
        if (REFUSED.has(name)) return `command ${command} (${name}) would change or hold the shared connection; use the tcp capability for it`;
      } else if (REFUSED_WITH_BLOCK.has(name) && length === 5 && commandName(bytes, at, end) === 'BLOCK') {
        return `command ${command} (${name} with BLOCK) would hold the shared connection; use the tcp capability for it`;
      }
      at = end + 2;
    }
  }
  return at === bytes.length ? undefined : `holds more than the ${count} commands count says`;
}

/**
 * Finds where replies end in a stream of chunks. `scan` reports each complete top-level reply
 * by the offset just past it in the chunk being scanned; what is left unfinished at the end of
 * a chunk carries over to the next.
 */
export class ReplyScanner {
  /** Elements still to come in each open array, innermost last. */
  readonly #open: number[] = [];
  /** Bytes of a bulk string's body (and its CRLF) still to skip. */
  #skip = 0;
  /** A header line cut by the end of a chunk: its bytes so far. */
  #partial: Uint8Array[] = [];
  #partialBytes = 0;

  /** Scans `chunk`, calling `onReply(end)` at the end of each complete top-level reply; throws RespFramingError on a broken stream. */
  scan(chunk: Uint8Array, onReply: (end: number) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#skip > 0) {
        const step = Math.min(this.#skip, chunk.length - at);
        this.#skip -= step;
        at += step;
        if (this.#skip === 0 && this.#element()) onReply(at);
        continue;
      }
      const lf = chunk.indexOf(LF, at);
      if (lf < 0) {
        this.#partialBytes += chunk.length - at;
        if (this.#partialBytes > MAX_LINE_BYTES) throw new RespFramingError(`a reply line is longer than ${MAX_LINE_BYTES} bytes`);
        this.#partial.push(chunk.subarray(at));
        return;
      }
      let done: boolean;
      if (this.#partial.length > 0) {
        // A line cut by the end of the last chunk: the only case that copies.
        this.#partial.push(chunk.subarray(at, lf + 1));
        const line = concat(this.#partial, this.#partialBytes + lf + 1 - at);
        this.#partial = [];
        this.#partialBytes = 0;
        done = this.#header(line, 0, line.length);
      } else {
        done = this.#header(chunk, at, lf + 1);
      }
      at = lf + 1;
      if (done) onReply(at);
    }
  }

  /** One header line, `bytes[from, to)` with its CRLF; true when it completes a top-level reply. */
  #header(bytes: Uint8Array, from: number, to: number): boolean {
    const end = to - 2;
    if (end < from + 1 || bytes[end] !== CR) throw new RespFramingError('a reply line does not end in CRLF');
    switch (bytes[from]) {
      case 0x2b: // + status
      case 0x2d: // - error
      case 0x3a: // : integer
        return this.#element();
      case 0x24: {
        // $ bulk string
        const length = decimal(bytes, from + 1, end);
        if (length === -1) return this.#element();
        if (!(length >= 0)) throw new RespFramingError('a bulk string has no valid length');
        this.#skip = length + 2;
        return false;
      }
      case 0x2a: {
        // * array
        const count = decimal(bytes, from + 1, end);
        if (count === -1 || count === 0) return this.#element();
        if (!(count > 0)) throw new RespFramingError('an array has no valid length');
        if (this.#open.length === MAX_DEPTH) throw new RespFramingError(`a reply nests deeper than ${MAX_DEPTH} levels`);
        this.#open.push(count);
        return false;
      }
      default:
        throw new RespFramingError(`a reply starts with byte 0x${bytes[from]!.toString(16)}, not a RESP2 type`);
    }
  }

  /** An element ended; true when that ends a top-level reply. */
  #element(): boolean {
    const open = this.#open;
    while (open.length > 0) {
      const left = --open[open.length - 1]!;
      if (left > 0) return false;
      open.pop();
    }
    return true;
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** `args` as a RESP array of bulk strings (the host's own AUTH and SELECT). */
export function encodeCommand(args: readonly string[]): Buffer {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return Buffer.from(out);
}
