import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CodeReader, decodeBody, functionBodies, sectionSpans, type FunctionBody } from '../../../host/sandbox/wasm-instructions.ts';
import { readModuleShape } from '../../../host/sandbox/wasm-binary.ts';
import { wat } from '../../support/wat.ts';

const STATE_MEMORY = new URL('../../../components-wasm/state-memory/state-memory.wasm', import.meta.url);

function bodiesOf(bytes: Uint8Array): FunctionBody[] {
  const code = sectionSpans(bytes).find((s) => s.id === 10);
  const imported = readModuleShape(bytes).imports.filter((i) => i.kind === 'func').length;
  return code ? functionBodies(bytes, code, imported) : [];
}

/** Each instruction of a body as [first byte, length in bytes]. */
function instructions(bytes: Uint8Array, body: FunctionBody): [number, number][] {
  const out: [number, number][] = [];
  decodeBody(bytes, body, (op, start, next) => out.push([op, next - start]));
  return out;
}

test('every function of the state-memory component decodes to exactly its body end', () => {
  const bytes = new Uint8Array(readFileSync(STATE_MEMORY));
  const bodies = bodiesOf(bytes);
  assert.ok(bodies.length > 50);
  let count = 0;
  for (const body of bodies) {
    decodeBody(bytes, body, (_op, _start, next) => {
      assert.ok(next <= body.end);
      count++;
    });
  }
  assert.ok(count > 5000, `only ${count} instructions`);
});

test('instructions are split at the right boundaries, immediates included', () => {
  const bytes = wat(`(module
    (memory 1)
    (func (param i64) (result f64)
      (drop (i32.load offset=70000 (i32.const -1)))
      (drop (select (result i64) (i64.const -9000000000) (local.get 0) (i32.const 1)))
      (block $a (block $b (br_table $a $b $a (i32.const 2))))
      (f64.add (f64.const 1.5) (f64.convert_i32_s (i32.trunc_sat_f32_s (f32.const 2.5))))))`);
  const [body] = bodiesOf(bytes);
  assert.deepEqual(instructions(bytes, body!), [
    [0x41, 2], // i32.const -1
    [0x28, 5], // i32.load align offset=70000 (3-byte LEB)
    [0x1a, 1],
    [0x42, 6], // i64.const -9e9
    [0x20, 2],
    [0x41, 2],
    [0x1c, 3], // select (result i64)
    [0x1a, 1],
    [0x02, 2],
    [0x02, 2],
    [0x41, 2],
    [0x0e, 5], // br_table 3 labels + default
    [0x0b, 1],
    [0x0b, 1],
    [0x44, 9], // f64.const
    [0x43, 5], // f32.const
    [0xfc, 2], // i32.trunc_sat_f32_s
    [0xb7, 1],
    [0xa0, 1],
    [0x0b, 1],
  ]);
});

test('SIMD immediates: memarg, memarg and lane, lane, 16-byte constants and shuffles', () => {
  const bytes = wat(`(module (memory 1)
    (func (result v128)
      (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
        (v128.load8_lane offset=8 3 (i32.const 0) (v128.const i64x2 0 0))
        (i32x4.replace_lane 2 (v128.load64_zero (i32.const 16)) (i32x4.extract_lane 1 (i32x4.splat (i32.const 7)))))))`);
  const [body] = bodiesOf(bytes);
  assert.deepEqual(instructions(bytes, body!), [
    [0x41, 2],
    [0xfd, 18], // v128.const
    [0xfd, 5], // v128.load8_lane: prefix, opcode, align, offset, lane
    [0x41, 2],
    [0xfd, 4], // v128.load64_zero: prefix, opcode, align, offset
    [0x41, 2],
    [0xfd, 2], // i32x4.splat
    [0xfd, 3], // i32x4.extract_lane
    [0xfd, 3], // i32x4.replace_lane
    [0xfd, 18], // i8x16.shuffle
    [0x0b, 1],
  ]);
});

test('tail calls, bulk memory, reference types and type-indexed block types decode', () => {
  const bytes = wat(
    `(module (memory 1) (table 2 funcref) (type $t (func (param i32) (result i32 i32)))
      (data $d "abc") (elem $e func $f)
      (func $f (param i32) (result i32 i32)
        (block (type $t) (local.get 0) (i32.const 1))
        (memory.init $d (i32.const 0) (i32.const 0) (i32.const 3)) (data.drop $d)
        (memory.copy (i32.const 0) (i32.const 1) (i32.const 2)) (memory.fill (i32.const 0) (i32.const 0) (i32.const 1))
        (table.init $e (i32.const 0) (i32.const 0) (i32.const 1)) (elem.drop $e)
        (drop (ref.is_null (ref.func $f))) (drop (ref.null extern))
        (return_call_indirect (type $t) (i32.const 0) (i32.const 0)))
      (func (result i32 i32) (return_call $f (i32.const 9))))`,
    { tail_call: true },
  );
  for (const body of bodiesOf(bytes)) assert.doesNotThrow(() => decodeBody(bytes, body));
  const ops = instructions(bytes, bodiesOf(bytes)[0]!).map(([op]) => op);
  assert.ok(ops.includes(0x13) && ops.includes(0xd2) && ops.includes(0xd0));
});

test('opcodes of proposals Tessera does not run are refused, naming the function', () => {
  const threads = wat(
    `(module (import "env" "f" (func)) (memory 1 1 shared)
      (func) (func (drop (i32.atomic.load (i32.const 0)))))`,
    { threads: true },
  );
  const [, atomic] = bodiesOf(threads);
  assert.throws(() => decodeBody(threads, atomic!), { code: 'ERR_COMPONENT_LOAD', message: 'function 2 uses opcode 0xfe (threads), which Tessera does not run' });

  const eh = wat('(module (tag $e) (func (throw $e)))', { exceptions: true });
  assert.throws(() => decodeBody(eh, bodiesOf(eh)[0]!), /function 0 uses opcode 0x08 \(exception handling\)/);

  const gc = wat('(module (func nop))');
  const body = bodiesOf(gc)[0]!;
  gc[body.end - 2] = 0xfb; // the nop becomes a GC-prefixed instruction
  assert.throws(() => decodeBody(gc, body), /function 0 uses opcode 0xfb \(GC\)/);
});

test('unknown opcodes and truncated bodies are malformed, with the byte and function', () => {
  const bytes = wat('(module (func nop) (func nop nop))');
  const [first, second] = bodiesOf(bytes);
  const unknown = bytes.slice();
  unknown[first!.end - 2] = 0x27;
  assert.throws(() => decodeBody(unknown, first!), /malformed WebAssembly binary: unknown opcode 0x27 at byte \d+ \(function 0\)/);
  assert.throws(() => decodeBody(bytes, { ...second!, end: second!.end - 1 }), /unexpected end at byte \d+ \(function 1\)/);
  assert.throws(() => decodeBody(bytes, { ...first!, end: second!.end }), /function 0 has \d+ bytes after its final end/);
});

test('immediates cut off by the body end or too long are malformed, however the instruction is decoded', () => {
  // A hand-made body: no locals, then `op`, its immediate bytes, and `end`.
  const body = (...code: number[]): [Uint8Array, FunctionBody] => {
    const bytes = Uint8Array.of(0x00, ...code);
    return [bytes, { index: 7, start: 0, end: bytes.length }];
  };
  // local.get whose LEB runs into the end of the body.
  const [cut, cutBody] = body(0x20, 0x80, 0x80);
  assert.throws(() => decodeBody(cut, cutBody), /unexpected end at byte 4 \(function 7\)/);
  // i64.const with eleven continuation bytes.
  const [long, longBody] = body(0x42, ...Array(11).fill(0x80), 0x00, 0x0b);
  assert.throws(() => decodeBody(long, longBody), /LEB128 integer too long at byte 12 \(function 7\)/);
  // i32.load whose offset is cut off.
  const [memarg, memargBody] = body(0x28, 0x02, 0x80);
  assert.throws(() => decodeBody(memarg, memargBody), /unexpected end at byte 4 \(function 7\)/);
  // i32.load with a memory index (alignment bit 6), multi-byte offset: one instruction of 6 bytes.
  const [multi, multiBody] = body(0x28, 0x42, 0x01, 0x90, 0x03, 0x1a, 0x0b);
  const seen: [number, number][] = [];
  decodeBody(multi, multiBody, (op, start, next) => seen.push([op, next - start]));
  assert.deepEqual(seen, [
    [0x28, 5],
    [0x1a, 1],
    [0x0b, 1],
  ]);
});

test('u32 reads up to 2^32 - 1 and refuses more', () => {
  const read = (...bytes: number[]): number => new CodeReader(Uint8Array.from(bytes), 0, bytes.length).u32();
  assert.equal(read(0x00), 0);
  assert.equal(read(0xe5, 0x8e, 0x26), 624485);
  assert.equal(read(0xff, 0xff, 0xff, 0xff, 0x07), 2 ** 31 - 1);
  assert.equal(read(0x80, 0x80, 0x80, 0x80, 0x08), 2 ** 31);
  assert.equal(read(0xff, 0xff, 0xff, 0xff, 0x0f), 2 ** 32 - 1);
  assert.throws(() => read(0x80, 0x80, 0x80, 0x80, 0x10), /LEB128 integer too large at byte 5/);
  assert.throws(() => read(0x80, 0x80), /unexpected end at byte 2/);
});
