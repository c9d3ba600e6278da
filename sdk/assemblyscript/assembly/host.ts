// The host interfaces of `abi/wit/host.wit` with friendly wrappers around the generated calls
// (./generated/log.ts, clock.ts, random.ts, sleep.ts). AssemblyScript imports only what a
// component calls, so a component's imports (and manifest capabilities) are exactly the
// interfaces it uses.
import { monotonicNs as monotonicNsOfHost, nowMs as nowMsOfHost } from "./generated/clock";
import { Level, log as hostLog } from "./generated/log";
import { getRandomBytes } from "./generated/random";
import { sleepMs } from "./generated/sleep";

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
