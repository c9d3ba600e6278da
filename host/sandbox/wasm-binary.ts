// Reads and rewrites WebAssembly binaries at the section level: enough to find the manifest,
// list typed imports and exports before compiling, cap a module's memory, and let build
// tools rename exports and append sections. It never touches code.
import { TesseraError } from '../errors.ts';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const CORE_VERSION = [0x01, 0x00, 0x00, 0x00];
/** Component Model binaries share the magic but carry version 0x0d and layer 1. */
const COMPONENT_VERSION = [0x0d, 0x00, 0x01, 0x00];

export const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

/** Bytes of the binary format the code rewriters write (metering.ts, grow-watch.ts, function-imports.ts). */
export const ENCODING = {
  i32: 0x7f,
  i64: 0x7e,
  funcType: 0x60,
  emptyBlock: 0x40,
  mutable: 0x01,
  exportFunc: 0x00,
  exportGlobal: 0x03,
} as const;

export const PAGE_BYTES = 65536;

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export interface FuncType {
  params: ValType[];
  results: ValType[];
}
export type ExternKind = 'func' | 'table' | 'memory' | 'global' | 'tag';
export interface ImportEntry {
  module: string;
  name: string;
  kind: ExternKind;
  /** The function type, for function imports. */
  type?: FuncType;
}
export interface ExportEntry {
  name: string;
  kind: ExternKind;
  /** The function type, for function exports. */
  type?: FuncType;
}
export interface MemoryLimits {
  min: number;
  max: number | undefined;
  shared: boolean;
  memory64: boolean;
}

export interface Section {
  id: number;
  /** Offset of the section id byte. */
  start: number;
  /** Offset of the payload. */
  payload: number;
  /** Offset one past the payload. */
  end: number;
}

function malformed(message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', `malformed WebAssembly binary: ${message}`);
}

/**
 * A cursor over a byte range that fails with a clear error instead of reading past it.
 * `fail` makes the error: the component-binary reader passes its own.
 */
export class Reader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  readonly fail: (message: string) => Error;

  constructor(bytes: Uint8Array, pos: number, end: number, fail: (message: string) => Error = malformed) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
    this.fail = fail;
  }

  byte(): number {
    if (this.pos >= this.end) throw this.fail(`unexpected end at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      if (shift === 28 && b > 0x0f) throw this.fail(`LEB128 integer too large at byte ${this.pos - 1}`);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }

  /** Skips a LEB128 of any width (used for 64-bit limits). */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw this.fail(`LEB128 integer too long at byte ${this.pos}`);
  }

  name(): string {
    const len = this.u32();
    if (this.pos + len > this.end) throw this.fail(`name runs past its section at byte ${this.pos}`);
    const text = new TextDecoder('utf-8', { fatal: true });
    try {
      return text.decode(this.bytes.subarray(this.pos, (this.pos += len)));
    } catch {
      throw this.fail(`name at byte ${this.pos - len} is not valid UTF-8`);
    }
  }
}

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

function encodeName(name: string): number[] {
  const utf8 = new TextEncoder().encode(name);
  return [...encodeU32(utf8.length), ...utf8];
}

function startsWith(bytes: Uint8Array, at: number, expected: number[]): boolean {
  return expected.every((b, i) => bytes[at + i] === b);
}

/** Whether the bytes are a Component Model component rather than a core module. */
export function isComponentBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && startsWith(bytes, 0, MAGIC) && startsWith(bytes, 4, COMPONENT_VERSION);
}

/** Splits a core module into sections, checking the header and every section's bounds. */
export function sections(bytes: Uint8Array): Section[] {
  if (bytes.length === 0) throw malformed('the file is empty');
  if (bytes.length < 8 || !startsWith(bytes, 0, MAGIC)) throw malformed('no \\0asm magic number at the start');
  if (!startsWith(bytes, 4, CORE_VERSION)) {
    if (isComponentBinary(bytes)) throw malformed('this is a Component Model component, not a core module');
    throw malformed(`unsupported binary version ${[...bytes.subarray(4, 8)].join(',')}`);
  }
  const out: Section[] = [];
  const r = new Reader(bytes, 8, bytes.length);
  while (r.pos < r.end) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const payload = r.pos;
    const end = payload + size;
    if (end > bytes.length) throw malformed(`section ${id} at byte ${start} runs past the end of the file (truncated?)`);
    out.push({ id, start, payload, end });
    r.pos = end;
  }
  return out;
}

function customName(bytes: Uint8Array, s: Section): { name: string; data: number } {
  const r = new Reader(bytes, s.payload, s.end);
  const name = r.name();
  return { name, data: r.pos };
}

/** Payloads of every custom section with the given name, in order. */
export function readCustomSections(bytes: Uint8Array, name: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of sections(bytes)) {
    if (s.id !== SECTION.custom) continue;
    const c = customName(bytes, s);
    if (c.name === name) out.push(bytes.slice(c.data, s.end));
  }
  return out;
}

/** A copy of the module with a custom section appended at the end. */
export function appendCustomSection(bytes: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  sections(bytes);
  const body = [...encodeName(name), ...payload];
  return concat([bytes, Uint8Array.of(SECTION.custom, ...encodeU32(body.length)), Uint8Array.from(body)]);
}

/** A copy of the module without the custom sections of that name. */
export function removeCustomSections(bytes: Uint8Array, name: string): Uint8Array {
  const keep: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const s of sections(bytes)) {
    if (s.id === SECTION.custom && customName(bytes, s).name === name) continue;
    keep.push(bytes.subarray(s.start, s.end));
  }
  return concat(keep);
}

/** The parts, joined into one new array. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function replaceSection(bytes: Uint8Array, s: Section, body: number[] | Uint8Array): Uint8Array {
  return concat([
    bytes.subarray(0, s.start),
    Uint8Array.of(s.id, ...encodeU32(body.length)),
    body instanceof Uint8Array ? body : Uint8Array.from(body),
    bytes.subarray(s.end),
  ]);
}

const VALTYPES: Record<number, ValType> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
};
const KINDS: ExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];

function valType(r: Reader): ValType {
  const at = r.pos;
  const t = VALTYPES[r.byte()];
  if (t === undefined) throw malformed(`unsupported value type 0x${r.bytes[at]!.toString(16)} at byte ${at}`);
  return t;
}

function readLimits(r: Reader): MemoryLimits {
  const flags = r.byte();
  if (flags > 0x07) throw malformed(`unknown memory limits flags 0x${flags.toString(16)} at byte ${r.pos - 1}`);
  const memory64 = (flags & 0x04) !== 0;
  const shared = (flags & 0x02) !== 0;
  if (memory64) {
    r.skipLeb();
    if (flags & 0x01) r.skipLeb();
    return { min: Infinity, max: undefined, shared, memory64 };
  }
  const min = r.u32();
  const max = flags & 0x01 ? r.u32() : undefined;
  return { min, max, shared, memory64 };
}

function skipTableType(r: Reader): void {
  r.byte();
  readLimits(r);
}

function skipGlobalType(r: Reader): void {
  valType(r);
  r.byte();
}

/** The typed view of a module's imports, exports and memories, read without compiling it. */
export interface ModuleShape {
  imports: ImportEntry[];
  exports: ExportEntry[];
  /** Memories the module defines itself (imported memories are in `imports`). */
  memories: MemoryLimits[];
  /** Whether the module has a start function, run while it is instantiated. */
  hasStart: boolean;
}

export function readModuleShape(bytes: Uint8Array): ModuleShape {
  const types: FuncType[] = [];
  const imports: ImportEntry[] = [];
  const funcTypes: (FuncType | undefined)[] = [];
  const memories: MemoryLimits[] = [];
  const exports: ExportEntry[] = [];
  let hasStart = false;
  for (const s of sections(bytes)) {
    if (s.id === SECTION.start) hasStart = true;
    const r = new Reader(bytes, s.payload, s.end);
    switch (s.id) {
      case SECTION.type: {
        for (let n = r.u32(); n > 0; n--) {
          const form = r.byte();
          if (form !== 0x60) throw malformed(`type entry at byte ${r.pos - 1} is not a function type (GC types are not supported)`);
          const params = Array.from({ length: r.u32() }, () => valType(r));
          const results = Array.from({ length: r.u32() }, () => valType(r));
          types.push({ params, results });
        }
        break;
      }
      case SECTION.import: {
        for (let n = r.u32(); n > 0; n--) {
          const module = r.name();
          const name = r.name();
          const kind = KINDS[r.byte()];
          if (kind === undefined) throw malformed(`import "${module}" "${name}" has an unknown kind`);
          const entry: ImportEntry = { module, name, kind };
          if (kind === 'func') {
            entry.type = types[r.u32()];
            if (!entry.type) throw malformed(`import "${module}" "${name}" names a missing type`);
            funcTypes.push(entry.type);
          } else if (kind === 'table') skipTableType(r);
          else if (kind === 'memory') readLimits(r);
          else if (kind === 'global') skipGlobalType(r);
          else {
            r.byte();
            r.u32();
          }
          imports.push(entry);
        }
        break;
      }
      case SECTION.function: {
        for (let n = r.u32(); n > 0; n--) {
          const t = types[r.u32()];
          if (!t) throw malformed('a function names a missing type');
          funcTypes.push(t);
        }
        break;
      }
      case SECTION.memory: {
        for (let n = r.u32(); n > 0; n--) memories.push(readLimits(r));
        break;
      }
      case SECTION.export: {
        for (let n = r.u32(); n > 0; n--) {
          const name = r.name();
          const kind = KINDS[r.byte()];
          const index = r.u32();
          if (kind === undefined) throw malformed(`export "${name}" has an unknown kind`);
          const entry: ExportEntry = { name, kind };
          if (kind === 'func') {
            entry.type = funcTypes[index];
            if (!entry.type) throw malformed(`export "${name}" names a missing function ${index}`);
          }
          exports.push(entry);
        }
        break;
      }
    }
  }
  return { imports, exports, memories, hasStart };
}

/** A copy of the module with its exports renamed; every name in `renames` must be exported. */
export function renameExports(bytes: Uint8Array, renames: ReadonlyMap<string, string>): Uint8Array {
  const s = sections(bytes).find((x) => x.id === SECTION.export);
  if (!s) throw malformed('the module has no export section');
  const r = new Reader(bytes, s.payload, s.end);
  const body: number[] = [];
  const count = r.u32();
  body.push(...encodeU32(count));
  const seen = new Set<string>();
  for (let n = count; n > 0; n--) {
    const name = r.name();
    const kindAt = r.pos;
    r.byte();
    r.u32();
    seen.add(name);
    body.push(...encodeName(renames.get(name) ?? name), ...bytes.subarray(kindAt, r.pos));
  }
  const missing = [...renames.keys()].filter((k) => !seen.has(k));
  if (missing.length > 0) throw malformed(`cannot rename exports that do not exist: ${missing.join(', ')}`);
  return replaceSection(bytes, s, body);
}

/**
 * A copy of the module whose memory may never grow past `maxPages`: a declared maximum
 * above the cap, or none, becomes the cap, so `memory.grow` beyond it fails inside the
 * module (returns -1) instead of taking host memory. The limit is per component, not per
 * memory: a module may define one memory (the ABI needs no more), so many small memories
 * cannot add up past it. Refuses a module whose initial size is already over the cap, and
 * shared or 64-bit memories.
 */
export function capMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  return capEntries(bytes, SECTION.memory, (index, limits) => {
    if (index > 0) return 'the module defines more than one memory; a component has one linear memory';
    if (limits.memory64) return '64-bit memories are not supported';
    if (limits.shared) return 'shared memories are not supported';
    if (limits.min > maxPages) {
      return `the module's memory starts at ${limits.min} pages (${limits.min * 64} KiB), over the limit of ${maxPages} pages (${maxPages * 64} KiB)`;
    }
    return Math.min(limits.max ?? maxPages, maxPages);
  });
}

/** At most this many entries of a memory or table section are read: past it the module is refused. */
const MAX_SECTION_ENTRIES = 100;

/**
 * Rewrites every entry of a memory or table section with the maximum `limit` gives it, or
 * refuses the module with the message it returns instead. Table entries keep their leading
 * reftype.
 */
function capEntries(bytes: Uint8Array, id: number, limit: (index: number, limits: MemoryLimits) => number | string): Uint8Array {
  const s = sections(bytes).find((x) => x.id === id);
  if (!s) return bytes;
  const r = new Reader(bytes, s.payload, s.end);
  const body: number[] = [];
  const count = r.u32();
  if (count > MAX_SECTION_ENTRIES) throw new TesseraError('ERR_COMPONENT_LOAD', `the module defines ${count} ${id === SECTION.table ? 'tables' : 'memories'}, more than the ${MAX_SECTION_ENTRIES} the host reads`);
  body.push(...encodeU32(count));
  for (let index = 0; index < count; index++) {
    if (id === SECTION.table) {
      const refType = r.byte();
      if (refType === 0x40) throw new TesseraError('ERR_COMPONENT_LOAD', 'tables with an initialiser expression are not supported');
      body.push(refType);
    }
    const limits = readLimits(r);
    const max = limit(index, limits);
    if (typeof max === 'string') throw new TesseraError('ERR_COMPONENT_LOAD', max);
    body.push(0x01, ...encodeU32(limits.min), ...encodeU32(max));
  }
  // Already capped as asked (a table declared with its maximum, say): no copy of the module.
  if (body.length === s.end - s.payload && body.every((b, i) => b === bytes[s.payload + i])) return bytes;
  return replaceSection(bytes, s, body);
}

/** Most elements a component's tables may hold together: plenty for indirect calls, not a memory bomb. */
export const MAX_TABLE_ELEMENTS = 100_000;

/**
 * A copy of the module whose tables may never hold more than `maxElements` between them: V8
 * allocates a table's initial size eagerly and `table.grow` is one instruction, so both are
 * capped, as memory is, and per module rather than per table (300 tables each under the cap
 * would otherwise add up to gigabytes): the room above what the tables start with is split
 * evenly between them. Refuses tables that start above the cap together, and 64-bit or
 * initialised tables.
 */
export function capTables(bytes: Uint8Array, maxElements = MAX_TABLE_ELEMENTS): Uint8Array {
  let started = 0;
  let count = 0;
  const s = sections(bytes).find((x) => x.id === SECTION.table);
  if (s) {
    // First pass: what every table starts with, so each one's maximum leaves room for the others' minimums.
    const r = new Reader(bytes, s.payload, s.end);
    count = r.u32();
    for (let n = Math.min(count, MAX_SECTION_ENTRIES); n > 0; n--) {
      if (r.byte() === 0x40) break;
      const { min, memory64 } = readLimits(r);
      if (!memory64) started += min;
    }
  }
  return capEntries(bytes, SECTION.table, (_index, limits) => {
    if (limits.memory64) return '64-bit tables are not supported';
    if (started > maxElements) {
      return count > 1
        ? `the module's ${count} tables start at ${started} elements together, over the limit of ${maxElements}`
        : `a table starts at ${started} elements, over the limit of ${maxElements}`;
    }
    const room = limits.min + Math.floor((maxElements - started) / count);
    return Math.min(limits.max ?? room, room);
  });
}
