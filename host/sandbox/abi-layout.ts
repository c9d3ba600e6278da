// Canonical ABI layout: alignment, element size and flattening of WIT types, following
// CanonicalABI.md (`despecialize`, `alignment`, `elem_size`, `flatten_type`, `join`).
import { perType, type WitFunction, type WitPrimitiveName, type WitType } from './wit/ast.ts';

export type CoreType = 'i32' | 'i64' | 'f32' | 'f64';

export const MAX_FLAT_PARAMS = 16;
export const MAX_FLAT_RESULTS = 1;

/** The spec's `despecialize`: tuples become records, enum/option/result become variants. */
export type Despecialized =
  | { kind: 'scalar'; size: 1 | 2 | 4 | 8; flat: CoreType }
  | { kind: 'string' | 'list' }
  | { kind: 'record'; fields: WitType[] }
  | { kind: 'variant'; cases: (WitType | undefined)[] }
  | { kind: 'flags'; count: number };

const SCALARS = {
  bool: { size: 1, flat: 'i32' },
  u8: { size: 1, flat: 'i32' },
  s8: { size: 1, flat: 'i32' },
  u16: { size: 2, flat: 'i32' },
  s16: { size: 2, flat: 'i32' },
  u32: { size: 4, flat: 'i32' },
  s32: { size: 4, flat: 'i32' },
  char: { size: 4, flat: 'i32' },
  u64: { size: 8, flat: 'i64' },
  s64: { size: 8, flat: 'i64' },
  f32: { size: 4, flat: 'f32' },
  f64: { size: 8, flat: 'f64' },
} as const;

/**
 * The layout functions are pure functions of a type, and the canonical ABI's compilers ask
 * them again and again for the same types (a record's alignment asks each field's, its size
 * asks the fields' offsets, which ask each field's alignment and size again), for every
 * export and import at every instance's start: their answers are kept per type object
 * (perType). Without this, a state.memory instance's start allocated about 0.5 MB of
 * throwaway layout objects, and a wake from hibernation paid for them in scavenges. Shared
 * answers are frozen.
 */
export const despecialize: (t: WitType) => Despecialized = perType((t) => Object.freeze(despecializeNew(t)));

function despecializeNew(t: WitType): Despecialized {
  switch (t.kind) {
    case 'named':
      return despecialize(t.type);
    case 'primitive':
      return t.name === 'string' ? { kind: 'string' } : { kind: 'scalar', ...SCALARS[t.name] };
    case 'list':
      return { kind: 'list' };
    case 'record':
      return { kind: 'record', fields: t.fields.map((f) => f.type) };
    case 'tuple':
      return { kind: 'record', fields: t.elements };
    case 'variant':
      return { kind: 'variant', cases: t.cases.map((c) => c.type) };
    case 'enum':
      return { kind: 'variant', cases: t.cases.map(() => undefined) };
    case 'option':
      return { kind: 'variant', cases: [undefined, t.inner] };
    case 'result':
      return { kind: 'variant', cases: [t.ok, t.err] };
    case 'flags':
      return { kind: 'flags', count: t.flags.length };
  }
}

export function isPrimitive(t: WitType, name: WitPrimitiveName): boolean {
  while (t.kind === 'named') t = t.type;
  return t.kind === 'primitive' && t.name === name;
}

/** Walks the flat-value slots of a function's parameters or results while compiling. */
export class SlotCursor<S> {
  readonly #slots: S[];
  #i = 0;

  constructor(slots: S[]) {
    this.#slots = slots;
  }

  next(): S {
    return this.#slots[this.#i++]!;
  }

  take(n: number): S[] {
    const taken = this.#slots.slice(this.#i, this.#i + n);
    this.#i += n;
    return taken;
  }
}

export function alignTo(ptr: number, align: number): number {
  return Math.ceil(ptr / align) * align;
}

export const alignment: (t: WitType) => number = perType(alignmentNew);

function alignmentNew(t: WitType): number {
  const d = despecialize(t);
  switch (d.kind) {
    case 'scalar':
      return d.size;
    case 'string':
    case 'list':
      return 4;
    case 'record':
      return d.fields.reduce((a, f) => Math.max(a, alignment(f)), 1);
    case 'variant':
      return Math.max(discriminantSize(d.cases.length), maxCaseAlignment(d.cases));
    case 'flags':
      return flagsSize(d.count);
  }
}

export const elemSize: (t: WitType) => number = perType(elemSizeNew);

function elemSizeNew(t: WitType): number {
  const d = despecialize(t);
  switch (d.kind) {
    case 'scalar':
      return d.size;
    case 'string':
    case 'list':
      return 8;
    case 'record': {
      const offsets = fieldOffsets(d.fields);
      const last = d.fields.length - 1;
      return alignTo(offsets[last]! + elemSize(d.fields[last]!), alignment(t));
    }
    case 'variant': {
      const payload = d.cases.reduce((s, c) => (c === undefined ? s : Math.max(s, elemSize(c))), 0);
      return alignTo(payloadOffset(d.cases) + payload, alignment(t));
    }
    case 'flags':
      return flagsSize(d.count);
  }
}

/** Byte offset of each field from the start of an (aligned) record, as `store_record` walks them. */
export function fieldOffsets(fields: WitType[]): number[] {
  let s = 0;
  return fields.map((f) => {
    s = alignTo(s, alignment(f));
    const at = s;
    s += elemSize(f);
    return at;
  });
}

/** The spec's `discriminant_type`, as its byte size: u8, u16 or u32. */
export function discriminantSize(caseCount: number): 1 | 2 | 4 {
  return caseCount <= 0x100 ? 1 : caseCount <= 0x10000 ? 2 : 4;
}

export function maxCaseAlignment(cases: (WitType | undefined)[]): number {
  return cases.reduce((a, c) => (c === undefined ? a : Math.max(a, alignment(c))), 1);
}

/** Where a variant's payload starts, from the start of the variant. */
export function payloadOffset(cases: (WitType | undefined)[]): number {
  return alignTo(discriminantSize(cases.length), maxCaseAlignment(cases));
}

// ABI 0.1.0 caps flags at 32 (the parser refuses more), so one integer always holds them.
function flagsSize(count: number): 1 | 2 | 4 {
  return count <= 8 ? 1 : count <= 16 ? 2 : 4;
}

export function join(a: CoreType, b: CoreType): CoreType {
  if (a === b) return a;
  if ((a === 'i32' && b === 'f32') || (a === 'f32' && b === 'i32')) return 'i32';
  return 'i64';
}

export const flattenType: (t: WitType) => readonly CoreType[] = perType((t) => Object.freeze(flattenTypeNew(t)));

function flattenTypeNew(t: WitType): CoreType[] {
  const d = despecialize(t);
  switch (d.kind) {
    case 'scalar':
      return [d.flat];
    case 'string':
    case 'list':
      return ['i32', 'i32'];
    case 'record':
      return flattenTypes(d.fields);
    case 'variant': {
      const flat: CoreType[] = [];
      for (const c of d.cases) {
        if (c === undefined) continue;
        flattenType(c).forEach((ft, i) => {
          flat[i] = i < flat.length ? join(flat[i]!, ft) : ft;
        });
      }
      return ['i32', ...flat];
    }
    case 'flags':
      return ['i32'];
  }
}

export function flattenTypes(ts: WitType[]): CoreType[] {
  return ts.flatMap(flattenType);
}

/** The parameters or results of a function as the tuple the spec spills to memory. */
export function tupleOf(ts: WitType[]): WitType {
  return { kind: 'tuple', elements: ts };
}

export function resultTypes(fn: WitFunction): WitType[] {
  return fn.result === undefined ? [] : [fn.result];
}

/** The spec's `flatten_functype`: `lift` for exports the host calls, `lower` for imports. */
export function flattenFunctype(fn: WitFunction, context: 'lift' | 'lower'): { params: CoreType[]; results: CoreType[] } {
  let params = flattenTypes(fn.params.map((p) => p.type));
  if (params.length > MAX_FLAT_PARAMS) params = ['i32'];
  let results = flattenTypes(resultTypes(fn));
  if (results.length > MAX_FLAT_RESULTS) {
    if (context === 'lift') {
      results = ['i32'];
    } else {
      params = [...params, 'i32'];
      results = [];
    }
  }
  return { params, results };
}

/** jsName's answers: the names are the contract's own (a bounded set), asked at every instance's start; capped all the same. */
const jsNames = new Map<string, string>();
const JS_NAMES_KEPT = 4096;

/** jco's JavaScript name for a record field or flag: `content-type` -> `contentType`. */
export function jsName(witName: string): string {
  let name = jsNames.get(witName);
  if (name === undefined) {
    name = jsNameNew(witName);
    if (jsNames.size < JS_NAMES_KEPT) jsNames.set(witName, name);
  }
  return name;
}

function jsNameNew(witName: string): string {
  return witName
    .split('-')
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
}

// Bit casts between core types, for variant payloads flattened through `join`.
const scratch = new DataView(new ArrayBuffer(8));

export function i32AsF32(i: number): number {
  scratch.setInt32(0, i, true);
  return scratch.getFloat32(0, true);
}

export function f32AsI32(f: number): number {
  scratch.setFloat32(0, f, true);
  return scratch.getInt32(0, true);
}

export function i64AsF64(i: bigint): number {
  scratch.setBigInt64(0, i, true);
  return scratch.getFloat64(0, true);
}

export function f64AsI64(f: number): bigint {
  scratch.setFloat64(0, f, true);
  return scratch.getBigInt64(0, true);
}
