// The host interfaces of `abi/wit/host.wit` with friendly wrappers around the generated calls
// (./generated/log.ts, clock.ts, random.ts, sleep.ts, tcp.ts, redis.ts). AssemblyScript imports only what a
// component calls, so a component's imports (and manifest capabilities) are exactly the
// interfaces it uses.
import { monotonicNs as monotonicNsOfHost, nowMs as nowMsOfHost } from "./generated/clock";
import { Level, log as hostLog } from "./generated/log";
import { getRandomBytes } from "./generated/random";
import { sleepMs } from "./generated/sleep";
import { close as redisClose, execute as redisExecute, ExecuteResult, open as redisOpen } from "./generated/redis";
import { close as tcpClose, connect as tcpConnect, read as tcpRead, ReadResult, write as tcpWrite } from "./generated/tcp";
import { StateError } from "./types";

/** WIT `log.level`: `Trace`, `Debug`, `Info`, `Warn`, `Error`. */
export { Level as LogLevel } from "./generated/log";

/** Structured logging into the sidecar's log, tagged with the component's name. */
export namespace log {
  export function write(level: Level, message: string): void {
    hostLog(level, message);
  }

  export function trace(message: string): void {
    write(Level.Trace, message);
  }

  export function debug(message: string): void {
    write(Level.Debug, message);
  }

  export function info(message: string): void {
    write(Level.Info, message);
  }

  export function warn(message: string): void {
    write(Level.Warn, message);
  }

  export function error(message: string): void {
    write(Level.Error, message);
  }
}

/** Time. A component has no other way to read a clock. */
export namespace clock {
  /** Wall-clock time in milliseconds since the Unix epoch. */
  export function nowMs(): u64 {
    return nowMsOfHost();
  }

  /** Monotonic time in nanoseconds from an arbitrary origin. */
  export function monotonicNs(): u64 {
    return monotonicNsOfHost();
  }
}

/** Cryptographically secure random bytes from the host. */
export namespace random {
  export function bytes(len: u32): Uint8Array {
    return getRandomBytes(len);
  }
}

/**
 * Suspends this component, not the sidecar (JSPI). Importing it makes every call of the
 * component async on the host side, so use it only where a store really must wait.
 */
export namespace sleep {
  export function ms(ms: u32): void {
    sleepMs(ms);
  }
}

/**
 * Outbound TCP to the `host:port` pairs the component's YAML grants
 * (`tessera.dev/allow-tcp: "127.0.0.1:6379"`). Every call suspends this component, not the
 * sidecar (JSPI), so importing it makes every call of the component async on the host.
 */
export namespace tcp {
  /** An open connection. AssemblyScript has no destructors: `close()` it when done. */
  export class Connection {
    constructor(public readonly handle: u32) {}

    /**
     * Writes every byte of `data`; null, or `unavailable` when the connection is gone (some
     * bytes may have left already: treat the connection as broken).
     */
    writeAll(data: Uint8Array): StateError | null {
      return tcpWrite(this.handle, data);
    }

    /**
     * Up to `maxBytes` bytes in `value`, waiting up to `timeoutMs` for the first one: empty
     * means none came in time. `error` is `unavailable` once the peer closed the connection.
     */
    read(maxBytes: u32, timeoutMs: u32): ReadResult {
      return tcpRead(this.handle, maxBytes, timeoutMs);
    }

    close(): void {
      tcpClose(this.handle);
    }
  }

  /** A connection, or why there is none. */
  export class ConnectResult {
    constructor(public connection: Connection | null, public error: StateError | null) {}
  }

  /**
   * Opens a connection to `host:port`, waiting up to `timeoutMs`. `invalid-argument` when the
   * component's YAML does not grant that address (the message names it and the annotation to
   * add), `unavailable` when it cannot be reached in time.
   */
  export function connect(host: string, port: u16, timeoutMs: u32): ConnectResult {
    const opened = tcpConnect(host, port, timeoutMs);
    const error = opened.error;
    if (error !== null) return new ConnectResult(null, error);
    return new ConnectResult(new Connection(opened.value), null);
  }
}

/**
 * Redis commands to a server the component's YAML grants for tcp
 * (`tessera.dev/allow-tcp: "127.0.0.1:6379"`), pipelined by the host on one connection that
 * every instance of the component opening the same server, user and database shares.
 * Commands that keep state on a connection (`MULTI`, `SELECT`, `SUBSCRIBE`, a blocking read)
 * are refused; use `tcp` for those. Every `execute` suspends this component (JSPI).
 */
export namespace redis {
  /** A handle on the shared connection. AssemblyScript has no destructors: `close()` it when done. */
  export class Connection {
    constructor(public readonly handle: u32) {}

    /**
     * Sends `count` commands, each encoded as RESP sends it (see `encodeCommand`), and returns
     * their replies in `value` as the server sent them (RESP2), one after another, waiting up
     * to `timeoutMs` for all; `maxReplyBytes` caps them (0: the host's default, 4 MiB).
     * `error` is `unavailable` when the server cannot be reached, the connection broke or the
     * time passed; `invalid-argument` for malformed or refused commands, or replies over the
     * cap; `internal` when the server refused `AUTH` or `SELECT`.
     */
    execute(commands: Uint8Array, count: u32, timeoutMs: u32, maxReplyBytes: u32 = 0): ExecuteResult {
      return redisExecute(this.handle, commands, count, timeoutMs, maxReplyBytes);
    }

    close(): void {
      redisClose(this.handle);
    }
  }

  /** A handle, or why there is none. */
  export class OpenResult {
    constructor(public connection: Connection | null, public error: StateError | null) {}
  }

  /**
   * A handle on the connection to `host:port` as `username` with `password` (each empty for
   * none) on database `db`. Nothing connects yet: the host connects (and sends `AUTH` and
   * `SELECT`) at the first `execute`, and again after the connection broke.
   * `invalid-argument` when the component's YAML does not grant that address.
   */
  export function open(host: string, port: u16, username: string, password: string, db: u32, connectTimeoutMs: u32): OpenResult {
    const opened = redisOpen(host, port, username, password, db, connectTimeoutMs);
    const error = opened.error;
    if (error !== null) return new OpenResult(null, error);
    return new OpenResult(new Connection(opened.value), null);
  }

  /** `args` as one RESP command (an array of bulk strings), to pass to `execute` alone or joined with others. */
  export function encodeCommand(args: string[]): Uint8Array {
    let text = "*" + args.length.toString() + "\r\n";
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      text += "$" + String.UTF8.byteLength(arg).toString() + "\r\n" + arg + "\r\n";
    }
    return Uint8Array.wrap(String.UTF8.encode(text));
  }
}
