// The host interfaces of `abi/wit/host.wit`, imported under their canonical names, with
// friendly wrappers. AssemblyScript imports only what a component calls, so a component's
// imports (and manifest capabilities) are exactly the interfaces it uses.

// @ts-ignore: decorator
@external("tessera:components/log@0.1.0", "log")
declare function hostLog(level: u32, messagePtr: usize, messageLen: usize): void;

// @ts-ignore: decorator
@external("tessera:components/clock@0.1.0", "now-ms")
declare function hostNowMs(): u64;

// @ts-ignore: decorator
@external("tessera:components/clock@0.1.0", "monotonic-ns")
declare function hostMonotonicNs(): u64;

// list<u8> is two flat results, over MAX_FLAT_RESULTS: the host writes (ptr, len) into the
// return area we pass, after allocating the bytes with our cabi_realloc.
// @ts-ignore: decorator
@external("tessera:components/random@0.1.0", "get-random-bytes")
declare function hostGetRandomBytes(len: u32, retArea: usize): void;

// @ts-ignore: decorator
@external("tessera:components/sleep@0.1.0", "sleep-ms")
declare function hostSleepMs(ms: u32): void;

/** WIT `log.level`, numbered as the canonical ABI numbers the enum. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

const RANDOM_RET_AREA = memory.data(8, 4);

/** Structured logging into the sidecar's log, tagged with the component's name. */
export namespace log {
  export function write(level: LogLevel, message: string): void {
    // Encoded on the raw heap rather than into a managed buffer: logging creates no garbage.
    const len = <usize>String.UTF8.byteLength(message);
    const ptr = heap.alloc(len);
    String.UTF8.encodeUnsafe(changetype<usize>(message), message.length, ptr, false, String.UTF8.ErrorMode.REPLACE);
    hostLog(<u32>level, ptr, len);
    heap.free(ptr);
  }

  export function trace(message: string): void {
    write(LogLevel.Trace, message);
  }

  export function debug(message: string): void {
    write(LogLevel.Debug, message);
  }

  export function info(message: string): void {
    write(LogLevel.Info, message);
  }

  export function warn(message: string): void {
    write(LogLevel.Warn, message);
  }

  export function error(message: string): void {
    write(LogLevel.Error, message);
  }
}

/** Time. A component has no other way to read a clock. */
export namespace clock {
  /** Wall-clock time in milliseconds since the Unix epoch. */
  export function nowMs(): u64 {
    return hostNowMs();
  }

  /** Monotonic time in nanoseconds from an arbitrary origin. */
  export function monotonicNs(): u64 {
    return hostMonotonicNs();
  }
}

/** Cryptographically secure random bytes from the host. */
export namespace random {
  export function bytes(len: u32): Uint8Array {
    hostGetRandomBytes(len, RANDOM_RET_AREA);
    const ptr = load<u32>(RANDOM_RET_AREA);
    const got = load<u32>(RANDOM_RET_AREA, 4);
    const out = new Uint8Array(<i32>got);
    if (got != 0) {
      memory.copy(out.dataStart, ptr, got);
      heap.free(ptr);
    }
    return out;
  }
}

/**
 * Suspends this component, not the sidecar (JSPI). Importing it makes every call of the
 * component async on the host side, so use it only where a store really must wait.
 */
export namespace sleep {
  export function ms(ms: u32): void {
    hostSleepMs(ms);
  }
}
