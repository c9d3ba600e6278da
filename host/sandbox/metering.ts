// CPU metering: rewrites a module so every call and every loop iteration pays for its code
// from one exported i64 fuel global, and traps when the fuel runs out. V8 cannot interrupt
// running wasm, so the bound on a call has to be enforced inside the module.
import { TesseraError } from '../errors.ts';
import { SECTION, encodeU32, readModuleShape } from './wasm-binary.ts';
import { CodeReader, OP, decodeBody, functionBodies, sectionSpans, type FunctionBody, type SectionSpan } from './wasm-instructions.ts';

/** The export name of the fuel global the host sets before each call. */
export const FUEL_EXPORT = 'tessera:fuel';

const GLOBAL_SECTION = 6;
const CODE_SECTION = 10;
/** Known sections in the order the binary format requires (custom sections go anywhere). */
const SECTION_ORDER = [1, 2, 3, 4, 5, 13, GLOBAL_SECTION, SECTION.export, 8, 9, 12, CODE_SECTION, 11];

const I64 = 0x7e;
const MUTABLE = 0x01;
const EXPORT_GLOBAL = 0x03;
const op = {
  unreachable: 0x00,
  if: 0x04,
  end: 0x0b,
  globalGet: 0x23,
  globalSet: 0x24,
  i64Const: 0x42,
  i64LtS: 0x53,
  i64Sub: 0x7d,
  emptyBlock: 0x40,
} as const;

/** Signed LEB128, as `i64.const` and constant expressions take it. */
function encodeI64(value: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(value & 0x7fn);
    value >>= 7n;
    if ((value === 0n && (b & 0x40) === 0) || (value === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/**
 * Charges `cost` and traps once the fuel is below zero. It leaves the fuel negative, which
 * is how the host tells an exhausted budget from any other `unreachable`.
 */
function charge(fuel: number[], cost: number): Uint8Array {
  return Uint8Array.of(
    op.globalGet, ...fuel, op.i64Const, ...encodeI64(BigInt(cost)), op.i64Sub, op.globalSet, ...fuel,
    op.globalGet, ...fuel, op.i64Const, 0x00, op.i64LtS, op.if, op.emptyBlock, op.unreachable, op.end,
  );
}

/** Concatenates byte chunks. */
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A section with its id and size header. */
function section(id: number, payload: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(id, ...encodeU32(payload.length)), payload]);
}

/**
 * Cost model: code splits into regions, one per function body and one per `loop`, each
 * holding the instructions not inside a nested loop. A region's cost is charged where it
 * starts (function entry, loop header) and is the number of its instructions, counting both
 * arms of every `if`: an upper bound of what one call or one iteration runs before it
 * reaches the next charge (a nested loop, a callee, or its own header again). Structural
 * markers (`block`, `loop`, `else`, `end`) compile to no code and are free; a region that
 * costs nothing cannot repeat and is not charged.
 */
function meterBody(bytes: Uint8Array, body: FunctionBody, fuel: number[]): Uint8Array[] {
  /** Cost of each region; region 0 is the function's own. */
  const costs = [0];
  /** Where each region's charge goes: the first instruction, or just after a loop's block type. */
  const points = [0];
  /** The region of each open block, innermost last. */
  const open = [0];
  points[0] = decodeBody(bytes, body, (instr, next) => {
    const region = open.at(-1)!;
    if (instr === OP.loop) {
      open.push(costs.length);
      points.push(next);
      costs.push(0);
    } else if (instr === OP.block || instr === OP.if) {
      open.push(region);
      if (instr === OP.if) costs[region]! += 1;
    } else if (instr === OP.end) {
      open.pop();
    } else if (instr !== OP.else) {
      costs[region]! += 1;
    }
  });
  const parts: Uint8Array[] = [];
  let copied = body.start;
  points.forEach((at, region) => {
    if (costs[region] === 0) return;
    parts.push(bytes.subarray(copied, at), charge(fuel, costs[region]!));
    copied = at;
  });
  parts.push(bytes.subarray(copied, body.end));
  const size = parts.reduce((n, p) => n + p.length, 0);
  return [Uint8Array.from(encodeU32(size)), ...parts];
}

/** A vector section's payload with `extra` entries appended, or a new one holding only them. */
function appendEntries(bytes: Uint8Array, existing: SectionSpan | undefined, extra: number[]): Uint8Array {
  if (!existing) return Uint8Array.from([1, ...extra]);
  const r = new CodeReader(bytes, existing.payload, existing.end);
  const count = r.u32();
  return concat([Uint8Array.from(encodeU32(count + 1)), bytes.subarray(r.pos, existing.end), Uint8Array.from(extra)]);
}

/** The module with some sections' payloads replaced, inserting each missing one in its place. */
function rebuild(bytes: Uint8Array, spans: SectionSpan[], payloads: Map<number, Uint8Array>): Uint8Array {
  const rank = (id: number): number => SECTION_ORDER.indexOf(id);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  const pending = new Map(payloads);
  for (const s of spans) {
    if (s.id !== SECTION.custom) {
      for (const [id, payload] of pending) {
        if (rank(id) < rank(s.id)) {
          parts.push(section(id, payload));
          pending.delete(id);
        }
      }
    }
    const payload = pending.get(s.id);
    pending.delete(s.id);
    parts.push(payload ? section(s.id, payload) : bytes.subarray(s.start, s.end));
  }
  for (const [id, payload] of pending) parts.push(section(id, payload));
  return concat(parts);
}

/**
 * A copy of the module that meters its CPU use: a new mutable i64 global, exported as
 * `tessera:fuel` and starting at `initialFuel` (what a start function runs with), pays for
 * every function entry and loop iteration, and the module traps with `unreachable` once it
 * drops below zero. The host sets the global to the budget before each call. The new global
 * comes after every existing one, so no index moves; all else is kept as it was, custom
 * sections included (offsets in DWARF debug info go stale, as after any code rewrite).
 */
export function instrumentFuel(bytes: Uint8Array, initialFuel = 0): Uint8Array {
  if (!Number.isSafeInteger(initialFuel) || initialFuel < 0) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `the initial fuel must be a non-negative integer, not ${initialFuel}`);
  }
  const shape = readModuleShape(bytes);
  if (shape.exports.some((e) => e.name === FUEL_EXPORT)) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `the module already exports "${FUEL_EXPORT}" (metered twice?)`);
  }
  const spans = sectionSpans(bytes);
  const find = (id: number): SectionSpan | undefined => spans.find((s) => s.id === id);
  const globals = find(GLOBAL_SECTION);
  const definedGlobals = globals ? new CodeReader(bytes, globals.payload, globals.end).u32() : 0;
  const importedGlobals = shape.imports.filter((i) => i.kind === 'global').length;
  const fuel = encodeU32(importedGlobals + definedGlobals);
  const name = new TextEncoder().encode(FUEL_EXPORT);

  const payloads = new Map<number, Uint8Array>([
    [GLOBAL_SECTION, appendEntries(bytes, globals, [I64, MUTABLE, op.i64Const, ...encodeI64(BigInt(initialFuel)), op.end])],
    [SECTION.export, appendEntries(bytes, find(SECTION.export), [...encodeU32(name.length), ...name, EXPORT_GLOBAL, ...fuel])],
  ]);
  const code = find(CODE_SECTION);
  if (code) {
    const importedFunctions = shape.imports.filter((i) => i.kind === 'func').length;
    const bodies = functionBodies(bytes, code, importedFunctions);
    payloads.set(CODE_SECTION, concat([Uint8Array.from(encodeU32(bodies.length)), ...bodies.flatMap((b) => meterBody(bytes, b, fuel))]));
  }
  return rebuild(bytes, spans, payloads);
}

/** Whether a trapped call stopped because its fuel ran out (the fuel global is negative). */
export function fuelExhausted(fuel: WebAssembly.Global): boolean {
  return (fuel.value as bigint) < 0n;
}
