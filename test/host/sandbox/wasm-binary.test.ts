import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendCustomSection,
  capMemory,
  capTables,
  isComponentBinary,
  readCustomSections,
  readModuleShape,
  removeCustomSections,
  renameExports,
} from '../../../host/sandbox/wasm-binary.ts';
import { GROW_REFUSED_EXPORT, takeRefusedGrow, watchMemoryGrow } from '../../../host/sandbox/grow-watch.ts';
import { wat } from '../../support/wat.ts';

const growModule = wat(`(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "add") (param i64 i32) (result i64) (i64.add (local.get 0) (i64.extend_i32_u (local.get 1)))))`);

test('reads typed imports, exports and memories without compiling', () => {
  const shape = readModuleShape(growModule);
  assert.deepEqual(shape.imports, [{ module: 'env', name: 'log', kind: 'func', type: { params: ['i32', 'i32'], results: [] } }]);
  assert.deepEqual(shape.exports, [
    { name: 'memory', kind: 'memory' },
    { name: 'grow', kind: 'func', type: { params: ['i32'], results: ['i32'] } },
    { name: 'add', kind: 'func', type: { params: ['i64', 'i32'], results: ['i64'] } },
  ]);
  assert.deepEqual(shape.memories, [{ min: 1, max: undefined, shared: false, memory64: false }]);
  assert.equal(shape.hasStart, false);
  assert.equal(readModuleShape(wat('(module (func $s) (start $s))')).hasStart, true);
});

test('a capped memory refuses to grow past the cap inside the module', async () => {
  const capped = capMemory(growModule, 4);
  assert.equal(readModuleShape(capped).memories[0]?.max, 4);
  const { instance } = await WebAssembly.instantiate(capped, { env: { log() {} } });
  const grow = instance.exports.grow as (n: number) => number;
  assert.equal(grow(3), 1);
  assert.equal(grow(1), -1);
  assert.equal((instance.exports.memory as WebAssembly.Memory).buffer.byteLength, 4 * 65536);
});

test('a declared maximum below the cap is kept; a start above the cap is refused', () => {
  const small = wat('(module (memory 1 2))');
  assert.equal(readModuleShape(capMemory(small, 10)).memories[0]?.max, 2);
  const big = wat('(module (memory 20))');
  assert.throws(() => capMemory(big, 10), /starts at 20 pages .* over the limit of 10 pages/);
});

test('custom sections are appended, read back and removed', () => {
  const payload = new TextEncoder().encode('{"kind":"state-store"}');
  const withSection = appendCustomSection(growModule, 'tessera:manifest', payload);
  assert.ok(WebAssembly.validate(withSection));
  assert.deepEqual(readCustomSections(withSection, 'tessera:manifest'), [payload]);
  assert.deepEqual(readCustomSections(removeCustomSections(withSection, 'tessera:manifest'), 'tessera:manifest'), []);
});

test('exports are renamed to names no source language can spell', async () => {
  const renamed = renameExports(growModule, new Map([['grow', 'tessera:components/state@0.1.0#grow']]));
  const { instance } = await WebAssembly.instantiate(renamed, { env: { log() {} } });
  assert.equal(typeof instance.exports['tessera:components/state@0.1.0#grow'], 'function');
  assert.throws(() => renameExports(growModule, new Map([['nope', 'x']])), /do not exist: nope/);
});

test('broken binaries fail with a message that says what is wrong', () => {
  assert.throws(() => readModuleShape(new Uint8Array()), /the file is empty/);
  assert.throws(() => readModuleShape(new TextEncoder().encode('hello world!')), /no \\0asm magic/);
  assert.throws(() => readModuleShape(growModule.subarray(0, growModule.length - 5)), /truncated/);
  const component = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00);
  assert.ok(isComponentBinary(component));
  assert.throws(() => readModuleShape(component), /Component Model component, not a core module/);
});

test('tables are capped like memory: a table.grow bomb fails inside the module; a huge start is refused', async () => {
  const grower = wat(`(module (table $t 1 funcref)
    (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0))))`);
  const capped = capTables(grower, 1000);
  const { instance } = await WebAssembly.instantiate(capped);
  const grow = instance.exports.grow as (n: number) => number;
  assert.equal(grow(500), 1);
  assert.equal(grow(10_000_000), -1);
  assert.throws(() => capTables(wat('(module (table 10000000 funcref))'), 1000), /a table starts at 10000000 elements, over the limit of 1000/);
});

test('the memory limit is per component: a module with a second memory is refused', () => {
  const two = wat('(module (memory 1) (memory 1))');
  assert.throws(() => capMemory(two, 256), /more than one memory/);
});

test('tables share one element budget: many tables cannot add up past it', async () => {
  const tables = (n: number): string => Array.from({ length: n }, (_, i) => `(table $t${i} 0 funcref)`).join(' ');
  const many = wat(`(module ${tables(50)}
    (func (export "grow") (param i32) (param i32) (result i32) (table.grow $t0 (ref.null func) (local.get 1))))`);
  const { instance } = await WebAssembly.instantiate(capTables(many, 3000));
  const grow = instance.exports.grow as (t: number, n: number) => number;
  assert.equal(grow(0, 10), 0);
  assert.equal(grow(0, 3000), -1, 'one of 50 tables may not take the whole budget');
  assert.equal(grow(0, 50), 10, 'each table may grow into its share (3000 / 50)');
  assert.throws(() => capTables(wat(`(module ${tables(300)})`), 3000), /defines 300 tables, more than the 100 the host reads/);
  assert.throws(() => capTables(wat('(module (table 600 funcref) (table 600 funcref))'), 1000), /2 tables start at 1200 elements together, over the limit of 1000/);
});

/** A module of three `(i32) -> i32` functions with these bodies (locals included), memory 1 page up to 2. */
function moduleOf(bodies: Record<string, number[]>): Uint8Array {
  const section = (id: number, payload: number[]): number[] => [id, payload.length, ...payload];
  const names = Object.keys(bodies);
  const exports = names.flatMap((name, i) => [name.length, ...new TextEncoder().encode(name), 0x00, i]);
  const code = Object.values(bodies).flatMap((body) => [body.length, ...body]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]),
    ...section(3, [names.length, ...names.map(() => 0)]),
    ...section(5, [1, 0x01, 1, 2]),
    ...section(7, [names.length, ...exports]),
    ...section(10, [names.length, ...code]),
  ]);
}

test('every memory.grow is watched, a padded memory index too; bytes that only look like one are left alone', async () => {
  const bytes = moduleOf({
    // `if (i32.const 0) unreachable`: the bytes 0x40 0x00 (an empty block type, then unreachable), no grow.
    plain: [0, 0x41, 0, 0x04, 0x40, 0x00, 0x0b, 0x20, 0, 0x0b],
    grow: [0, 0x20, 0, 0x40, 0x00, 0x0b],
    // memory.grow with its memory index as a two-byte LEB128 (0x80 0x00), as valid as 0x00.
    padded: [0, 0x20, 0, 0x40, 0x80, 0x00, 0x0b],
  });
  assert.equal(WebAssembly.validate(bytes), true);
  const watched = watchMemoryGrow(bytes);
  const { instance } = await WebAssembly.instantiate(watched);
  const exports = instance.exports as Record<string, (n: number) => number> & { [GROW_REFUSED_EXPORT]: WebAssembly.Global };
  const refused = exports[GROW_REFUSED_EXPORT];
  assert.equal(exports.plain!(7), 7);
  assert.equal(takeRefusedGrow([refused]), 0);
  assert.equal(exports.padded!(5), -1);
  assert.equal(takeRefusedGrow([refused]), 5, 'the padded grow went through the watch');
  assert.equal(exports.grow!(3), -1);
  assert.equal(takeRefusedGrow([refused]), 3);
  assert.equal(exports.grow!(1), 1);
  assert.equal(takeRefusedGrow([refused]), 0);
  // A module that never grows its memory is returned as it is.
  const still = moduleOf({ plain: [0, 0x41, 0, 0x04, 0x40, 0x00, 0x0b, 0x20, 0, 0x0b] });
  assert.equal(watchMemoryGrow(still), still);
});
