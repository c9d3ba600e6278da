// Lifting: guest memory and core values -> JS values (jco's shapes), as CanonicalABI.md's
// `load` and `lift_flat` define. Every pointer, length, tag and char from the guest is checked.
import {
  alignment,
  discriminantSize,
  elemSize,
  fieldOffsets,
  flattenType,
  i32AsF32,
  i64AsF64,
  isPrimitive,
  jsName,
  payloadOffset,
  SlotCursor,
  type CoreType,
} from './abi-layout.ts';
import { LIFT_ELEMENT_FLOOR, hex, trap, type GuestMemory } from './guest-memory.ts';
import { recordBuilder } from './record-code.ts';
import { describeType, type WitType } from './wit/ast.ts';

export interface AbiContext {
  mem: GuestMemory;
  /** Names the call in every error, e.g. `redis: state.get`. */
  label: string;
}

/** Reads a value stored at `ptr`, which the caller has checked is aligned and in bounds. */
export type Load = (ptr: number) => unknown;

/** A core value position: its index among the flat values, and the core type it has there. */
export interface Slot {
  index: number;
  have: CoreType;
}

export type FlatLift = (flat: ArrayLike<any>) => unknown;

// ignoreBOM keeps a leading U+FEFF as a character: the spec decodes the bytes as they are.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Up to this length an ASCII string built in JS beats a TextDecoder call (about 20 ns against
// 95 for 4 bytes on Node 24); V8 builds strings shorter than 13 characters flat.
const ASCII_FAST_MAX = 12;

/**
 * Most bytes of one string the host decodes. Decoding is work on the event loop (~1 ms a MiB),
 * and a guest's string ends up in a message, a header or a key, none of which is sensibly
 * longer: a longer one is cut, at a character boundary, and says how much was left out.
 */
export const MAX_LIFTED_STRING_BYTES = 1024 * 1024;

/**
 * The last string a lift site built. Content types, metadata names and ETags repeat from call
 * to call, and comparing a few bytes with the last one costs a fraction of building the string
 * again (or of a TextDecoder call, a trip into C++ that is slow while the caches are cold, as
 * they are between two HTTP requests). Only ASCII strings are kept: their UTF-16 code units
 * equal their UTF-8 bytes.
 */
interface LastString {
  text: string;
}

/** Longest string compared with the last one: past this, building it is the cost anyway. */
const REUSE_MAX = 256;

function sameAscii(text: string, u8: Uint8Array, ptr: number, len: number): boolean {
  if (text.length !== len) return false;
  for (let i = 0; i < len; i++) if (text.charCodeAt(i) !== u8[ptr + i]) return false;
  return true;
}

function liftString(cx: AbiContext, ptr: number, len: number, last: LastString): string {
  const u8 = cx.mem.u8;
  const end = ptr + len;
  if (end > u8.length) throw trap(cx.label, `string at ${hex(ptr)} of ${len} bytes runs past the end of guest memory (${u8.length} bytes)`);
  if (len > MAX_LIFTED_STRING_BYTES) {
    let cut = ptr + MAX_LIFTED_STRING_BYTES;
    while (cut > ptr && (u8[cut]! & 0xc0) === 0x80) cut--;
    cx.mem.spend(cx.label, cut - ptr);
    return `${decodeUtf8(cx, u8, ptr, cut)}… (${end - cut} more bytes)`;
  }
  if (len > ASCII_FAST_MAX) cx.mem.spend(cx.label, len);
  if (len > REUSE_MAX) return decodeUtf8(cx, u8, ptr, end);
  if (sameAscii(last.text, u8, ptr, len)) return last.text;
  const text = len <= ASCII_FAST_MAX ? shortString(cx, u8, ptr, end) : decodeUtf8(cx, u8, ptr, end);
  // As many UTF-16 units as UTF-8 bytes: every character was ASCII.
  if (text.length === len) last.text = text;
  return text;
}

function shortString(cx: AbiContext, u8: Uint8Array, ptr: number, end: number): string {
  let s = '';
  for (let i = ptr; i < end; i++) {
    const c = u8[i]!;
    if (c >= 0x80) return decodeUtf8(cx, u8, ptr, end);
    s += String.fromCharCode(c);
  }
  return s;
}

function decodeUtf8(cx: AbiContext, u8: Uint8Array, ptr: number, end: number): string {
  try {
    return decoder.decode(u8.subarray(ptr, end));
  } catch {
    throw trap(cx.label, `string at ${hex(ptr)} of ${end - ptr} bytes is not valid UTF-8`);
  }
}

function liftChar(cx: AbiContext, i: number): string {
  if (i >= 0x110000 || (i >= 0xd800 && i <= 0xdfff)) throw trap(cx.label, `${hex(i)} is not a valid char (a Unicode scalar value)`);
  return String.fromCodePoint(i);
}

/** The spec's `load_list_from_range`, specialized for the element type. */
function compileListRange(element: WitType, cx: AbiContext): (ptr: number, len: number) => unknown {
  const { mem, label } = cx;
  const what = `list<${describeType(element)}>`;
  const size = elemSize(element);
  const align = alignment(element);
  const outOfBounds = (ptr: number, len: number): Error =>
    trap(label, `${what} at ${hex(ptr)} with ${len} elements runs past the end of guest memory (${mem.u8.length} bytes)`);
  if (isPrimitive(element, 'u8')) {
    return (ptr, len) => {
      if (ptr + len > mem.u8.length) throw outOfBounds(ptr, len);
      mem.spend(label, len);
      return mem.u8.slice(ptr, ptr + len);
    };
  }
  const load = compileLoad(element, cx);
  return (ptr, len) => {
    if (ptr % align !== 0) throw trap(label, `${what} at ${hex(ptr)} is not aligned to ${align}`);
    if (ptr + len * size > mem.u8.length) throw outOfBounds(ptr, len);
    mem.spend(label, len * Math.max(size, LIFT_ELEMENT_FLOOR));
    const out: unknown[] = [];
    for (let i = 0; i < len; i++) out.push(load(ptr + i * size));
    return out;
  };
}

/** Builds the JS value of a variant-like type (variant, enum, option, result) from its case. */
type CaseBuilder = (index: number, payload: ((arg: any) => unknown) | undefined, arg: any) => unknown;

export type VariantLike = Extract<WitType, { kind: 'variant' | 'enum' | 'option' | 'result' }>;

function variantShape(t: VariantLike): { cases: (WitType | undefined)[]; build: CaseBuilder } {
  switch (t.kind) {
    case 'variant': {
      const tags = t.cases.map((c) => c.name);
      return {
        cases: t.cases.map((c) => c.type),
        build: (i, payload, arg) => (payload === undefined ? { tag: tags[i] } : { tag: tags[i], val: payload(arg) }),
      };
    }
    case 'enum': {
      const names = t.cases;
      return { cases: names.map(() => undefined), build: (i) => names[i] };
    }
    case 'option':
      return { cases: [undefined, t.inner], build: (i, payload, arg) => (i === 0 ? undefined : payload!(arg)) };
    case 'result':
      return {
        cases: [t.ok, t.err],
        build: (i, payload, arg) => ({ tag: i === 0 ? 'ok' : 'err', val: payload === undefined ? undefined : payload(arg) }),
      };
  }
}

function badDiscriminant(cx: AbiContext, i: number, what: string, n: number): Error {
  return trap(cx.label, `discriminant ${i} is out of range for ${what}, which has ${n} cases`);
}

/** The spec's `load`, compiled once for `t`. */
export function compileLoad(t: WitType, cx: AbiContext, name = describeType(t)): Load {
  const { mem } = cx;
  switch (t.kind) {
    case 'named':
      return compileLoad(t.type, cx, t.name);
    case 'variant':
    case 'enum':
    case 'option':
    case 'result':
      return loadVariant(t, cx, name);
    case 'list': {
      const range = compileListRange(t.element, cx);
      return (p) => range(mem.view.getUint32(p, true), mem.view.getUint32(p + 4, true));
    }
    case 'primitive':
      switch (t.name) {
        case 'bool':
          return (p) => mem.u8[p] !== 0;
        case 'u8':
          return (p) => mem.u8[p];
        case 's8':
          return (p) => (mem.u8[p]! << 24) >> 24;
        case 'u16':
          return (p) => mem.view.getUint16(p, true);
        case 's16':
          return (p) => mem.view.getInt16(p, true);
        case 'u32':
          return (p) => mem.view.getUint32(p, true);
        case 's32':
          return (p) => mem.view.getInt32(p, true);
        case 'u64':
          return (p) => mem.view.getBigUint64(p, true);
        case 's64':
          return (p) => mem.view.getBigInt64(p, true);
        case 'f32':
          return (p) => mem.view.getFloat32(p, true);
        case 'f64':
          return (p) => mem.view.getFloat64(p, true);
        case 'char':
          return (p) => liftChar(cx, mem.view.getUint32(p, true));
        case 'string': {
          const last: LastString = { text: '' };
          return (p) => liftString(cx, mem.view.getUint32(p, true), mem.view.getUint32(p + 4, true), last);
        }
      }
    case 'record': {
      const names = t.fields.map((f) => jsName(f.name));
      const offsets = fieldOffsets(t.fields.map((f) => f.type));
      return recordBuilder(names, t.fields.map((f) => compileLoad(f.type, cx)), offsets);
    }
    case 'tuple': {
      const offsets = fieldOffsets(t.elements);
      const loads = t.elements.map((e) => compileLoad(e, cx));
      return (p) => loads.map((load, i) => load(p + offsets[i]!));
    }
    case 'flags': {
      const unpack = flagsUnpacker(t.flags);
      const bits: Load =
        t.flags.length <= 8 ? (p) => mem.u8[p] : t.flags.length <= 16 ? (p) => mem.view.getUint16(p, true) : (p) => mem.view.getUint32(p, true);
      return (p) => unpack(bits(p) as number);
    }
  }
}

function loadVariant(t: VariantLike, cx: AbiContext, name: string): Load {
  const { mem } = cx;
  const { cases, build } = variantShape(t);
  const n = cases.length;
  const discSize = discriminantSize(n);
  const offset = payloadOffset(cases);
  const loads = cases.map((c) => c && compileLoad(c, cx));
  const disc: Load =
    discSize === 1 ? (p) => mem.u8[p] : discSize === 2 ? (p) => mem.view.getUint16(p, true) : (p) => mem.view.getUint32(p, true);
  return (ptr) => {
    const i = disc(ptr) as number;
    if (i >= n) throw badDiscriminant(cx, i, name, n);
    return build(i, loads[i], ptr + offset);
  };
}

function flagsUnpacker(flags: string[]): (bits: number) => Record<string, boolean> {
  const names = flags.map(jsName);
  return (bits) => {
    const o: Record<string, boolean> = {};
    for (let i = 0; i < names.length; i++) o[names[i]!] = ((bits >>> i) & 1) === 1;
    return o;
  };
}

/** Reads one slot as core type `want`, undoing the widening `join` did for a variant payload. */
function reader(slot: Slot, want: CoreType): (flat: ArrayLike<any>) => any {
  const i = slot.index;
  if (slot.have === want) return (f) => f[i];
  // join() only ever widens an f32 to i32, or anything to i64.
  if (slot.have === 'i32') return (f) => i32AsF32(f[i]);
  if (want === 'i32') return (f) => Number(BigInt.asIntN(32, f[i]));
  if (want === 'f32') return (f) => i32AsF32(Number(BigInt.asIntN(32, f[i])));
  return (f) => i64AsF64(f[i]);
}

/** The spec's `lift_flat`, compiled once for `t` reading the given slots of the flat values. */
export function compileLiftFlat(t: WitType, cx: AbiContext, slots: Slot[]): FlatLift {
  return liftFlat(t, cx, new SlotCursor(slots), describeType(t));
}

function liftFlat(t: WitType, cx: AbiContext, cur: SlotCursor<Slot>, name: string): FlatLift {
  switch (t.kind) {
    case 'named':
      return liftFlat(t.type, cx, cur, t.name);
    case 'variant':
    case 'enum':
    case 'option':
    case 'result':
      return liftFlatVariant(t, cx, cur, name);
    case 'list': {
      const range = compileListRange(t.element, cx);
      const ptr = reader(cur.next(), 'i32');
      const len = reader(cur.next(), 'i32');
      return (f) => range(ptr(f) >>> 0, len(f) >>> 0);
    }
    case 'primitive': {
      if (t.name === 'string') {
        const ptr = reader(cur.next(), 'i32');
        const len = reader(cur.next(), 'i32');
        const last: LastString = { text: '' };
        return (f) => liftString(cx, ptr(f) >>> 0, len(f) >>> 0, last);
      }
      const [want] = flattenType(t) as [CoreType];
      const r = reader(cur.next(), want);
      switch (t.name) {
        case 'bool':
          return (f) => r(f) !== 0;
        case 'u8':
          return (f) => (r(f) as number) & 0xff;
        case 's8':
          return (f) => ((r(f) as number) << 24) >> 24;
        case 'u16':
          return (f) => (r(f) as number) & 0xffff;
        case 's16':
          return (f) => ((r(f) as number) << 16) >> 16;
        case 'u32':
          return (f) => (r(f) as number) >>> 0;
        case 's32':
          return (f) => (r(f) as number) | 0;
        case 'u64':
          return (f) => BigInt.asUintN(64, r(f) as bigint);
        case 's64':
          return (f) => BigInt.asIntN(64, r(f) as bigint);
        case 'f32':
        case 'f64':
          return r;
        case 'char':
          return (f) => liftChar(cx, (r(f) as number) >>> 0);
      }
    }
    case 'record': {
      const names = t.fields.map((f) => jsName(f.name));
      return recordBuilder(names, t.fields.map((f) => liftFlat(f.type, cx, cur, describeType(f.type))));
    }
    case 'tuple': {
      const lifts = t.elements.map((e) => liftFlat(e, cx, cur, describeType(e)));
      return (f) => lifts.map((lift) => lift(f));
    }
    case 'flags': {
      const unpack = flagsUnpacker(t.flags);
      const r = reader(cur.next(), 'i32');
      return (f) => unpack(r(f) as number);
    }
  }
}

function liftFlatVariant(t: VariantLike, cx: AbiContext, cur: SlotCursor<Slot>, name: string): FlatLift {
  const { cases, build } = variantShape(t);
  const n = cases.length;
  const disc = reader(cur.next(), 'i32');
  // Every case reads from the start of the payload slots, which `join` widened to fit them all.
  const payloadSlots = cur.take(flattenType(t).length - 1);
  const lifts = cases.map((c) => c && liftFlat(c, cx, new SlotCursor(payloadSlots), describeType(c)));
  return (f) => {
    const i = disc(f) >>> 0;
    if (i >= n) throw badDiscriminant(cx, i, name, n);
    return build(i, lifts[i], f);
  };
}
