// Adds function imports to a core module: they go at the end of its import section, so
// every function the module defines moves up by their number, and every place that names a
// defined function (calls and `ref.func` in code, exports, the start function, element
// segments, global initialisers) is renumbered. The metering (metering.ts) uses it to give
// instrumented code a way to call the host when its fuel runs out.
import { TesseraError } from '../errors.ts';
import { ENCODING, SECTION, concat, encodeU32 } from './wasm-binary.ts';
import { CodeReader, OP, type SectionSpan } from './wasm-instructions.ts';

const REF_FUNC = 0xd2;
const { funcType: FUNC_TYPE, exportFunc: EXPORT_FUNC } = ENCODING;

export interface AddedImport {
  module: string;
  name: string;
  params: number[];
  results: number[];
}

/** Renumbers a function index for `added` imports placed after the module's `imported` ones. */
export type FunctionShift = (index: number) => number;

export function functionShift(imported: number, added: number): FunctionShift {
  return (index) => (index >= imported ? index + added : index);
}

const utf8 = (text: string): number[] => {
  const b = new TextEncoder().encode(text);
  return [...encodeU32(b.length), ...b];
};

/** The instruction at `start..next` with its function-index immediate renumbered (call, return_call, ref.func). */
export function shiftedInstruction(bytes: Uint8Array, op: number, start: number, next: number, shift: FunctionShift): Uint8Array | undefined {
  if (op !== OP.call && op !== OP.returnCall && op !== REF_FUNC) return undefined;
  const index = new CodeReader(bytes, start + 1, next).u32();
  const moved = shift(index);
  return moved === index ? undefined : Uint8Array.of(op, ...encodeU32(moved));
}

/** A constant expression (up to and including its `end`) with `ref.func` renumbered. */
function shiftConstExpr(r: CodeReader, shift: FunctionShift): Uint8Array {
  const parts: Uint8Array[] = [];
  for (;;) {
    const start = r.pos;
    const op = r.instruction();
    parts.push(shiftedInstruction(r.bytes, op, start, r.pos, shift) ?? r.bytes.subarray(start, r.pos));
    if (op === OP.end) return concat(parts);
  }
}

function shiftIndexVector(r: CodeReader, shift: FunctionShift, out: number[]): void {
  const n = r.u32();
  out.push(...encodeU32(n));
  for (let i = 0; i < n; i++) out.push(...encodeU32(shift(r.u32())));
}

function shiftExprVector(r: CodeReader, shift: FunctionShift, out: Uint8Array[]): void {
  const n = r.u32();
  out.push(Uint8Array.from(encodeU32(n)));
  for (let i = 0; i < n; i++) out.push(shiftConstExpr(r, shift));
}

function shiftElements(bytes: Uint8Array, s: SectionSpan, shift: FunctionShift): Uint8Array {
  const r = new CodeReader(bytes, s.payload, s.end);
  const out: Uint8Array[] = [];
  const count = r.u32();
  out.push(Uint8Array.from(encodeU32(count)));
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    out.push(Uint8Array.from(encodeU32(flags)));
    const copyFrom = (from: number): void => void out.push(bytes.subarray(from, r.pos));
    if (flags > 7) throw new TesseraError('ERR_COMPONENT_LOAD', `malformed WebAssembly binary: element segment ${i} has unknown flags ${flags}`);
    if (flags === 2 || flags === 6) {
      const at = r.pos;
      r.u32();
      copyFrom(at);
    }
    if (flags === 0 || flags === 2 || flags === 4 || flags === 6) out.push(shiftConstExpr(r, shift));
    if (flags === 1 || flags === 2 || flags === 3) {
      const at = r.pos;
      r.byte(); // elemkind
      copyFrom(at);
    } else if (flags === 5 || flags === 6 || flags === 7) {
      const at = r.pos;
      r.skipValType(); // reftype
      copyFrom(at);
    }
    if (flags < 4) {
      const indices: number[] = [];
      shiftIndexVector(r, shift, indices);
      out.push(Uint8Array.from(indices));
    } else {
      shiftExprVector(r, shift, out);
    }
  }
  return concat(out);
}

function shiftGlobals(bytes: Uint8Array, s: SectionSpan, shift: FunctionShift): Uint8Array {
  const r = new CodeReader(bytes, s.payload, s.end);
  const out: Uint8Array[] = [];
  const count = r.u32();
  out.push(Uint8Array.from(encodeU32(count)));
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    r.skipValType();
    r.byte(); // mutability
    out.push(bytes.subarray(at, r.pos), shiftConstExpr(r, shift));
  }
  return concat(out);
}

function shiftExports(bytes: Uint8Array, s: SectionSpan, shift: FunctionShift): Uint8Array {
  const r = new CodeReader(bytes, s.payload, s.end);
  const out: number[] = [];
  const count = r.u32();
  out.push(...encodeU32(count));
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    r.skip(r.u32());
    const kind = r.byte();
    out.push(...bytes.subarray(at, r.pos));
    const index = r.u32();
    out.push(...encodeU32(kind === EXPORT_FUNC ? shift(index) : index));
  }
  return Uint8Array.from(out);
}

/** The type section with one function type appended per added import; their indices. */
function appendTypes(bytes: Uint8Array, s: SectionSpan | undefined, added: readonly AddedImport[]): { payload: Uint8Array; indices: number[] } {
  let count = 0;
  let body: Uint8Array = new Uint8Array();
  if (s) {
    const r = new CodeReader(bytes, s.payload, s.end);
    count = r.u32();
    const first = r.pos;
    for (let i = 0; i < count; i++) {
      if (r.byte() !== FUNC_TYPE) throw new TesseraError('ERR_COMPONENT_LOAD', `type ${i} of the module is not a function type (GC types are not supported)`);
      for (let n = r.u32(); n > 0; n--) r.skipValType();
      for (let n = r.u32(); n > 0; n--) r.skipValType();
    }
    body = bytes.subarray(first, s.end);
  }
  const types = added.map((a) => Uint8Array.of(FUNC_TYPE, ...encodeU32(a.params.length), ...a.params, ...encodeU32(a.results.length), ...a.results));
  return { payload: concat([Uint8Array.from(encodeU32(count + added.length)), body, ...types]), indices: added.map((_, i) => count + i) };
}

function appendImports(bytes: Uint8Array, s: SectionSpan | undefined, added: readonly AddedImport[], typeIndices: number[]): Uint8Array {
  let count = 0;
  let body: Uint8Array = new Uint8Array();
  if (s) {
    const r = new CodeReader(bytes, s.payload, s.end);
    count = r.u32();
    body = bytes.subarray(r.pos, s.end);
  }
  const entries = added.map((a, i) => Uint8Array.of(...utf8(a.module), ...utf8(a.name), EXPORT_FUNC, ...encodeU32(typeIndices[i]!)));
  return concat([Uint8Array.from(encodeU32(count + added.length)), body, ...entries]);
}

/**
 * New payloads for every section that names a function, with `added` imports appended; the
 * code section is the caller's (it rewrites bodies anyway), renumbering with `shift`. The
 * `name` section goes: its function names would be off by the added imports.
 */
export function addFunctionImports(
  bytes: Uint8Array,
  spans: readonly SectionSpan[],
  added: readonly AddedImport[],
  shift: FunctionShift,
): { payloads: Map<number, Uint8Array>; typeIndices: number[]; dropCustom: (span: SectionSpan) => boolean } {
  const find = (id: number): SectionSpan | undefined => spans.find((x) => x.id === id);
  const payloads = new Map<number, Uint8Array>();
  const types = appendTypes(bytes, find(SECTION.type), added);
  payloads.set(SECTION.type, types.payload);
  payloads.set(SECTION.import, appendImports(bytes, find(SECTION.import), added, types.indices));
  const exports = find(SECTION.export);
  if (exports) payloads.set(SECTION.export, shiftExports(bytes, exports, shift));
  const start = find(SECTION.start);
  if (start) payloads.set(SECTION.start, Uint8Array.from(encodeU32(shift(new CodeReader(bytes, start.payload, start.end).u32()))));
  const elements = find(SECTION.element);
  if (elements) payloads.set(SECTION.element, shiftElements(bytes, elements, shift));
  const globals = find(SECTION.global);
  if (globals) payloads.set(SECTION.global, shiftGlobals(bytes, globals, shift));
  const dropCustom = (span: SectionSpan): boolean => {
    if (span.id !== SECTION.custom) return false;
    const r = new CodeReader(bytes, span.payload, span.end);
    const length = r.u32();
    return new TextDecoder().decode(bytes.subarray(r.pos, r.pos + length)) === 'name';
  };
  return { payloads, typeIndices: types.indices, dropCustom };
}
