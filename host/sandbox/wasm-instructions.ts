// Decodes a module's code: finds each function body and walks it instruction by instruction,
// so code rewriters (fuel metering) know where every instruction starts and which ones open
// or close a block. Proposals Tessera does not run are refused here, naming the function.
import { TesseraError } from '../errors.ts';

/** Opcodes that shape control flow; the decoder returns an instruction's first byte. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  callIndirect: 0x11,
  returnCall: 0x12,
  returnCallIndirect: 0x13,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  i32Const: 0x41,
  i64Const: 0x42,
} as const;

/**
 * What follows an opcode: `leb` is one LEB128 of any width (index, constant, heap type).
 * Numbered, in byte tables (0: no such opcode), because the decoder runs for every
 * instruction of every module loaded, twice when metering: a table of strings with holes
 * made it the largest part of the metering's time.
 */
const IMM = {
  none: 1,
  leb: 2,
  leb2: 3,
  memarg: 4,
  blocktype: 5,
  br_table: 6,
  select_types: 7,
  bytes4: 8,
  bytes8: 9,
  bytes16: 10,
  lane: 11,
  memarg_lane: 12,
} as const;
type Immediates = keyof typeof IMM;

function table(length: number, ranges: [from: number, to: number, imm: Immediates][]): Uint8Array {
  const out = new Uint8Array(length);
  for (const [from, to, imm] of ranges) out.fill(IMM[imm], from, to + 1);
  return out;
}

/** Single-byte opcodes: MVP, sign extension, reference types and tail calls. */
const PLAIN = table(256, [
  [0x00, 0x01, 'none'], // unreachable, nop
  [0x02, 0x04, 'blocktype'], // block, loop, if
  [0x05, 0x05, 'none'], // else
  [0x0b, 0x0b, 'none'], // end
  [0x0c, 0x0d, 'leb'], // br, br_if
  [0x0e, 0x0e, 'br_table'],
  [0x0f, 0x0f, 'none'], // return
  [0x10, 0x10, 'leb'], // call
  [0x11, 0x11, 'leb2'], // call_indirect type table
  [0x12, 0x12, 'leb'], // return_call
  [0x13, 0x13, 'leb2'], // return_call_indirect
  [0x1a, 0x1b, 'none'], // drop, select
  [0x1c, 0x1c, 'select_types'],
  [0x20, 0x26, 'leb'], // local.*, global.*, table.get, table.set
  [0x28, 0x3e, 'memarg'], // loads and stores
  [0x3f, 0x40, 'leb'], // memory.size, memory.grow (memory index)
  [0x41, 0x42, 'leb'], // i32.const, i64.const
  [0x43, 0x43, 'bytes4'], // f32.const
  [0x44, 0x44, 'bytes8'], // f64.const
  [0x45, 0xc4, 'none'], // numeric, conversions, sign extension
  [0xd0, 0xd0, 'leb'], // ref.null heap type
  [0xd1, 0xd1, 'none'], // ref.is_null
  [0xd2, 0xd2, 'leb'], // ref.func
]);

/** 0xFC: non-trapping float-to-int, bulk memory and table operations. */
const MISC = table(18, [
  [0, 7, 'none'], // *.trunc_sat_*
  [8, 8, 'leb2'], // memory.init data memory
  [9, 9, 'leb'], // data.drop
  [10, 10, 'leb2'], // memory.copy
  [11, 11, 'leb'], // memory.fill
  [12, 12, 'leb2'], // table.init
  [13, 13, 'leb'], // elem.drop
  [14, 14, 'leb2'], // table.copy
  [15, 17, 'leb'], // table.grow, table.size, table.fill
]);

/**
 * 0xFD: fixed-width SIMD, then relaxed SIMD (0x100..0x113). The few opcodes the spec leaves
 * unassigned inside these ranges decode as 'none'; compiling the module refuses them.
 */
const SIMD = table(0x114, [
  [0x00, 0x0b, 'memarg'], // v128.load*, load*_splat, v128.store
  [0x0c, 0x0d, 'bytes16'], // v128.const, i8x16.shuffle
  [0x0e, 0x14, 'none'], // swizzle, splats
  [0x15, 0x22, 'lane'], // extract_lane, replace_lane
  [0x23, 0x53, 'none'],
  [0x54, 0x5b, 'memarg_lane'], // v128.load*_lane, v128.store*_lane
  [0x5c, 0x5d, 'memarg'], // v128.load32_zero, v128.load64_zero
  [0x5e, 0x113, 'none'],
]);

const PREFIX_MISC = 0xfc;
const PREFIX_SIMD = 0xfd;

/** Opcodes of proposals a component may not use, with the proposal's name. */
const REFUSED: Record<number, string> = {
  0x06: 'exception handling', // try
  0x07: 'exception handling', // catch
  0x08: 'exception handling', // throw
  0x09: 'exception handling', // rethrow
  0x0a: 'exception handling', // throw_ref
  0x18: 'exception handling', // delegate
  0x19: 'exception handling', // catch_all
  0x1f: 'exception handling', // try_table
  0x14: 'typed function references', // call_ref
  0x15: 'typed function references', // return_call_ref
  0xd3: 'typed function references', // ref.as_non_null
  0xd4: 'typed function references', // br_on_null
  0xd5: 'GC', // ref.eq
  0xd6: 'typed function references', // br_on_non_null
  0xfb: 'GC',
  0xfe: 'threads',
};

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

function malformed(message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', `malformed WebAssembly binary: ${message}`);
}

/**
 * The offset just past the LEB128 (of at most 10 bytes) at `pos`, or -1 when it runs past
 * `end` or past 10 bytes (the careful path then says which).
 */
function lebEnd(bytes: Uint8Array, pos: number, end: number): number {
  const limit = Math.min(end, pos + 10);
  while (pos < limit) if ((bytes[pos++]! & 0x80) === 0) return pos;
  return -1;
}

/** A cursor over code bytes that fails with a clear error instead of reading past its end. */
export class CodeReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  /** The function being decoded, for messages; -1 outside a body. */
  func = -1;

  constructor(bytes: Uint8Array, pos: number, end: number) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  #where(at = this.pos): string {
    return this.func < 0 ? `byte ${at}` : `byte ${at} (function ${this.func})`;
  }

  byte(): number {
    if (this.pos >= this.end) throw malformed(`unexpected end at ${this.#where()}`);
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    // Shifts and ORs below 2^28, a multiply only for the fifth byte: `2 ** shift` compiled to a
    // call of pow, and this runs for most instructions of every module loaded.
    const { bytes, end } = this;
    let pos = this.pos;
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) throw malformed(`unexpected end at ${this.#where(pos)}`);
      const b = bytes[pos++]!;
      if (shift === 28) {
        if (b > 0x0f) throw malformed(`LEB128 integer too large at ${this.#where(pos)}`);
        this.pos = pos;
        return result + b * 0x10000000;
      }
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.pos = pos;
        return result;
      }
    }
  }

  /** Skips a LEB128 of any width up to 64 bits, signed or not. */
  skipLeb(): void {
    const { end } = this;
    const start = this.pos;
    const next = lebEnd(this.bytes, start, end);
    if (next > 0) {
      this.pos = next;
      return;
    }
    if (end - start < 10) {
      this.pos = end;
      throw malformed(`unexpected end at ${this.#where(end)}`);
    }
    throw malformed(`LEB128 integer too long at ${this.#where(start + 10)}`);
  }

  skip(n: number): void {
    if (this.pos + n > this.end) throw malformed(`unexpected end at ${this.#where()}`);
    this.pos += n;
  }

  /** A value type: one byte, or `(ref null? ht)` (0x63/0x64) followed by its heap type. */
  skipValType(): void {
    const t = this.byte();
    if (t === 0x63 || t === 0x64) this.skipLeb();
  }

  /** Skips a body's local declarations, leaving the cursor on its first instruction. */
  skipLocals(): void {
    for (let groups = this.u32(); groups > 0; groups--) {
      this.u32();
      this.skipValType();
    }
  }

  /**
   * Decodes the instruction at the cursor, moves past it and returns its first byte (the
   * prefix, for 0xFC and 0xFD instructions).
   */
  instruction(): number {
    // The common shapes (no immediates, one LEB, a memarg of two) decoded inline when they
    // lie within the body; anything else, or anything malformed, by the careful path. This
    // runs for every instruction of every module loaded, several times when it is hardened.
    const { bytes, end } = this;
    const at = this.pos;
    if (at < end) {
      const op = bytes[at]!;
      const imm = PLAIN[op]!;
      if (imm === IMM.none) {
        this.pos = at + 1;
        return op;
      }
      if (imm === IMM.leb || imm === IMM.memarg) {
        let pos = lebEnd(bytes, at + 1, end);
        if (pos > 0 && imm === IMM.memarg) pos = bytes[at + 1]! & 0x40 ? -1 : lebEnd(bytes, pos, end);
        if (pos > 0) {
          this.pos = pos;
          return op;
        }
      }
    }
    return this.#instructionChecked();
  }

  #instructionChecked(): number {
    const at = this.pos;
    const op = this.byte();
    let imm = PLAIN[op]!;
    if (op === PREFIX_MISC || op === PREFIX_SIMD) {
      const sub = this.u32();
      const prefixed = op === PREFIX_MISC ? MISC : SIMD;
      imm = sub < prefixed.length ? prefixed[sub]! : 0;
      if (imm === 0) throw malformed(`unknown opcode ${hex(op)} ${hex(sub)} at ${this.#where(at)}`);
    } else if (imm === 0) {
      const proposal = REFUSED[op];
      if (proposal === undefined) throw malformed(`unknown opcode ${hex(op)} at ${this.#where(at)}`);
      throw new TesseraError('ERR_COMPONENT_LOAD', `function ${this.func} uses opcode ${hex(op)} (${proposal}), which Tessera does not run`);
    }
    this.#immediates(imm);
    return op;
  }

  #immediates(imm: number): void {
    switch (imm) {
      case IMM.none:
        return;
      case IMM.leb:
        return this.skipLeb();
      case IMM.leb2:
        this.skipLeb();
        return this.skipLeb();
      case IMM.memarg:
        return this.#memarg();
      case IMM.memarg_lane:
        this.#memarg();
        return this.skip(1);
      case IMM.lane:
        return this.skip(1);
      case IMM.blocktype: {
        // 0x40, a one-byte value type, (ref null? ht), or a type index as a signed LEB (s33).
        const first = this.bytes[this.pos];
        if (first === 0x63 || first === 0x64) return this.skipValType();
        return this.skipLeb();
      }
      case IMM.br_table:
        for (let n = this.u32(); n > 0; n--) this.skipLeb();
        return this.skipLeb();
      case IMM.select_types:
        for (let n = this.u32(); n > 0; n--) this.skipValType();
        return;
      case IMM.bytes4:
        return this.skip(4);
      case IMM.bytes8:
        return this.skip(8);
      case IMM.bytes16:
        return this.skip(16);
    }
  }

  /** Alignment (bit 6 set: a memory index follows, multi-memory) and offset. */
  #memarg(): void {
    if (this.u32() & 0x40) this.skipLeb();
    this.skipLeb();
  }
}

/** One section: its id, the offset of its id byte, of its payload, and one past its end. */
export interface SectionSpan {
  id: number;
  start: number;
  payload: number;
  end: number;
}

/**
 * Splits a core module into sections for rewriters that replace or insert whole sections.
 * Call after `readModuleShape`, which has checked the header and the section bounds.
 */
export function sectionSpans(bytes: Uint8Array): SectionSpan[] {
  const out: SectionSpan[] = [];
  const r = new CodeReader(bytes, 8, bytes.length);
  while (r.pos < r.end) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    out.push({ id, start, payload: r.pos, end: r.pos + size });
    r.skip(size);
  }
  return out;
}

/** Where one function body lies in the module's bytes. */
export interface FunctionBody {
  /** Index in the function index space (imported functions come first). */
  index: number;
  /** Offset of the body's local declarations (just after its size). */
  start: number;
  /** Offset one past the body's final `end`. */
  end: number;
}

/** Splits the code section into bodies, without decoding their instructions. */
export function functionBodies(bytes: Uint8Array, code: SectionSpan, importedFunctions: number): FunctionBody[] {
  const r = new CodeReader(bytes, code.payload, code.end);
  const bodies: FunctionBody[] = [];
  for (let n = r.u32(), i = 0; i < n; i++) {
    const length = r.u32();
    bodies.push({ index: importedFunctions + i, start: r.pos, end: r.pos + length });
    r.skip(length);
  }
  if (r.pos !== code.end) throw malformed(`the code section has ${code.end - r.pos} bytes after its last body`);
  return bodies;
}

/** Called for each instruction with its first byte, its offset and the offset just past it. */
export type InstructionVisitor = (op: number, start: number, next: number) => void;

/** A reader over a body, on its first instruction (after the local declarations). */
export function bodyReader(bytes: Uint8Array, body: FunctionBody): CodeReader {
  const r = new CodeReader(bytes, body.start, body.end);
  r.func = body.index;
  r.skipLocals();
  return r;
}

/** Checks that the body's final `end`, just decoded, is its last byte. */
export function checkBodyEnd(r: CodeReader, body: FunctionBody): void {
  if (r.pos !== body.end) throw malformed(`function ${body.index} has ${body.end - r.pos} bytes after its final end`);
}

/**
 * Decodes a whole body, visiting every instruction, and checks that its final `end` is its
 * last byte. Returns the offset of the first instruction (after the local declarations).
 */
export function decodeBody(bytes: Uint8Array, body: FunctionBody, visit: InstructionVisitor = () => {}): number {
  const r = bodyReader(bytes, body);
  const code = r.pos;
  let depth = 1;
  while (depth > 0) {
    const start = r.pos;
    const op = r.instruction();
    if (op === OP.block || op === OP.loop || op === OP.if) depth++;
    else if (op === OP.end) depth--;
    visit(op, start, r.pos);
  }
  checkBodyEnd(r, body);
  return code;
}
