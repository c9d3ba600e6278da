// Lets the host tell a trap caused by the memory limit from any other. A capped memory makes
// `memory.grow` return -1; the guest's allocator then usually traps with a bare
// `unreachable`, which says nothing of the limit. Every `memory.grow` of the module becomes a
// call of one added function that grows the memory and, when the grow is refused, records the
// pages asked for in an exported global the host reads when a call traps.
import { TesseraError } from '../errors.ts';
import { formatSize } from '../units.ts';
import { appendEntry, entryCount, rebuild } from './section-edits.ts';
import { ByteWriter } from './byte-writer.ts';
import { ENCODING, PAGE_BYTES, SECTION, encodeU32, readModuleShape } from './wasm-binary.ts';
import { CodeReader, OP, decodeBody, functionBodies, sectionSpans, type SectionSpan } from './wasm-instructions.ts';

/** The export name of the global holding the pages of the last refused `memory.grow` (0: none since the host last looked). */
export const GROW_REFUSED_EXPORT = 'tessera:grow-refused';

const MEMORY_GROW = 0x40;
const I32_EQ = 0x46;
const { i32: I32, funcType: FUNC_TYPE, mutable: MUTABLE, exportGlobal: EXPORT_GLOBAL, emptyBlock: EMPTY_BLOCK } = ENCODING;
const { localGet: LOCAL_GET, localTee: LOCAL_TEE, globalSet: GLOBAL_SET, i32Const: I32_CONST } = OP;

/**
 * `grow(pages: i32) -> i32`: `memory.grow 0`, and when it answers -1, `refused = pages`.
 * Local 1 keeps the result.
 */
function growBody(refused: number): Uint8Array {
  const body = [
    1, 1, I32, // one local: the result
    LOCAL_GET, 0, MEMORY_GROW, 0, LOCAL_TEE, 1,
    I32_CONST, 0x7f, I32_EQ, OP.if, EMPTY_BLOCK, LOCAL_GET, 0, GLOBAL_SET, ...encodeU32(refused), OP.end,
    LOCAL_GET, 1, OP.end,
  ];
  return Uint8Array.of(...encodeU32(body.length), ...body);
}

/** Whether every entry of the type section is a plain function type (a GC `rec` group would shift the index of an appended type). */
function plainTypes(bytes: Uint8Array, span: SectionSpan | undefined): boolean {
  if (!span) return true;
  const r = new CodeReader(bytes, span.payload, span.end);
  for (let n = r.u32(); n > 0; n--) {
    if (r.byte() !== FUNC_TYPE) return false;
    for (let p = r.u32(); p > 0; p--) r.skipValType();
    for (let p = r.u32(); p > 0; p--) r.skipValType();
  }
  return true;
}

/**
 * Whether a body may hold a `memory.grow 0`: the opcode followed by a memory index whose first
 * byte leaves it 0 so far (0x00, or 0x80 of a padded LEB). A byte scan, so only the few bodies
 * that pass are decoded; the decode then says which of those bytes are the instruction.
 */
function mayGrow(bytes: Uint8Array, start: number, end: number): boolean {
  // Searched within the body's view: a search of the whole module from each body would
  // read to its end for every body of a module that has no such byte after them.
  const body = bytes.subarray(start, end);
  for (let at = body.indexOf(MEMORY_GROW); at >= 0 && at < body.length - 1; at = body.indexOf(MEMORY_GROW, at + 1)) {
    if ((body[at + 1]! & 0x7f) === 0) return true;
  }
  return false;
}

/**
 * A copy of the module whose `memory.grow`s of memory 0 go through the added function, and
 * which exports its `tessera:grow-refused` global; the module itself when it never grows a
 * memory. The new type, global and function come after every existing one, so no index moves.
 */
export function watchMemoryGrow(bytes: Uint8Array): Uint8Array {
  const shape = readModuleShape(bytes);
  if (shape.exports.some((e) => e.name === GROW_REFUSED_EXPORT)) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `the module already exports "${GROW_REFUSED_EXPORT}"`);
  }
  const spans = sectionSpans(bytes);
  const find = (id: number): SectionSpan | undefined => spans.find((s) => s.id === id);
  const code = find(SECTION.code);
  if (!code || !plainTypes(bytes, find(SECTION.type))) return bytes;
  const importedFunctions = shape.imports.filter((i) => i.kind === 'func').length;
  const bodies = functionBodies(bytes, code, importedFunctions);
  const grow = importedFunctions + bodies.length;
  const call = Uint8Array.of(OP.call, ...encodeU32(grow));
  // The code section rewritten: unchanged runs of bodies copied whole, each body with a grow
  // written anew (its size, then its code with every `memory.grow 0` a call of `grow`).
  const out = new ByteWriter(code.end - code.payload + 64);
  out.u32(bodies.length + 1);
  const count = new CodeReader(bytes, code.payload, code.end);
  count.u32();
  /** Copied up to here; each body's size starts where the one before it ends. */
  let copied = count.pos;
  let sizeAt = count.pos;
  let grows = 0;
  const body = new ByteWriter();
  for (const fn of bodies) {
    const at = sizeAt;
    sizeAt = fn.end;
    if (!mayGrow(bytes, fn.start, fn.end)) continue;
    body.reset();
    let from = fn.start;
    decodeBody(bytes, fn, (op, start, next) => {
      if (op !== MEMORY_GROW || new CodeReader(bytes, start + 1, next).u32() !== 0) return;
      body.copy(bytes, from, start);
      body.bytes(call);
      from = next;
      grows++;
    });
    if (from === fn.start) continue;
    body.copy(bytes, from, fn.end);
    out.copy(bytes, copied, at);
    out.u32(body.length);
    out.bytes(body.view());
    copied = fn.end;
  }
  if (grows === 0) return bytes;
  // The bodies after the last one rewritten (the added `grow` follows them).
  out.copy(bytes, copied, code.end);

  const payloadOf = (id: number): Uint8Array | undefined => {
    const span = find(id);
    return span && bytes.subarray(span.payload, span.end);
  };
  const type = entryCount(bytes, find(SECTION.type));
  const refused = shape.imports.filter((i) => i.kind === 'global').length + entryCount(bytes, find(SECTION.global));
  const name = new TextEncoder().encode(GROW_REFUSED_EXPORT);
  out.bytes(growBody(refused));
  const payloads = new Map<number, Uint8Array>([
    [SECTION.type, appendEntry(payloadOf(SECTION.type), [FUNC_TYPE, 1, I32, 1, I32])],
    [SECTION.function, appendEntry(payloadOf(SECTION.function), encodeU32(type))],
    [SECTION.global, appendEntry(payloadOf(SECTION.global), [I32, MUTABLE, I32_CONST, 0, OP.end])],
    [SECTION.export, appendEntry(payloadOf(SECTION.export), [...encodeU32(name.length), ...name, EXPORT_GLOBAL, ...encodeU32(refused)])],
    [SECTION.code, out.view()],
  ]);
  return rebuild(bytes, spans, payloads);
}

/**
 * The pages a `memory.grow` asked for and was refused since the host last looked, across the
 * instance's core modules (0 when none was), and the record cleared for the next call.
 */
export function takeRefusedGrow(globals: readonly WebAssembly.Global[]): number {
  let pages = 0;
  for (const global of globals) {
    const asked = (global.value as number) >>> 0;
    if (asked === 0) continue;
    pages = Math.max(pages, asked);
    global.value = 0;
  }
  return pages;
}

/** A trap's description led by its cause when a grow of `pages` was refused before it; as it is when none was (pages 0). */
export function withRefusedGrow(trap: string, pages: number, memoryLimitBytes: number, inUseBytes: number): string {
  if (pages === 0) return trap;
  return (
    `memory.grow refused: the component reached its memory limit tessera.dev/memory-limit=${formatSize(memoryLimitBytes)} ` +
    `(it asked for ${formatSize(pages * PAGE_BYTES)} more with ${formatSize(inUseBytes)} in use); ${trap}`
  );
}
