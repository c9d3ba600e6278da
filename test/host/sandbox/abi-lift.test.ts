import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { flattenType } from '../../../host/sandbox/abi-layout.ts';
import { compileLiftFlat, compileLoad, type AbiContext } from '../../../host/sandbox/abi-lift.ts';
import type { WitType } from '../../../host/sandbox/wit/ast.ts';
import { loadWitPackage } from '../../../host/sandbox/wit/parser.ts';
import { assertTrap, instantiateGuest, witType } from './abi-guest.ts';

const LABEL = 'evil-store: state.get';
const AT = 256;

async function context(): Promise<AbiContext> {
  const { mem } = await instantiateGuest();
  return { mem, label: LABEL };
}

function words(cx: AbiContext, ptr: number, ...values: number[]): void {
  values.forEach((v, i) => cx.mem.view.setUint32(ptr + 4 * i, v, true));
}

function load(cx: AbiContext, t: WitType | string, ptr = AT): unknown {
  return compileLoad(typeof t === 'string' ? witType(t) : t, cx)(ptr);
}

function liftFlat(cx: AbiContext, type: string, flat: unknown[]): unknown {
  const t = witType(type);
  return compileLiftFlat(t, cx, flattenType(t).map((have, index) => ({ index, have })))(flat);
}

function traps(fn: () => unknown, pattern: RegExp): void {
  assertTrap(fn, LABEL, pattern);
}

test('a string or list past the end of guest memory traps', async () => {
  const cx = await context();
  words(cx, AT, 65530, 100);
  traps(() => load(cx, 'string'), /string at 0xfffa of 100 bytes runs past the end of guest memory \(65536 bytes\)/);
  words(cx, AT, 0xffffffff, 0xffffffff);
  traps(() => load(cx, 'string'), /string at 0xffffffff of 4294967295 bytes runs past the end/);
  traps(() => load(cx, 'list<u8>'), /list<u8> at 0xffffffff with 4294967295 elements runs past the end/);
  // 2^29 elements of 8 bytes: the byte length (2^32) must not wrap around to 0.
  words(cx, AT, 1024, 2 ** 29);
  traps(() => load(cx, 'list<u64>'), /list<u64> at 0x400 with 536870912 elements runs past the end of guest memory/);
  traps(() => liftFlat(cx, 'string', [65000, 1000]), /string at 0xfde8 of 1000 bytes runs past the end/);
  traps(() => liftFlat(cx, 'list<string>', [-8, 1]), /list<string> at 0xfffffff8 with 1 elements runs past the end/);
});

test('a misaligned list traps', async () => {
  const cx = await context();
  words(cx, AT, 1026, 1);
  traps(() => load(cx, 'list<u32>'), /list<u32> at 0x402 is not aligned to 4/);
  traps(() => liftFlat(cx, 'list<u64>', [1028, 1]), /list<u64> at 0x404 is not aligned to 8/);
  assert.deepEqual(load(cx, 'list<u8>'), new Uint8Array([0]));
});

test('invalid UTF-8 traps, short or long; a BOM is kept as a character', async () => {
  const cx = await context();
  const bad = [
    [0x61, 0xc3, 0x28],
    [0xed, 0xa0, 0x80],
    [0xc0, 0xaf],
    [0xf0, 0x9f, 0x98],
    [...Buffer.from('x'.repeat(40)), 0xff],
  ];
  for (const bytes of bad) {
    cx.mem.u8.set(bytes, 1024);
    words(cx, AT, 1024, bytes.length);
    traps(() => load(cx, 'string'), new RegExp(`string at 0x400 of ${bytes.length} bytes is not valid UTF-8`));
    traps(() => liftFlat(cx, 'string', [1024, bytes.length]), /is not valid UTF-8/);
  }
  cx.mem.u8.set([0xef, 0xbb, 0xbf, 0x61], 1024);
  assert.equal(liftFlat(cx, 'string', [1024, 4]), '\ufeffa');
});

test('one lift site lifts each string as the guest wrote it, call after call', async () => {
  const cx = await context();
  const t = witType('string');
  const site = compileLiftFlat(t, cx, flattenType(t).map((have, index) => ({ index, have })));
  const lift = (s: string): unknown => {
    const bytes = new TextEncoder().encode(s);
    cx.mem.u8.set(bytes, 1024);
    return site([1024, bytes.length]);
  };
  // Repeats, one byte changed in place, the same length in other characters, short and long.
  for (const s of ['application/json', 'application/json', 'application/jsoN', 'applicatión/json', 'application/json', '', 'a', 'é', 'a', 'x'.repeat(300), 'x'.repeat(300)]) {
    assert.equal(lift(s), s);
  }
});

test('a discriminant out of range traps, naming the type', async () => {
  const cx = await context();
  const pkg = loadWitPackage(fileURLToPath(new URL('../../../abi/wit', import.meta.url)));
  const getResult = pkg.interfaces.get('state')!.functions.find((f) => f.name === 'get')!.result!;
  cx.mem.u8.fill(0, AT, AT + 64);
  cx.mem.u8[AT] = 2;
  traps(() => load(cx, getResult), /discriminant 2 is out of range for result<option<get-response>, error>, which has 2 cases/);
  cx.mem.u8[AT] = 0;
  cx.mem.u8[AT + 4] = 7;
  traps(() => load(cx, getResult), /discriminant 7 is out of range for option<get-response>/);
  cx.mem.u8[AT] = 1;
  cx.mem.u8[AT + 4] = 6;
  traps(() => load(cx, getResult), /discriminant 6 is out of range for error, which has 6 cases/);
  cx.mem.view.setUint16(AT, 257, true);
  traps(() => load(cx, 'e257'), /discriminant 257 is out of range for e257, which has 257 cases/);
  traps(() => liftFlat(cx, 'mixed', [7, 0n, 0]), /discriminant 7 is out of range for mixed, which has 7 cases/);
  traps(() => liftFlat(cx, 'option<u8>', [-1, 0]), /discriminant 4294967295 is out of range for option<u8>/);
});

test('a char that is not a Unicode scalar value traps; bool and narrow integers read as the spec says', async () => {
  const cx = await context();
  for (const bad of [0xd800, 0xdfff, 0x110000, 0xffffffff]) {
    words(cx, AT, bad);
    traps(() => load(cx, 'char'), new RegExp(`0x${bad.toString(16)} is not a valid char`));
    traps(() => liftFlat(cx, 'char', [bad | 0]), /is not a valid char/);
  }
  // Any non-zero byte is true; integers narrower than i32 ignore the high bits.
  cx.mem.u8[AT] = 2;
  assert.equal(load(cx, 'bool'), true);
  assert.equal(liftFlat(cx, 'bool', [-1]), true);
  assert.equal(liftFlat(cx, 'u8', [0x1ff]), 255);
  assert.equal(liftFlat(cx, 's8', [0xff]), -1);
  assert.equal(liftFlat(cx, 'u16', [-1]), 65535);
  assert.equal(liftFlat(cx, 'u32', [-1]), 2 ** 32 - 1);
  assert.equal(liftFlat(cx, 'u64', [-1n]), 2n ** 64n - 1n);
});
