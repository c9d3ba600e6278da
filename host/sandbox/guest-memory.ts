// The host's view of one guest's linear memory and allocator, shared by every lift and
// lower compiled for that instance; and the errors they raise when a guest misbehaves.
import { TesseraError } from '../errors.ts';

export type Realloc = (oldPtr: number, oldSize: number, align: number, newSize: number) => number;

/** The guest broke the ABI (or trapped) during the call `label`. */
export function trap(label: string, problem: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_TRAP', `${label}: ${problem}`);
}

/** The host passed a value that does not fit the WIT type: a host bug, not the guest's. */
export function badHostValue(label: string, expected: string, got: unknown): TesseraError {
  return new TesseraError('ERR_INTERNAL', `${label}: expected ${expected}, got ${show(got)}`);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object') return v === null ? 'null' : (v.constructor?.name ?? 'object');
  return String(v);
}

/** A failure from inside guest code (a trap, a stack overflow) as the call's error; ours pass through. */
export function asTrap(label: string, err: unknown): TesseraError {
  if (err instanceof TesseraError) return err;
  return new TesseraError('ERR_COMPONENT_TRAP', `${label}: the component trapped: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export function hex(ptr: number): string {
  return `0x${ptr.toString(16)}`;
}

/** Late-bound view of a guest's memory: bound after instantiation, since imports are built before. */
/**
 * Most a call may lift out of guest memory, in bytes (an element of a list counts at least
 * LIFT_ELEMENT_FLOOR): a guest whose result points many entries at one large range could
 * otherwise make the host build far more than its memory holds.
 */
export const LIFT_BUDGET = 256 * 1024 * 1024;
/** A component's calls may lift twice its memory limit (16 MiB at the least, LIFT_BUDGET at most): building the result is host work. */
export const liftBudgetFor = (memoryLimitBytes: number): number => Math.min(LIFT_BUDGET, Math.max(16 * 1024 * 1024, 2 * memoryLimitBytes));
export const LIFT_ELEMENT_FLOOR = 1024;

export class GuestMemory {
  /** What one call may lift: LIFT_BUDGET, or less for a component with a small memory limit. */
  maxLift = LIFT_BUDGET;
  /** What the current call may still lift; reset to `maxLift` when an export call starts. */
  liftBudget = LIFT_BUDGET;
  #memory: WebAssembly.Memory | undefined;
  #realloc: Realloc | undefined;
  #buffer: ArrayBuffer | undefined;
  #u8 = new Uint8Array(0);
  #view = new DataView(this.#u8.buffer);

  bind(memory: WebAssembly.Memory, realloc: Realloc | undefined): void {
    this.#memory = memory;
    this.#realloc = realloc;
    this.refresh();
  }

  /** Bytes of guest memory; stale once the guest runs again (memory.grow detaches the buffer). */
  get u8(): Uint8Array {
    return this.#u8;
  }

  get view(): DataView {
    return this.#view;
  }

  /** Charges a lift of `bytes` to the current call; traps past the budget. */
  spend(label: string, bytes: number): void {
    this.liftBudget -= bytes;
    if (this.liftBudget < 0) {
      throw trap(label, `the result is larger than the ${this.maxLift / 1048576} MiB a call may return (entries pointing at the same memory over and over?)`);
    }
  }

  /** Re-reads `memory.buffer` if it changed; call after any call into the guest. */
  refresh(): void {
    // memory.grow detaches the old buffer, which empties every view on it: a cheap test that
    // spares the costly `memory.buffer` getter on the hot path.
    if (this.#u8.length !== 0) return;
    const buffer = this.#memory?.buffer;
    if (buffer === undefined || buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.#u8 = new Uint8Array(buffer);
    this.#view = new DataView(buffer);
  }

  /** Calls the guest's `cabi_realloc` and checks the block it returns is aligned and in bounds. */
  realloc(label: string, oldPtr: number, oldSize: number, align: number, newSize: number): number {
    if (this.#realloc === undefined) throw trap(label, 'the component exports no cabi_realloc, so the host cannot pass it strings or lists');
    let ptr: number;
    try {
      ptr = this.#realloc(oldPtr, oldSize, align, newSize) >>> 0;
    } catch (err) {
      throw asTrap(`${label}: cabi_realloc`, err);
    }
    this.refresh();
    if (ptr % align !== 0) throw trap(label, `cabi_realloc returned ${hex(ptr)}, which is not aligned to ${align}`);
    if (ptr + newSize > this.#u8.length) {
      throw trap(label, `cabi_realloc returned ${hex(ptr)} for ${newSize} bytes, past the end of guest memory (${this.#u8.length} bytes)`);
    }
    return ptr;
  }
}
