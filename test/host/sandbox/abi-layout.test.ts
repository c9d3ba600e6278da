import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { alignment, elemSize, fieldOffsets, flattenFunctype, flattenType, jsName } from '../../../host/sandbox/abi-layout.ts';
import { loadWitPackage, parseWitPackage } from '../../../host/sandbox/wit/parser.ts';
import type { WitType } from '../../../host/sandbox/wit/ast.ts';

const pkg = loadWitPackage(fileURLToPath(new URL('../../../abi/wit', import.meta.url)));
const state = pkg.interfaces.get('state')!;
const stateType = (name: string): WitType => state.types.get(name)!;
const stateFunc = (name: string) => state.functions.find((f) => f.name === name)!;

/** Parses `type t = <text>;` (with the helper types below in scope) and returns t. */
function ty(text: string): WitType {
  const cases = Array.from({ length: 257 }, (_, i) => `c${i}`);
  const parsed = parseWitPackage([
    {
      file: 't.wit',
      text: `package t:t@0.1.0;
        interface t {
          enum e256 { ${cases.slice(0, 256).join(', ')} }
          enum e257 { ${cases.join(', ')} }
          flags flags8 { ${cases.slice(0, 8).join(', ')} }
          flags flags9 { ${cases.slice(0, 9).join(', ')} }
          flags flags32 { ${cases.slice(0, 32).join(', ')} }
          type t = ${text};
        }`,
    },
  ]);
  return parsed.interfaces.get('t')!.types.get('t')!;
}

const layout = (t: WitType) => ({ size: elemSize(t), align: alignment(t) });

test('sizes and alignments of the state types match the spec, computed by hand', () => {
  // key: string @0, consistency: enum (u8) @8, metadata: list @12
  assert.deepEqual(layout(stateType('get-request')), { size: 20, align: 4 });
  // value @0, etag: option<string> @8 (u8 tag, payload @+4), content-type @20, metadata @32
  assert.deepEqual(layout(stateType('get-response')), { size: 40, align: 4 });
  assert.deepEqual(fieldOffsets((stateType('get-response') as { fields: { type: WitType }[] }).fields.map((f) => f.type)), [0, 8, 20, 32]);
  // key @0, value @8, etag @16, content-type @28, concurrency @40, consistency @41, metadata @44
  assert.deepEqual(layout(stateType('set-request')), { size: 52, align: 4 });
  // key @0, etag @8, concurrency @20, consistency @21, metadata @24
  assert.deepEqual(layout(stateType('delete-request')), { size: 32, align: 4 });
  // key @0, response: option<get-response> @8 (44 bytes), error: option<string> @52
  assert.deepEqual(layout(stateType('bulk-get-item')), { size: 64, align: 4 });
  // u8 tag, payload @4: the larger of set-request (52) and delete-request (32)
  assert.deepEqual(layout(stateType('transact-operation')), { size: 56, align: 4 });
  // result<option<get-response>, error>: u8 tag, payload @4 = option (u8 tag, get-response @4)
  assert.deepEqual(layout(stateFunc('get').result!), { size: 48, align: 4 });
  assert.deepEqual(layout(pkg.interfaces.get('types')!.types.get('error')!), { size: 12, align: 4 });
});

test('primitives, tuples, variants and flags lay out as the spec says', () => {
  assert.deepEqual(layout(ty('bool')), { size: 1, align: 1 });
  assert.deepEqual(layout(ty('s16')), { size: 2, align: 2 });
  assert.deepEqual(layout(ty('char')), { size: 4, align: 4 });
  assert.deepEqual(layout(ty('f64')), { size: 8, align: 8 });
  assert.deepEqual(layout(ty('string')), { size: 8, align: 4 });
  assert.deepEqual(layout(ty('list<u64>')), { size: 8, align: 4 });
  assert.deepEqual(layout(ty('tuple<u8, u64>')), { size: 16, align: 8 });
  assert.deepEqual(layout(ty('tuple<u8, u16, u8>')), { size: 6, align: 2 });
  assert.deepEqual(layout(ty('option<u64>')), { size: 16, align: 8 });
  assert.deepEqual(layout(ty('result<u8, u16>')), { size: 4, align: 2 });
  assert.deepEqual(layout(ty('result')), { size: 1, align: 1 });
  assert.deepEqual(layout(ty('e256')), { size: 1, align: 1 });
  assert.deepEqual(layout(ty('e257')), { size: 2, align: 2 });
  assert.deepEqual(layout(ty('option<e257>')), { size: 4, align: 2 });
  assert.deepEqual(layout(ty('flags8')), { size: 1, align: 1 });
  assert.deepEqual(layout(ty('flags9')), { size: 2, align: 2 });
  assert.deepEqual(layout(ty('flags32')), { size: 4, align: 4 });
});

test('flattening joins variant payloads into the tightest core types', () => {
  assert.deepEqual(flattenType(ty('option<f32>')), ['i32', 'f32']);
  assert.deepEqual(flattenType(ty('result<f32, u32>')), ['i32', 'i32']);
  assert.deepEqual(flattenType(ty('result<f32, u64>')), ['i32', 'i64']);
  assert.deepEqual(flattenType(ty('result<f64, f32>')), ['i32', 'i64']);
  assert.deepEqual(flattenType(ty('result<tuple<f32, u8>, u64>')), ['i32', 'i64', 'i32']);
  assert.deepEqual(flattenType(ty('result<string, f64>')), ['i32', 'i64', 'i32']);
  assert.deepEqual(flattenType(ty('e257')), ['i32']);
  assert.deepEqual(flattenType(ty('flags32')), ['i32']);
  assert.deepEqual(flattenType(ty('tuple<u8, s64, f32, f64, char, bool>')), ['i32', 'i64', 'f32', 'f64', 'i32', 'i32']);
});

test('function signatures: the state exports and host imports, flattened', () => {
  const i32 = (n: number) => Array<'i32'>(n).fill('i32');
  assert.deepEqual(flattenFunctype(stateFunc('get'), 'lift'), { params: i32(5), results: ['i32'] });
  // set-request flattens to 14 values: within MAX_FLAT_PARAMS, so passed flat.
  assert.deepEqual(flattenFunctype(stateFunc('set'), 'lift'), { params: i32(14), results: ['i32'] });
  // Imported, a result wider than one value comes back through a pointer the caller passes.
  assert.deepEqual(flattenFunctype(stateFunc('set'), 'lower'), { params: i32(15), results: [] });
  assert.deepEqual(flattenFunctype(stateFunc('features'), 'lift'), { params: [], results: ['i32'] });
  assert.deepEqual(flattenFunctype(stateFunc('transact'), 'lift'), { params: i32(4), results: ['i32'] });
  const random = pkg.interfaces.get('random')!.functions[0]!;
  assert.deepEqual(flattenFunctype(random, 'lower'), { params: ['i32', 'i32'], results: [] });
  const now = pkg.interfaces.get('clock')!.functions[0]!;
  assert.deepEqual(flattenFunctype(now, 'lower'), { params: [], results: ['i64'] });
  const log = pkg.interfaces.get('log')!.functions[0]!;
  assert.deepEqual(flattenFunctype(log, 'lower'), { params: i32(3), results: [] });
});

test('more than 16 flat parameters spill to one pointer', () => {
  const nine = { name: 'f', params: Array.from({ length: 9 }, (_, i) => ({ name: `p${i}`, type: ty('string') })), result: undefined };
  assert.deepEqual(flattenFunctype(nine, 'lift'), { params: ['i32'], results: [] });
  const eight = { ...nine, params: nine.params.slice(0, 8) };
  assert.equal(flattenFunctype(eight, 'lift').params.length, 16);
});

test('JavaScript names follow jco: lower camel case', () => {
  assert.equal(jsName('content-type'), 'contentType');
  assert.equal(jsName('key'), 'key');
  assert.equal(jsName('HTTP-status-v2'), 'httpStatusV2');
});

test('layouts are worked out once per type and shared: the same answers, frozen, whatever was asked before', () => {
  const t = ty('tuple<string, option<list<u8>>, result<u64, string>>');
  const first = { align: alignment(t), size: elemSize(t), flat: flattenType(t) };
  // A type of the same shape, parsed apart, is laid out on its own and gets the same answers.
  const twin = ty('tuple<string, option<list<u8>>, result<u64, string>>');
  assert.notEqual(twin, t);
  assert.deepEqual({ align: alignment(twin), size: elemSize(twin), flat: [...flattenType(twin)] }, { ...first, flat: [...first.flat] });
  // Asked again: the very same flattening, which no caller can change for the others.
  assert.equal(flattenType(t), first.flat);
  assert.ok(Object.isFrozen(first.flat));
  assert.throws(() => (first.flat as string[]).push('i32'), TypeError);
  assert.deepEqual(first.flat, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i64', 'i32']);
  assert.equal(jsName('content-type'), jsName('content-type'));
});
