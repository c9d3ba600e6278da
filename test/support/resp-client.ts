// A minimal Redis client (RESP2 over one TCP connection) for tests and benchmarks, with no
// dependency: commands are arrays of bulk strings, replies are parsed incrementally and
// matched to commands in order, so several commands may be in flight at once (pipelining).
import { connect, type Socket } from 'node:net';

/** A reply: simple strings and bulk strings as strings, integers as numbers, arrays, null; an error reply rejects. */
export type RespValue = string | number | null | RespValue[];

export class RespError extends Error {}

const CRLF = Buffer.from('\r\n');

function encode(args: readonly (string | number | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' || typeof arg === 'number' ? Buffer.from(String(arg)) : Buffer.from(arg);
    parts.push(Buffer.from(`$${bytes.byteLength}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/** One reply from `buf` at `pos`: [value, next position], or undefined while it is incomplete. */
function parse(buf: Buffer, pos: number): [RespValue | RespError, number] | undefined {
  const end = buf.indexOf(CRLF, pos);
  if (end < 0) return undefined;
  const type = buf[pos];
  const line = buf.toString('utf8', pos + 1, end);
  const next = end + 2;
  switch (type) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [new RespError(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buf.length < next + length + 2) return undefined;
      return [buf.toString('utf8', next, next + length), next + length + 2];
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, at);
        if (item === undefined) return undefined;
        // An error inside an array (EXEC) is kept as its message.
        items.push(item[0] instanceof RespError ? item[0].message : item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected RESP type byte ${type} at ${pos}`);
  }
}

export class RespClient {
  readonly #socket: Socket;
  readonly #waiting: { resolve: (v: RespValue) => void; reject: (e: Error) => void }[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (err: Error): void => {
      this.#closed ??= err;
      for (const w of this.#waiting.splice(0)) w.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('redis connection closed')));
  }

  /** Connects to `host:port`, failing after `timeoutMs`. */
  static connect(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      const timer = setTimeout(() => socket.destroy(new Error(`connecting to ${host}:${port} timed out`)), timeoutMs);
      const failed = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', failed);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', failed);
        resolve(new RespClient(socket));
      });
    });
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let pos = 0;
    for (;;) {
      const reply = parse(this.#buffer, pos);
      if (reply === undefined) break;
      pos = reply[1];
      const waiter = this.#waiting.shift();
      if (waiter === undefined) continue;
      if (reply[0] instanceof RespError) waiter.reject(reply[0]);
      else waiter.resolve(reply[0]);
    }
    this.#buffer = pos === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(pos);
  }

  /** Sends one command; resolves to its reply, rejects with RespError for an error reply. */
  command(...args: (string | number | Uint8Array)[]): Promise<RespValue> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#socket.write(encode(args));
    });
  }

  close(): void {
    this.#closed ??= new Error('redis connection closed');
    this.#socket.destroy();
  }
}
