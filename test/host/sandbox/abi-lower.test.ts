import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { alignment, elemSize, flattenType } from '../../../host/sandbox/abi-layout.ts';
import { compileLiftFlat, compileLoad, type AbiContext } from '../../../host/sandbox/abi-lift.ts';
import { compileLowerFlat, compileStore } from '../../../host/sandbox/abi-lower.ts';
import { GuestMemory } from '../../../host/sandbox/canonical-abi.ts';
import { describeType, type WitType } from '../../../host/sandbox/wit/ast.ts';
import { loadWitPackage } from '../../../host/sandbox/wit/parser.ts';
import { isTesseraError } from '../../../host/errors.ts';
import { assertTrap, instantiateGuest, witType } from './abi-guest.ts';

const LABEL = 'test-store: t.round-trip';

/** Stores `value` in guest memory and loads it back. */
function throughMemory(cx: AbiContext, t: WitType, value: unknown): unknown {
  const ptr = cx.mem.realloc(cx.label, 0, 0, alignment(t), elemSize(t));
  compileStore(t, cx)(value, ptr);
  return compileLoad(t, cx)(ptr);
}

/** Lowers `value` to flat core values, passes them as core wasm would, and lifts them back. */
function throughFlat(cx: AbiContext, t: WitType, value: unknown): unknown {
  const flat = flattenType(t);
  const out: unknown[] = [];
  compileLowerFlat(t, cx, flat.map((want, index) => ({ index, want })))(value, out);
  assert.equal(out.length, flat.length);
  const core = out.map((v, i) => {
    switch (flat[i]) {
      case 'i64':
        assert.equal(typeof v, 'bigint', `slot ${i} of ${describeType(t)} is an i64`);
        return BigInt.asIntN(64, v as bigint);
      case 'i32':
        assert.equal(typeof v, 'number', `slot ${i} of ${describeType(t)} is an i32`);
        return (v as number) | 0;
      case 'f32':
        return Math.fround(v as number);
      default:
        return v;
    }
  });
  return compileLiftFlat(t, cx, flat.map((have, index) => ({ index, have })))(core);
}

function roundTrips(cx: AbiContext, t: WitType, values: unknown[]): void {
  for (const value of values) {
    assert.deepEqual(throughMemory(cx, t, value), value, `${describeType(t)} through memory`);
    assert.deepEqual(throughFlat(cx, t, value), value, `${describeType(t)} through flat values`);
  }
}

async function context(): Promise<AbiContext> {
  const { mem } = await instantiateGuest();
  return { mem, label: LABEL };
}

test('every primitive round-trips, edge values included', async () => {
  const cx = await context();
  const cases: [string, unknown[]][] = [
    ['bool', [true, false]],
    ['u8', [0, 255]],
    ['s8', [-128, 127, -1]],
    ['u16', [0, 65535]],
    ['s16', [-32768, 32767]],
    ['u32', [0, 2 ** 31, 2 ** 32 - 1]],
    ['s32', [-(2 ** 31), 2 ** 31 - 1, -1]],
    ['u64', [0n, 2n ** 63n, 2n ** 64n - 1n]],
    ['s64', [-(2n ** 63n), 2n ** 63n - 1n, -1n]],
    ['f32', [1.5, -0, Infinity, -Infinity, NaN, Math.fround(3.14)]],
    ['f64', [Math.PI, -0, NaN, Number.MAX_VALUE]],
    ['char', ['a', 'é', '😀', '\u{10ffff}', '\0']],
    ['string', ['', 'hello', 'héllo wörld', 'x'.repeat(100), '😀'.repeat(40), '\ufeffkeeps the BOM', 'a\0b']],
  ];
  for (const [name, values] of cases) roundTrips(cx, witType(name), values);
});

test('lists, options, results, tuples, enums, flags, records and variants round-trip', async () => {
  const cx = await context();
  const flags = (n: number, on: number[]) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}`, on.includes(i)]));
  const cases: [string, unknown[]][] = [
    ['list<u8>', [new Uint8Array(), new Uint8Array([0, 1, 255])]],
    ['list<string>', [[], ['a', 'bé', '']]],
    ['list<list<u16>>', [[[1, 2], [], [65535]]]],
    ['list<s64>', [[-1n, 2n ** 62n]]],
    ['option<string>', [undefined, '', 'x']],
    ['option<u64>', [undefined, 5n]],
    ['option<f32>', [undefined, 2.5]],
    ['result', [{ tag: 'ok', val: undefined }, { tag: 'err', val: undefined }]],
    ['result<u8, string>', [{ tag: 'ok', val: 7 }, { tag: 'err', val: 'no' }]],
    ['result<_, string>', [{ tag: 'ok', val: undefined }, { tag: 'err', val: 'no' }]],
    ['result<f64, f32>', [{ tag: 'ok', val: -2.5 }, { tag: 'err', val: 1.5 }]],
    ['result<f32, u32>', [{ tag: 'ok', val: -0 }, { tag: 'err', val: 2 ** 32 - 1 }]],
    ['tuple<u8, s64, f32, string, char, bool>', [[1, -5n, 0.5, 'str', 'ç', true]]],
    ['e257', ['c0', 'c256']],
    ['flags8', [flags(8, []), flags(8, [0, 7])]],
    ['flags9', [flags(9, [8])]],
    ['flags32', [flags(32, [0, 31]), flags(32, Array.from({ length: 32 }, (_, i) => i))]],
    ['point', [{ x: -1, y: 32767, labelText: 'origin' }]],
    [
      'mixed',
      [
        { tag: 'a', val: 1.5 },
        { tag: 'b', val: 2 ** 32 - 1 },
        { tag: 'c', val: 2n ** 64n - 1n },
        { tag: 'd', val: -2.5 },
        { tag: 'e', val: [0.25, 255] },
        { tag: 'f', val: 'text' },
        { tag: 'g' },
      ],
    ],
    ['option<mixed>', [undefined, { tag: 'a', val: -0 }, { tag: 'g' }]],
    ['list<mixed>', [[{ tag: 'd', val: 1e300 }, { tag: 'f', val: '' }]]],
    ['result<mixed, list<point>>', [{ tag: 'ok', val: { tag: 'c', val: 1n } }, { tag: 'err', val: [{ x: 1, y: 2, labelText: 'p' }] }]],
  ];
  for (const [name, values] of cases) roundTrips(cx, witType(name), values);
});

test('every type the tessera WIT uses round-trips', async () => {
  const cx = await context();
  const pkg = loadWitPackage(fileURLToPath(new URL('../../../abi/wit', import.meta.url)));
  const response = { value: new Uint8Array([1, 2, 3]), etag: '7', contentType: 'application/json', metadata: [['ttlExpireTime', '2030-01-01T00:00:00Z']] };
  const getRequest = { key: 'orders||k1', consistency: 'strong', metadata: [['partitionKey', 'p']] };
  const setRequest = { key: 'orders||k1', value: new Uint8Array([104, 105]), etag: undefined, contentType: 'text/plain', concurrency: 'first-write', consistency: 'eventual', metadata: [] };
  const deleteRequest = { key: 'orders||k1', etag: '7', concurrency: 'last-write', consistency: 'strong', metadata: [] };
  const samples: Record<string, unknown[]> = {
    metadata: [[], [['a', 'b'], ['ç', '😀']]],
    'get-request': [getRequest],
    'set-request': [setRequest],
    'delete-request': [deleteRequest],
    'list<get-request>': [[getRequest, { ...getRequest, key: 'k2', consistency: 'eventual' }]],
    'list<set-request>': [[setRequest]],
    'list<delete-request>': [[deleteRequest]],
    'list<transact-operation>': [[{ tag: 'set', val: setRequest }, { tag: 'delete', val: deleteRequest }]],
    'list<string>': [['ETAG', 'TRANSACTIONAL', 'TTL']],
    'result<_, error>': [
      { tag: 'ok', val: undefined },
      ...['etag-mismatch', 'etag-invalid', 'not-found', 'invalid-argument', 'unavailable', 'internal'].map((tag) => ({ tag: 'err', val: { tag, val: `${tag}!` } })),
    ],
    'result<option<get-response>, error>': [
      { tag: 'ok', val: response },
      { tag: 'ok', val: { ...response, etag: undefined, contentType: undefined, metadata: [] } },
      { tag: 'ok', val: undefined },
      { tag: 'err', val: { tag: 'not-found', val: 'k' } },
    ],
    'result<list<bulk-get-item>, error>': [
      { tag: 'ok', val: [{ key: 'a', response, error: undefined }, { key: 'b', response: undefined, error: 'boom' }] },
      { tag: 'err', val: { tag: 'unavailable', val: 'redis down' } },
    ],
    level: ['trace', 'debug', 'info', 'warn', 'error'],
    string: ['a log line'],
    u32: [0, 65536],
    u64: [0n, 2n ** 64n - 1n],
    'list<u8>': [new Uint8Array([9, 8, 7])],
    u16: [0, 6379, 65535],
    'result<u32, error>': [{ tag: 'ok', val: 7 }, { tag: 'err', val: { tag: 'invalid-argument', val: 'not granted' } }],
    'result<list<u8>, error>': [{ tag: 'ok', val: new Uint8Array([1]) }, { tag: 'ok', val: new Uint8Array(0) }, { tag: 'err', val: { tag: 'unavailable', val: 'closed' } }],
    'result<u64, error>': [{ tag: 'ok', val: 2n ** 63n }, { tag: 'err', val: { tag: 'internal', val: 'x' } }],
    'publish-request': [{ topic: 'orders/new', data: new Uint8Array([1, 2]), contentType: 'application/json', metadata: [['ttlInSeconds', '5']] }],
    'list<bulk-publish-entry>': [[{ entryId: 'e1', data: new Uint8Array([3]), contentType: undefined, metadata: [] }]],
    'result<list<bulk-publish-failure>, error>': [{ tag: 'ok', val: [{ entryId: 'e1', error: 'full' }] }, { tag: 'ok', val: [] }],
    'result<list<message>, error>': [
      { tag: 'ok', val: [{ id: '1-0', topic: 't', data: new Uint8Array([7]), contentType: 'text/plain', metadata: [['k', 'v']] }] },
      { tag: 'err', val: { tag: 'unavailable', val: 'redis down' } },
    ],
    'ack-outcome': ['success', 'retry', 'drop'],
    'invoke-request': [{ operation: 'create', data: new TextEncoder().encode('"hi"'), metadata: [['key', 'k1']] }],
    'result<invoke-response, error>': [
      { tag: 'ok', val: { data: new Uint8Array([1, 2]), metadata: [['statusCode', '200']], contentType: 'text/plain' } },
      { tag: 'ok', val: { data: new Uint8Array(0), metadata: [], contentType: undefined } },
      { tag: 'err', val: { tag: 'invalid-argument', val: 'no such operation' } },
    ],
    'result<list<event>, error>': [
      { tag: 'ok', val: [{ id: 'tick-1', data: new Uint8Array(0), metadata: [['timeZone', 'UTC']], contentType: undefined }] },
      { tag: 'ok', val: [] },
    ],
    'event-outcome': ['success', 'failure'],
    'result<response, error>': [
      { tag: 'ok', val: { status: 200, headers: [['content-type', 'text/plain']], body: new Uint8Array([104, 105]) } },
      { tag: 'err', val: { tag: 'invalid-argument', val: 'http request to http://x is not allowed' } },
    ],
    'result<s32, error>': [{ tag: 'ok', val: -300 }, { tag: 'ok', val: 330 }, { tag: 'err', val: { tag: 'invalid-argument', val: 'Nope/X' } }],
    'query-request': [
      {
        filter: [
          { tag: 'group', val: { matchAny: true, children: [1, 2] } },
          { tag: 'eq', val: { key: 'person.org', value: '"Dev Ops"' } },
          { tag: 'in', val: { key: 'state', values: ['"CA"', '1.5', 'null'] } },
        ],
        sort: [{ key: 'person.id', descending: true }],
        limit: 10,
        token: '20',
        keyPrefix: 'app||',
        metadata: [['contentType', 'application/json']],
      },
      { filter: [], sort: [], limit: 0, token: undefined, keyPrefix: '', metadata: [] },
    ],
    'result<query-response, error>': [
      { tag: 'ok', val: { results: [{ key: 'app||1', value: new Uint8Array([123, 125]), etag: '3' }, { key: 'app||2', value: new Uint8Array(0), etag: undefined }], token: '2', metadata: [] } },
      { tag: 'ok', val: { results: [], token: undefined, metadata: [['k', 'v']] } },
      { tag: 'err', val: { tag: 'invalid-argument', val: 'bad token' } },
    ],
  };
  const used = new Set<string>();
  for (const iface of pkg.interfaces.values()) {
    for (const fn of iface.functions) {
      for (const t of [...fn.params.map((p) => p.type), ...(fn.result ? [fn.result] : [])]) {
        const name = describeType(t);
        used.add(name);
        assert.ok(samples[name], `a sample value for ${name} (${iface.name}.${fn.name})`);
        roundTrips(cx, t, samples[name]!);
      }
    }
  }
  assert.equal(used.size, Object.keys(samples).length);
});

test('a lifted list<u8> is a copy, not a view into guest memory', async () => {
  const cx = await context();
  const t = witType('list<u8>');
  const ptr = cx.mem.realloc(LABEL, 0, 0, 4, 8);
  compileStore(t, cx)(new Uint8Array([1, 2, 3]), ptr);
  const lifted = compileLoad(t, cx)(ptr) as Uint8Array;
  cx.mem.u8.fill(0);
  assert.deepEqual(lifted, new Uint8Array([1, 2, 3]));
  assert.notEqual(lifted.buffer, cx.mem.u8.buffer);
});

test('strings are allocated as the spec does from UTF-16: one call when ASCII, grow and shrink otherwise, none when empty', async () => {
  const guest = await instantiateGuest();
  const calls: number[][] = [];
  const mem = new GuestMemory();
  mem.bind(guest.memory, (...args) => {
    calls.push(args.slice(1));
    return guest.exports.cabi_realloc(...args);
  });
  const cx = { mem, label: LABEL };
  const lower = compileLowerFlat(witType('string'), cx, [{ index: 0, want: 'i32' }, { index: 1, want: 'i32' }]);
  const out: number[] = [];
  for (const [s, expected] of [
    ['hello', [[0, 1, 5]]],
    ['', []],
    ['héllo', [[0, 1, 5], [5, 1, 15], [15, 1, 6]]],
    ['é'.repeat(40), [[0, 1, 40], [40, 1, 120], [120, 1, 80]]],
    ['€'.repeat(3), [[0, 1, 3], [3, 1, 9]]],
  ] as const) {
    calls.length = 0;
    lower(s, out);
    assert.deepEqual(calls, expected, JSON.stringify(s));
    assert.equal(out[1], Buffer.byteLength(s));
    assert.equal(Buffer.from(mem.u8.subarray(out[0], out[0]! + out[1]!)).toString(), s);
  }
  // An empty list owns no memory either: an aligned pointer, no call into the guest.
  calls.length = 0;
  compileLowerFlat(witType('list<u32>'), cx, [{ index: 0, want: 'i32' }, { index: 1, want: 'i32' }])([], out);
  compileLowerFlat(witType('list<u8>'), cx, [{ index: 0, want: 'i32' }, { index: 1, want: 'i32' }])(new Uint8Array(0), out);
  assert.deepEqual(calls, []);
});

test('lowering survives the guest growing (and so detaching) its memory mid-value', async () => {
  const cx = await context();
  const t = witType('list<string>');
  const value = Array.from({ length: 200 }, (_, i) => `${i}:${'ü'.repeat(1000)}`);
  const pagesBefore = cx.mem.u8.length / 65536;
  assert.deepEqual(throughMemory(cx, t, value), value);
  assert.ok(cx.mem.u8.length / 65536 > pagesBefore + 4);
});

test('a realloc that returns garbage traps, naming the call', async () => {
  const guest = await instantiateGuest();
  const bound = (realloc: (...a: number[]) => number): AbiContext => {
    const mem = new GuestMemory();
    mem.bind(guest.memory, realloc);
    return { mem, label: LABEL };
  };
  const lowerString = (cx: AbiContext) => compileLowerFlat(witType('string'), cx, [{ index: 0, want: 'i32' }, { index: 1, want: 'i32' }])('abc', []);
  const traps = (fn: () => unknown, pattern: RegExp) => assertTrap(fn, LABEL, pattern);
  traps(() => lowerString(bound(() => -16)), /cabi_realloc returned 0xfffffff0 for 3 bytes, past the end of guest memory \(65536 bytes\)/);
  traps(() => lowerString(bound(() => 65534)), /cabi_realloc returned 0xfffe for 3 bytes, past the end/);
  const list = witType('list<u32>');
  traps(() => compileStore(list, bound(() => 1026))([1, 2], 16), /cabi_realloc returned 0x402, which is not aligned to 4/);
  traps(() => lowerString(bound(() => guest.exports.missing())), /cabi_realloc: the component trapped/);
  const noRealloc = new GuestMemory();
  noRealloc.bind(guest.memory, undefined);
  traps(() => lowerString({ mem: noRealloc, label: LABEL }), /exports no cabi_realloc/);
});

test('host values that do not fit the WIT type are refused as host errors', async () => {
  const cx = await context();
  const refuses = (type: string, value: unknown, pattern: RegExp) => {
    const t = witType(type);
    for (const lower of [() => throughMemory(cx, t, value), () => throughFlat(cx, t, value)]) {
      assert.throws(lower, (err: unknown) => isTesseraError(err, 'ERR_INTERNAL') && err.message.startsWith(`${LABEL}: `) && pattern.test(err.message));
    }
  };
  refuses('string', 5, /expected a string, got 5/);
  refuses('u8', 256, /expected u8, got 256/);
  refuses('s32', 1.5, /expected s32, got 1\.5/);
  refuses('u64', 5, /expected u64, got 5/);
  refuses('s64', 2n ** 63n, /expected s64, got 9223372036854775808n/);
  refuses('bool', 1, /expected bool, got 1/);
  refuses('char', 'ab', /expected char/);
  refuses('char', '\ud800', /expected char/);
  refuses('list<u8>', [1, 2], /expected a Uint8Array for list<u8>, got Array/);
  refuses('list<string>', 'abc', /expected an array for list<string>/);
  refuses('e257', 'c999', /expected e257 \('c0' \| 'c1' .*, got "c999"/);
  refuses('mixed', { tag: 'z' }, /expected mixed \(\{ tag: 'a' \| 'b' .*, got "z"/);
  refuses('result<u8, u8>', { tag: 'error', val: 1 }, /expected result<u8, u8> \(\{ tag: 'ok' \| 'err' \}\), got "error"/);
  refuses('point', null, /expected record point, got null/);
  refuses('tuple<u8, u8>', [1], /expected an array of 2 for tuple<u8, u8>/);
});
