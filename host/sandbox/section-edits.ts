// Section-level edits the code rewriters share (metering.ts, grow-watch.ts): append an entry
// to a vector section, and put a module back together with some sections replaced or added
// in the place the binary format requires.
import { SECTION, concat, encodeU32 } from './wasm-binary.ts';
import { CodeReader, type SectionSpan } from './wasm-instructions.ts';

/** Known sections in the order the binary format requires (custom sections go anywhere). */
const SECTION_ORDER: readonly number[] = [SECTION.type, SECTION.import, SECTION.function, SECTION.table, SECTION.memory, SECTION.tag, SECTION.global, SECTION.export, SECTION.start, SECTION.element, SECTION.dataCount, SECTION.code, SECTION.data];

/** The number of entries of a vector section (0 when the module has none). */
export function entryCount(bytes: Uint8Array, span: SectionSpan | undefined): number {
  return span ? new CodeReader(bytes, span.payload, span.end).u32() : 0;
}

/** A vector section's payload with one entry appended, or a new one holding only it. */
export function appendEntry(payload: Uint8Array | undefined, entry: number[]): Uint8Array {
  if (!payload) return Uint8Array.from([1, ...entry]);
  const r = new CodeReader(payload, 0, payload.length);
  const count = r.u32();
  return concat([Uint8Array.from(encodeU32(count + 1)), payload.subarray(r.pos), Uint8Array.from(entry)]);
}

/** The module with some sections' payloads replaced, inserting each missing one in its place. */
export function rebuild(bytes: Uint8Array, spans: readonly SectionSpan[], payloads: ReadonlyMap<number, Uint8Array>, drop: (s: SectionSpan) => boolean = () => false): Uint8Array {
  const rank = (id: number): number => SECTION_ORDER.indexOf(id);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  // The header and the payload as two parts: the code section is most of a module, copied once.
  const section = (id: number, payload: Uint8Array): void => void parts.push(Uint8Array.of(id, ...encodeU32(payload.length)), payload);
  const pending = new Map(payloads);
  for (const s of spans) {
    if (drop(s)) continue;
    if (s.id !== SECTION.custom) {
      for (const [id, payload] of pending) {
        if (rank(id) >= rank(s.id)) continue;
        section(id, payload);
        pending.delete(id);
      }
    }
    const payload = pending.get(s.id);
    pending.delete(s.id);
    if (payload) section(s.id, payload);
    else parts.push(bytes.subarray(s.start, s.end));
  }
  for (const [id, payload] of pending) section(id, payload);
  return concat(parts);
}
