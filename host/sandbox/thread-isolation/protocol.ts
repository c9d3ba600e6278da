// What crosses between an IsolatedComponent (main thread) and its worker (isolation-worker.ts):
// the worker's start-up data, requests, replies, log lines and traps, with TesseraErrors
// flattened to plain fields so they survive a structured clone.
import type { WitError } from '../../../abi/ts/types.ts';
import { TesseraError, isTesseraError, type ErrorCode, type ErrorReason } from '../../errors.ts';
import type { LogLevel } from '../../observability/logger.ts';
import type { PreparedComponent } from '../compiled-component.ts';
import type { SnapshotData } from '../guest-component.ts';
import type { LiveComponentOptions } from '../live-component.ts';

/** The LiveComponent options that are plain data (the logger and `onTrap` stay on the main thread; the config goes as entries). */
export type PlainOptions = Omit<LiveComponentOptions, 'logger' | 'onTrap' | 'config'>;

/** The worker's `workerData`. */
export interface WorkerStart {
  /** The compiled component as plain data: posting its compiled (capped, metered) modules shares the code, nothing is recompiled. */
  prepared: PreparedComponent;
  /** Passed on whole, so the worker's LiveComponent gets every limit the component's YAML sets. */
  options: PlainOptions;
  config: [string, string][];
  /** The levels the main thread's logger writes: the worker does not post lines it would drop. */
  logLevels: LogLevel[];
  /**
   * One Int32: the id of the request whose synchronous work the worker is running (its
   * message handler and the microtasks after it), 0 when its event loop is free. A request
   * past its deadline that is still the one running is a guest spinning in wasm.
   */
  busy: SharedArrayBuffer;
  /** Extension modules (kinds, capabilities) to load before the component (sandbox/extensions.ts). */
  extensions: string[];
}

/** Time comparable across threads (each thread's `performance.now()` has its own origin). */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export type Request =
  /** Starts the LiveComponent (`init`, `features`), then restores `parked` if given. */
  | { op: 'boot'; id: number; parked: SnapshotData | undefined }
  /** `sentAt` (epochMs) + `timeoutMs`: a call the worker reaches after its deadline fails without running. */
  | { op: 'call'; id: number; fn: string; args: unknown[]; sentAt: number; timeoutMs: number }
  | { op: 'snapshot'; id: number }
  | { op: 'restore'; id: number; data: SnapshotData };

export interface WireError {
  code: ErrorCode;
  message: string;
  reason: ErrorReason | undefined;
  componentError: WitError | undefined;
}

/** Message kinds from the worker; numbers, as they are compared on every reply. */
export const STARTED = 0;
export const REPLY = 1;
export const FAILURE = 2;
export const LOG = 3;
export const TRAP = 4;

export type WorkerMessage =
  /** The worker's code is loaded: the boot request's deadline starts now. */
  | { kind: typeof STARTED }
  | { kind: typeof REPLY; id: number; value: unknown }
  | { kind: typeof FAILURE; id: number; error: WireError }
  | { kind: typeof LOG; level: LogLevel; message: string; fields?: Record<string, unknown> }
  /** Said for every trap the worker's LiveComponent reports, before the failed request's reply. */
  | { kind: typeof TRAP; error: WireError };

export function toWire(err: unknown): WireError {
  if (isTesseraError(err)) {
    return { code: err.code, message: err.message, reason: err.reason, componentError: err.componentError };
  }
  const error = new TesseraError('ERR_COMPONENT_TRAP', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  return toWire(error);
}

export function fromWire(wire: WireError): TesseraError {
  return new TesseraError(wire.code, wire.message, { reason: wire.reason, componentError: wire.componentError });
}
