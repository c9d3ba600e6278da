// Lowering: JS values (jco's shapes) -> guest memory and core values, as CanonicalABI.md's
// `store` and `lower_flat` define. Strings and lists go where the guest's cabi_realloc says.
import {
  alignment,
  discriminantSize,
  elemSize,
  f32AsI32,
  f64AsI64,
  fieldOffsets,
  flattenType,
  isPrimitive,
  jsName,
  payloadOffset,
  SlotCursor,
  type CoreType,
} from './abi-layout.ts';
import type { AbiContext, VariantLike } from './abi-lift.ts';
import { badHostValue, trap } from './guest-memory.ts';
import { recordVisitor } from './record-code.ts';
import { describeType, type WitPrimitiveName, type WitType } from './wit/ast.ts';

/** Writes `v` at `ptr`, which the caller has allocated, aligned, for the type. */
export type Store = (v: any, ptr: number) => void;

/** Writes `v` into its slots of the flat values `out`. */
export type FlatLower = (v: any, out: unknown[]) => void;

/** A core value position: its index among the flat values, and the core type it must have. */
export interface LowerSlot {
  index: number;
  want: CoreType;
}

const encoder = new TextEncoder();

// Below this length a charCodeAt loop beats TextEncoder.encodeInto (measured on Node 24).
const ASCII_LOOP_MAX = 32;

// Where `lowerString` left the string; read right after each call (nothing runs in between).
const lowered = { ptr: 0, len: 0 };

/**
 * A zero-length string or list owns no memory and its pointer may be anything (ABI.md, "Who
 * owns what"; jco passes 1): it gets an aligned pointer without a `cabi_realloc` call, which
 * would be a call into the guest (metered, a wasm transition) for nothing. An empty
 * `metadata` list is in nearly every request.
 */
function lowerEmpty(align: number): void {
  lowered.ptr = align;
  lowered.len = 0;
}

/**
 * The spec's `store_string_into_range` from a UTF-16 source (a JS string) into UTF-8: allocate
 * one byte per code unit, and only when a non-ASCII one turns up grow to the worst case (3 per
 * unit) and shrink to fit — so an ASCII string costs one cabi_realloc call.
 */
function lowerString(cx: AbiContext, s: unknown): void {
  if (typeof s !== 'string') throw badHostValue(cx.label, 'a string', s);
  const { mem, label } = cx;
  const n = s.length;
  if (n === 0) return lowerEmpty(1);
  let ptr = mem.realloc(label, 0, 0, 1, n);
  let u8 = mem.u8;
  let read = 0;
  let written = 0;
  if (n <= ASCII_LOOP_MAX) {
    for (; read < n; read++) {
      const c = s.charCodeAt(read);
      if (c >= 0x80) break;
      u8[ptr + read] = c;
    }
    written = read;
  } else {
    ({ read, written } = encoder.encodeInto(s, u8.subarray(ptr, ptr + n)));
  }
  if (read < n) {
    const worst = 3 * n;
    ptr = mem.realloc(label, ptr, n, 1, worst);
    u8 = mem.u8;
    written += encoder.encodeInto(read === 0 ? s : s.slice(read), u8.subarray(ptr + written, ptr + worst)).written;
    if (written < worst) ptr = mem.realloc(label, ptr, worst, 1, written);
  }
  lowered.ptr = ptr;
  lowered.len = written;
}

/** The spec's `store_list_into_range`, specialized for the element type. */
function compileListLowering(element: WitType, cx: AbiContext): (v: unknown) => void {
  const { mem, label } = cx;
  if (isPrimitive(element, 'u8')) {
    return (v) => {
      if (!(v instanceof Uint8Array)) throw badHostValue(label, 'a Uint8Array for list<u8>', v);
      if (v.length === 0) return lowerEmpty(1);
      const ptr = mem.realloc(label, 0, 0, 1, v.length);
      mem.u8.set(v, ptr);
      lowered.ptr = ptr;
      lowered.len = v.length;
    };
  }
  const size = elemSize(element);
  const align = alignment(element);
  const store = compileStore(element, cx);
  const what = `list<${describeType(element)}>`;
  return (v) => {
    if (!Array.isArray(v)) throw badHostValue(label, `an array for ${what}`, v);
    const len = v.length;
    if (len * size >= 2 ** 32) throw trap(label, `${what} of ${len} elements does not fit in 32-bit guest memory`);
    if (len === 0) return lowerEmpty(align);
    const ptr = mem.realloc(label, 0, 0, align, len * size);
    for (let i = 0; i < len; i++) store(v[i], ptr + i * size);
    lowered.ptr = ptr;
    lowered.len = len;
  };
}

/** Checks a JS number or bigint fits the primitive and returns it as its core value. */
function compileScalarCheck(name: Exclude<WitPrimitiveName, 'string'>, label: string): (v: any) => any {
  const bad = (v: unknown): Error => badHostValue(label, name, v);
  switch (name) {
    case 'bool':
      return (v) => {
        if (typeof v !== 'boolean') throw bad(v);
        return v ? 1 : 0;
      };
    case 'u8':
      return (v) => {
        if ((v & 0xff) !== v) throw bad(v);
        return v;
      };
    case 's8':
      return (v) => {
        if ((v << 24) >> 24 !== v) throw bad(v);
        return v;
      };
    case 'u16':
      return (v) => {
        if ((v & 0xffff) !== v) throw bad(v);
        return v;
      };
    case 's16':
      return (v) => {
        if ((v << 16) >> 16 !== v) throw bad(v);
        return v;
      };
    case 'u32':
      return (v) => {
        if (v >>> 0 !== v) throw bad(v);
        return v;
      };
    case 's32':
      return (v) => {
        if ((v | 0) !== v) throw bad(v);
        return v;
      };
    case 'u64':
      return (v) => {
        if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v) throw bad(v);
        return v;
      };
    case 's64':
      return (v) => {
        if (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v) throw bad(v);
        return v;
      };
    case 'f32':
    case 'f64':
      return (v) => {
        if (typeof v !== 'number') throw bad(v);
        return v;
      };
    case 'char':
      return (v) => {
        const cp = typeof v === 'string' ? v.codePointAt(0) : undefined;
        if (cp === undefined || v.length !== (cp > 0xffff ? 2 : 1) || (cp >= 0xd800 && cp <= 0xdfff)) {
          throw badHostValue(label, 'char (a string of one Unicode scalar value)', v);
        }
        return cp;
      };
  }
}

/** How a variant-like value picks its case and carries its payload. */
function caseSelector(t: VariantLike, label: string, name: string): { cases: (WitType | undefined)[]; index: (v: any) => number; payload: (v: any) => unknown } {
  const byTag = (tags: string[]): ((tag: unknown) => number) => {
    const map = new Map(tags.map((tag, i) => [tag, i]));
    return (tag) => map.get(tag as string) ?? -1;
  };
  const check = (i: number, v: unknown, expected: string): number => {
    if (i < 0) throw badHostValue(label, `${name} (${expected})`, typeof v === 'object' && v !== null ? (v as { tag?: unknown }).tag : v);
    return i;
  };
  switch (t.kind) {
    case 'variant': {
      const tags = t.cases.map((c) => c.name);
      const find = byTag(tags);
      const expected = `{ tag: ${tags.map((tag) => `'${tag}'`).join(' | ')} }`;
      return { cases: t.cases.map((c) => c.type), index: (v) => check(find(v?.tag), v, expected), payload: (v) => v.val };
    }
    case 'enum': {
      const find = byTag(t.cases);
      const expected = t.cases.map((c) => `'${c}'`).join(' | ');
      return { cases: t.cases.map(() => undefined), index: (v) => check(find(v), v, expected), payload: () => undefined };
    }
    case 'option':
      return { cases: [undefined, t.inner], index: (v) => (v === undefined || v === null ? 0 : 1), payload: (v) => v };
    case 'result': {
      const find = byTag(['ok', 'err']);
      return { cases: [t.ok, t.err], index: (v) => check(find(v?.tag), v, "{ tag: 'ok' | 'err' }"), payload: (v) => v.val };
    }
  }
}

function checkObject(label: string, what: string, v: unknown): void {
  if (typeof v !== 'object' || v === null) throw badHostValue(label, what, v);
}

/** The spec's `store`, compiled once for `t`. */
export function compileStore(t: WitType, cx: AbiContext, name = describeType(t)): Store {
  const { mem, label } = cx;
  switch (t.kind) {
    case 'named':
      return compileStore(t.type, cx, t.name);
    case 'variant':
    case 'enum':
    case 'option':
    case 'result': {
      const { cases, index, payload } = caseSelector(t, label, name);
      const discSize = discriminantSize(cases.length);
      const offset = payloadOffset(cases);
      const stores = cases.map((c) => c && compileStore(c, cx));
      const disc: Store =
        discSize === 1 ? (i, p) => (mem.u8[p] = i) : discSize === 2 ? (i, p) => mem.view.setUint16(p, i, true) : (i, p) => mem.view.setUint32(p, i, true);
      return (v, p) => {
        const i = index(v);
        disc(i, p);
        const store = stores[i];
        if (store !== undefined) store(payload(v), p + offset);
      };
    }
    case 'list': {
      const lower = compileListLowering(t.element, cx);
      return (v, p) => {
        lower(v);
        mem.view.setUint32(p, lowered.ptr, true);
        mem.view.setUint32(p + 4, lowered.len, true);
      };
    }
    case 'primitive': {
      if (t.name === 'string') {
        return (v, p) => {
          lowerString(cx, v);
          mem.view.setUint32(p, lowered.ptr, true);
          mem.view.setUint32(p + 4, lowered.len, true);
        };
      }
      const check = compileScalarCheck(t.name, label);
      switch (t.name) {
        case 'bool':
        case 'u8':
        case 's8':
          return (v, p) => (mem.u8[p] = check(v));
        case 'u16':
        case 's16':
          return (v, p) => mem.view.setUint16(p, check(v), true);
        case 'u32':
        case 's32':
        case 'char':
          return (v, p) => mem.view.setUint32(p, check(v), true);
        case 'u64':
        case 's64':
          return (v, p) => mem.view.setBigUint64(p, check(v), true);
        case 'f32':
          return (v, p) => mem.view.setFloat32(p, check(v), true);
        case 'f64':
          return (v, p) => mem.view.setFloat64(p, check(v), true);
      }
    }
    case 'record': {
      const names = t.fields.map((f) => jsName(f.name));
      const offsets = fieldOffsets(t.fields.map((f) => f.type));
      const write = recordVisitor(names, t.fields.map((f) => compileStore(f.type, cx)), offsets);
      return (v, p) => {
        checkObject(label, `record ${name}`, v);
        write(v, p);
      };
    }
    case 'tuple': {
      const offsets = fieldOffsets(t.elements);
      const stores = t.elements.map((e) => compileStore(e, cx));
      return (v, p) => {
        if (!Array.isArray(v) || v.length !== stores.length) throw badHostValue(label, `an array of ${stores.length} for ${name}`, v);
        for (let i = 0; i < stores.length; i++) stores[i]!(v[i], p + offsets[i]!);
      };
    }
    case 'flags': {
      const pack = flagsPacker(t.flags, label, name);
      if (t.flags.length <= 8) return (v, p) => (mem.u8[p] = pack(v));
      if (t.flags.length <= 16) return (v, p) => mem.view.setUint16(p, pack(v), true);
      return (v, p) => mem.view.setUint32(p, pack(v), true);
    }
  }
}

function flagsPacker(flags: string[], label: string, name: string): (v: any) => number {
  const names = flags.map(jsName);
  return (v) => {
    checkObject(label, `flags ${name} (an object of booleans)`, v);
    let bits = 0;
    for (let i = 0; i < names.length; i++) if (v[names[i]!]) bits |= 1 << i;
    return bits >>> 0;
  };
}

/** Writes a core value of type `have` into a slot of type `want`, widening as `join` did. */
function writer(slot: LowerSlot, have: CoreType): (out: unknown[], x: any) => void {
  const i = slot.index;
  if (slot.want === have) return (out, x) => (out[i] = x);
  // join() only ever widens an f32 to i32, or anything to i64.
  if (slot.want === 'i32') return (out, x) => (out[i] = f32AsI32(x));
  if (have === 'i32') return (out, x) => (out[i] = BigInt(x >>> 0));
  if (have === 'f32') return (out, x) => (out[i] = BigInt(f32AsI32(x) >>> 0));
  return (out, x) => (out[i] = f64AsI64(x));
}

/** The spec's `lower_flat`, compiled once for `t` writing the given slots of the flat values. */
export function compileLowerFlat(t: WitType, cx: AbiContext, slots: LowerSlot[]): FlatLower {
  return lowerFlat(t, cx, new SlotCursor(slots), describeType(t));
}

function lowerFlat(t: WitType, cx: AbiContext, cur: SlotCursor<LowerSlot>, name: string): FlatLower {
  const { label } = cx;
  switch (t.kind) {
    case 'named':
      return lowerFlat(t.type, cx, cur, t.name);
    case 'variant':
    case 'enum':
    case 'option':
    case 'result': {
      const { cases, index, payload } = caseSelector(t, label, name);
      const disc = writer(cur.next(), 'i32');
      const payloadSlots = cur.take(flattenType(t).length - 1);
      const lowers = cases.map((c) => c && lowerFlat(c, cx, new SlotCursor(payloadSlots), describeType(c)));
      // The slots a case leaves unused still carry a value: zero, as the spec pads them.
      const padding = cases.map((c) => payloadSlots.slice(c === undefined ? 0 : flattenType(c).length));
      return (v, out) => {
        const i = index(v);
        disc(out, i);
        const lower = lowers[i];
        if (lower !== undefined) lower(payload(v), out);
        for (const slot of padding[i]!) out[slot.index] = slot.want === 'i64' ? 0n : 0;
      };
    }
    case 'list': {
      const lower = compileListLowering(t.element, cx);
      const ptr = writer(cur.next(), 'i32');
      const len = writer(cur.next(), 'i32');
      return (v, out) => {
        lower(v);
        ptr(out, lowered.ptr);
        len(out, lowered.len);
      };
    }
    case 'primitive': {
      if (t.name === 'string') {
        const ptr = writer(cur.next(), 'i32');
        const len = writer(cur.next(), 'i32');
        return (v, out) => {
          lowerString(cx, v);
          ptr(out, lowered.ptr);
          len(out, lowered.len);
        };
      }
      const check = compileScalarCheck(t.name, label);
      const w = writer(cur.next(), flattenType(t)[0]!);
      return (v, out) => w(out, check(v));
    }
    case 'record': {
      const names = t.fields.map((f) => jsName(f.name));
      const write = recordVisitor(names, t.fields.map((f) => lowerFlat(f.type, cx, cur, describeType(f.type))));
      return (v, out) => {
        checkObject(label, `record ${name}`, v);
        write(v, out);
      };
    }
    case 'tuple': {
      const lowers = t.elements.map((e) => lowerFlat(e, cx, cur, describeType(e)));
      return (v, out) => {
        if (!Array.isArray(v) || v.length !== lowers.length) throw badHostValue(label, `an array of ${lowers.length} for ${name}`, v);
        for (let i = 0; i < lowers.length; i++) lowers[i]!(v[i], out);
      };
    }
    case 'flags': {
      const pack = flagsPacker(t.flags, label, name);
      const w = writer(cur.next(), 'i32');
      return (v, out) => w(out, pack(v));
    }
  }
}
