// One connection to a Redis server that every instance of a component shares (the `redis`
// capability): calls queue their commands, which are written together once per turn of the
// event loop, and the replies, framed as they arrive (resp-frames.ts), go back to the calls
// in the order they were sent. Many round trips become one write and one read for all the
// calls of a turn, on both sides: the cost a pool of instances with a socket each paid per
// call (measured: a write that wakes the server and a read per call, most of a state GET).
//
// It connects (AUTH, SELECT) at the first call and again at the first call after it broke. A
// call that times out gets its error at once; its replies, when they come, are skipped, so
// the calls behind it still get theirs. A broken connection fails every call in flight, with
// a message naming the server.
import { Socket } from 'node:net';
import type { WitResult } from '../../../abi/ts/types.ts';
import { MAX_TIMER_MS } from '../../units.ts';
import { encodeCommand, ReplyScanner, RespFramingError } from './resp-frames.ts';
import { bare, grantKey } from './tcp.ts';

export interface RedisAddress {
  host: string;
  port: number;
  /** Empty for none. */
  username: string;
  password: string;
  db: number;
  connectTimeoutMs: number;
}

/** Why a call failed: `unavailable` (may be retried), `internal` (AUTH/SELECT refused), or `invalid-argument` (over its cap). */
export class RedisCallError extends Error {
  readonly tag: 'unavailable' | 'internal' | 'invalid-argument';
  constructor(tag: 'unavailable' | 'internal' | 'invalid-argument', message: string) {
    super(message);
    this.tag = tag;
  }
}

interface Call {
  /** Replies still to come. */
  left: number;
  /** The replies' bytes so far; dropped once the call is settled (timed out, over its cap). */
  parts: Uint8Array[];
  bytes: number;
  maxBytes: number;
  settled: boolean;
  /** Gets the replies or the error, once. */
  settle(result: WitResult<Uint8Array>): void;
  timer: NodeJS.Timeout | undefined;
}

export class RedisPipeline {
  readonly #address: RedisAddress;
  readonly #name: string;
  #socket: Socket | undefined;
  /** Set while connecting: resolves when the connection is ready (AUTH, SELECT done). */
  #connecting: Promise<void> | undefined;
  /** Calls whose commands were sent (or are queued to be), oldest first. */
  #calls: Call[] = [];
  /** Calls in #calls before this index are done; the array is compacted now and then. */
  #head = 0;
  #outgoing: Uint8Array[] = [];
  #flushScheduled = false;
  #scanner = new ReplyScanner();
  #closed = false;

  readonly #onBroken: (message: string) => void;

  /** `onBroken` hears of each connection that broke under its calls (for the log). */
  constructor(address: RedisAddress, onBroken: (message: string) => void = () => {}) {
    this.#address = address;
    this.#onBroken = onBroken;
    this.#name = `redis at ${grantKey(address.host, address.port)}`;
  }

  /** `redis at host:port`, for messages. */
  get name(): string {
    return this.#name;
  }

  /**
   * Sends `commands` (`count` checked commands) and resolves to their `count` replies' bytes,
   * or to the error (as the WIT's result: the capability hands it on as it is).
   */
  execute(commands: Uint8Array, count: number, timeoutMs: number, maxBytes: number): Promise<WitResult<Uint8Array>> {
    if (this.#closed) return Promise.resolve(failed(new RedisCallError('unavailable', `the connection to ${this.#name} is closed`)));
    return new Promise<WitResult<Uint8Array>>((settle) => this.#send(this.#call(count, maxBytes, timeoutMs, '', settle), commands));
  }

  /** A call waiting for `count` replies, failed after `timeoutMs`; `what` names the command in that message, when it is the host's own. */
  #call(count: number, maxBytes: number, timeoutMs: number, what: string, settle: Call['settle']): Call {
    const call: Call = { left: count, parts: [], bytes: 0, maxBytes, settled: false, settle, timer: undefined };
    // The error is made when the time is up, not ahead: an Error captures the stack (through
    // the guest's wasm frames), which cost more than the rest of a call's host side.
    call.timer = setTimeout(() => this.#fail(call, new RedisCallError('unavailable', `${this.#name} did not answer${what ? ` ${what}` : ''} within ${timeoutMs} ms`)), Math.min(timeoutMs, MAX_TIMER_MS));
    return call;
  }

  /** Closes the connection; calls in flight fail. */
  close(): void {
    this.#closed = true;
    this.#broken(new RedisCallError('unavailable', `the connection to ${this.#name} was closed`));
  }

  #send(call: Call, commands: Uint8Array): void {
    if (call.settled) return;
    if (this.#socket === undefined || this.#connecting !== undefined) {
      // Not connected (or still sending AUTH and SELECT, or it broke again since): connect,
      // then send. A call waiting for the connection is in no reply order yet; it joins it then.
      (this.#connecting ??= this.#connect()).then(
        () => this.#send(call, commands),
        (error: RedisCallError) => this.#fail(call, error),
      );
      return;
    }
    this.#calls.push(call);
    this.#outgoing.push(commands);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Once per turn of the loop: every call this turn started goes in the same write.
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const socket = this.#socket;
    const outgoing = this.#outgoing;
    this.#outgoing = [];
    if (socket === undefined || outgoing.length === 0) return;
    if (outgoing.length === 1) {
      socket.write(outgoing[0]!);
      return;
    }
    socket.cork();
    for (const bytes of outgoing) socket.write(bytes);
    socket.uncork();
  }

  #connect(): Promise<void> {
    const { host, port, connectTimeoutMs } = this.#address;
    return new Promise<void>((resolve, reject) => {
      const socket = new Socket();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RedisCallError('unavailable', `${this.#name} is unreachable: no connection within ${connectTimeoutMs} ms`));
      }, Math.min(connectTimeoutMs, MAX_TIMER_MS));
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new RedisCallError('unavailable', `${this.#name} is unreachable: ${e.message}`));
      });
      socket.connect({ host: bare(host), port }, () => {
        clearTimeout(timer);
        if (this.#closed) {
          // Closed (the component's last instance went) while it connected: nobody will use it.
          socket.destroy();
          reject(new RedisCallError('unavailable', `the connection to ${this.#name} was closed`));
          return;
        }
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        this.#attach(socket);
        this.#handshake().then(resolve, (error: RedisCallError) => {
          this.#broken(error);
          reject(error);
        });
      });
    }).finally(() => (this.#connecting = undefined));
  }

  /** AUTH and SELECT as the first calls on a new connection. */
  async #handshake(): Promise<void> {
    const { username, password, db, connectTimeoutMs } = this.#address;
    const setup: [string, string[]][] = [];
    if (password !== '') setup.push(['AUTH (redisUsername, redisPassword)', username !== '' ? ['AUTH', username, password] : ['AUTH', password]]);
    if (db !== 0) setup.push(['SELECT (redisDB)', ['SELECT', String(db)]]);
    for (const [what, args] of setup) {
      const result = await new Promise<WitResult<Uint8Array>>((settle) => {
        // Written at once, not in the turn's batch: nothing else goes out before it.
        this.#calls.push(this.#call(1, 64 * 1024, connectTimeoutMs, what, settle));
        this.#socket!.write(encodeCommand(args));
      });
      if (result.tag === 'err') throw new RedisCallError(result.val.tag as RedisCallError['tag'], result.val.val);
      const reply = result.val;
      if (reply[0] === 0x2d) {
        const message = Buffer.from(reply.subarray(1)).toString('utf8').trimEnd();
        const hint = /^(NOAUTH|WRONGPASS)/.test(message) ? ' (set redisPassword, and redisUsername for an ACL user)' : '';
        throw new RedisCallError('internal', `${this.#name} refused ${what}: ${message}${hint}`);
      }
    }
  }

  #attach(socket: Socket): void {
    this.#socket = socket;
    this.#scanner = new ReplyScanner();
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    const gone = (why: string): void => {
      if (this.#socket !== socket) return;
      this.#broken(new RedisCallError('unavailable', `the connection to ${this.#name} broke: ${why}`));
    };
    socket.on('error', (e) => gone(e.message));
    socket.on('close', () => gone('closed by the server'));
  }

  /** Drops the connection and fails every call that waits on it. */
  #broken(error: RedisCallError): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    if (socket !== undefined && !this.#closed) this.#onBroken(`${error.message}; the next call connects again`);
    const calls = this.#calls;
    const head = this.#head;
    this.#calls = [];
    this.#head = 0;
    this.#outgoing = [];
    for (let i = head; i < calls.length; i++) this.#fail(calls[i]!, error);
  }

  #onData(chunk: Buffer): void {
    let start = 0;
    try {
      this.#scanner.scan(chunk, (end) => {
        const call = this.#calls[this.#head];
        if (call === undefined) throw new RespFramingError('a reply came for no command');
        this.#take(call, chunk, start, end);
        start = end;
        if (--call.left === 0) {
          this.#calls[this.#head++] = undefined!;
          if (this.#head > 1024 && this.#head * 2 > this.#calls.length) {
            this.#calls = this.#calls.slice(this.#head);
            this.#head = 0;
          }
          this.#finish(call);
        }
      });
    } catch (error) {
      if (!(error instanceof RespFramingError)) throw error;
      this.#broken(new RedisCallError('unavailable', `${this.#name} sent a malformed reply: ${error.message}`));
      return;
    }
    const call = this.#calls[this.#head];
    if (call !== undefined && start < chunk.length) this.#take(call, chunk, start, chunk.length);
  }

  /** Adds `chunk[from, to)` to the call's replies, or fails it once they pass its cap. */
  #take(call: Call, chunk: Buffer, from: number, to: number): void {
    if (call.settled || from === to) return;
    call.bytes += to - from;
    if (call.bytes > call.maxBytes) {
      this.#fail(call, new RedisCallError('invalid-argument', `the replies from ${this.#name} hold more than ${call.maxBytes} bytes (max-reply-bytes)`));
      return;
    }
    call.parts.push(chunk.subarray(from, to));
  }

  #finish(call: Call): void {
    if (call.settled) return;
    call.settled = true;
    clearTimeout(call.timer);
    const parts = call.parts;
    call.parts = [];
    call.settle({ tag: 'ok', val: parts.length === 1 ? parts[0]! : Buffer.concat(parts, call.bytes) });
  }

  #fail(call: Call, error: RedisCallError): void {
    if (call.settled) return;
    call.settled = true;
    clearTimeout(call.timer);
    call.parts = [];
    call.settle(failed(error));
  }
}

const failed = (error: RedisCallError): WitResult<never> => ({ tag: 'err', val: { tag: error.tag, val: error.message } });

