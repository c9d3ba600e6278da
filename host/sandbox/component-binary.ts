// Reads the top level of a Component Model binary without decoding its types: the names and
// kinds of what it imports and exports, its custom sections, and the core modules it embeds.
// Enough to refuse a component by what it imports and to find its manifest before any of it
// is transpiled or run. Appends custom sections for build tools. Never touches code.
import { TesseraError } from '../errors.ts';
import { Reader, encodeU32, isComponentBinary } from './wasm-binary.ts';

/** What an import or export is, as the component binary format's `sort` names it. */
export type ComponentExternKind = 'core-module' | 'func' | 'value' | 'type' | 'component' | 'instance';

export interface ComponentExtern {
  /** e.g. `tessera:components/log@0.1.0`, `wasi:filesystem/preopens@0.2.3`, `run`. */
  name: string;
  kind: ComponentExternKind;
}

export interface ComponentShape {
  imports: ComponentExtern[];
  exports: ComponentExtern[];
  /** Top-level custom sections, in order. */
  customSections: { name: string; data: Uint8Array }[];
  /** Core modules defined at the top level (section 1), each a whole core `.wasm`. */
  coreModules: Uint8Array[];
}

/** Section ids of the component binary format (the top level and nested components alike). */
const SECTION = { custom: 0, coreModule: 1, import: 10, export: 11 } as const;
const KINDS: Record<number, ComponentExternKind> = { 0x01: 'func', 0x02: 'value', 0x03: 'type', 0x04: 'component', 0x05: 'instance' };
const CORE_SORT = 0x00;
const CORE_MODULE = 0x11;

function malformed(message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', `malformed Component Model binary: ${message}`);
}

/** wasm-binary's reader, plus the component format's extern names, descriptors and sort indices. */
class ComponentReader extends Reader {
  constructor(bytes: Uint8Array, pos: number, end: number) {
    super(bytes, pos, end, malformed);
  }

  /** `importname'` / `exportname'`: a 0x00 or 0x01 tag, then the name. */
  externName(what: string): string {
    const at = this.pos;
    const tag = this.byte();
    if (tag !== 0x00 && tag !== 0x01) throw malformed(`${what} at byte ${at} has an unknown name form 0x${tag.toString(16)}`);
    return this.name();
  }

  /** `externdesc`: the kind, then a type index or bound this reader skips. */
  externDesc(what: string): ComponentExternKind {
    const at = this.pos;
    const sort = this.byte();
    if (sort === CORE_SORT) {
      if (this.byte() !== CORE_MODULE) throw malformed(`${what} at byte ${at} has an unknown core sort`);
      this.u32();
      return 'core-module';
    }
    const kind = KINDS[sort];
    if (kind === undefined) throw malformed(`${what} at byte ${at} has an unknown kind 0x${sort.toString(16)}`);
    if (kind === 'value' || kind === 'type') {
      // valuebound: 0x00 valueidx | 0x01 valtype; typebound: 0x00 typeidx (eq) | 0x01 (sub resource).
      const bound = this.byte();
      if (bound === 0x00 || (bound === 0x01 && kind === 'value')) this.u32();
      else if (bound !== 0x01) throw malformed(`${what} at byte ${at} has an unknown bound 0x${bound.toString(16)}`);
    } else {
      this.u32();
    }
    return kind;
  }

  /** `sortidx`: the kind of what is exported, then its index. */
  sortIdx(what: string): ComponentExternKind {
    const at = this.pos;
    const sort = this.byte();
    let kind: ComponentExternKind | undefined;
    if (sort === CORE_SORT) {
      if (this.byte() !== CORE_MODULE) throw malformed(`${what} at byte ${at} exports a core item other than a module`);
      kind = 'core-module';
    } else {
      kind = KINDS[sort];
    }
    if (kind === undefined) throw malformed(`${what} at byte ${at} has an unknown kind 0x${sort.toString(16)}`);
    this.u32();
    return kind;
  }
}

/** The top level of a Component Model binary; refuses anything else. */
export function readComponentShape(bytes: Uint8Array): ComponentShape {
  if (!isComponentBinary(bytes)) throw malformed('no Component Model preamble (\\0asm, version 0x0d, layer 1)');
  const shape: ComponentShape = { imports: [], exports: [], customSections: [], coreModules: [] };
  const top = new ComponentReader(bytes, 8, bytes.length);
  while (top.pos < top.end) {
    const start = top.pos;
    const id = top.byte();
    const size = top.u32();
    const end = top.pos + size;
    if (end > bytes.length) throw malformed(`section ${id} at byte ${start} runs past the end of the file (truncated?)`);
    const r = new ComponentReader(bytes, top.pos, end);
    switch (id) {
      case SECTION.custom: {
        const name = r.name();
        shape.customSections.push({ name, data: bytes.slice(r.pos, end) });
        break;
      }
      case SECTION.coreModule:
        shape.coreModules.push(bytes.subarray(r.pos, end));
        break;
      case SECTION.import:
        for (let n = r.u32(); n > 0; n--) {
          const name = r.externName('an import');
          shape.imports.push({ name, kind: r.externDesc(`import "${name}"`) });
        }
        break;
      case SECTION.export:
        for (let n = r.u32(); n > 0; n--) {
          const name = r.externName('an export');
          const kind = r.sortIdx(`export "${name}"`);
          if (r.byte() === 0x01) r.externDesc(`export "${name}"`);
          shape.exports.push({ name, kind });
        }
        break;
    }
    top.pos = end;
  }
  return shape;
}

/** A copy of the component with a custom section appended at its top level. */
export function appendComponentCustomSection(bytes: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  readComponentShape(bytes);
  const utf8 = new TextEncoder().encode(name);
  const body = [...encodeU32(utf8.length), ...utf8];
  const header = Uint8Array.of(SECTION.custom, ...encodeU32(body.length + payload.length), ...body);
  const out = new Uint8Array(bytes.length + header.length + payload.length);
  out.set(bytes, 0);
  out.set(header, bytes.length);
  out.set(payload, bytes.length + header.length);
  return out;
}
