import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  compileAsyncExportCall,
  compileExportCall,
  compileImport,
  coreSignature,
  exportName,
  GuestMemory,
  importModuleName,
  postReturnName,
} from '../../../host/sandbox/canonical-abi.ts';
import { loadWitPackage } from '../../../host/sandbox/wit/parser.ts';
import { isTesseraError } from '../../../host/errors.ts';
import { assertTrap, instantiateGuest, witFunction, witPackage, type Guest } from './abi-guest.ts';

const pkg = witPackage(`
  echo: func(s: string) -> string;
  echo-bytes: func(b: list<u8>) -> list<u8>;
  add: func(a: u64, b: u64) -> u64;
  many: func(a: string, b: string, c: string, d: string, e: string, f: string, g: string, h: string, i: string) -> string;
  bad-ptr: func() -> string;
  bad-align: func() -> string;
  garbled: func() -> string;
  status: func() -> result<_, string>;
  crash: func() -> u32;
  get-bytes: func(len: u32) -> list<u8>;
  now: func() -> u64;
  log: func(level: u8, message: string);
  later: func(ms: u32) -> string;
  fetch: func(len: u32) -> list<u8>;
  fetch-misaligned: func() -> list<u8>;
  clock: func() -> u64;
  shout: func(message: string);
  shout-oob: func();
  wait: func(ms: u32) -> string;
  grow-echo: func(s: string) -> string;
  shout-grown: func();
`);
const fn = (name: string) => witFunction(pkg, name);
const exp = (name: string) => exportName(pkg, 't', name);
const MODULE = importModuleName(pkg, 't');

const GUEST = `
  (data (i32.const 100) "\\ff\\fe")
  (global $posts (export "posts") (mut i32) (i32.const 0))
  (func $ret_pair (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 0))
    (i32.store (i32.const 20) (local.get 1))
    (i32.const 16))
  (func (export "${exp('echo')}") (param i32 i32) (result i32) (call $ret_pair (local.get 0) (local.get 1)))
  (func (export "${postReturnName(exp('echo'))}") (param i32)
    (global.set $posts (i32.add (global.get $posts) (i32.const 1))))
  (func (export "${exp('echo-bytes')}") (param i32 i32) (result i32) (call $ret_pair (local.get 0) (local.get 1)))
  (func (export "${exp('add')}") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "${exp('many')}") (param $area i32) (result i32)
    (call $ret_pair (i32.load offset=64 (local.get $area)) (i32.load offset=68 (local.get $area))))
  (func (export "${exp('bad-ptr')}") (result i32) (i32.const 65532))
  (func (export "${exp('bad-align')}") (result i32) (i32.const 18))
  (func (export "${exp('garbled')}") (result i32) (call $ret_pair (i32.const 100) (i32.const 2)))
  (func (export "${exp('status')}") (result i32) (i32.store8 (i32.const 16) (i32.const 5)) (i32.const 16))
  (func (export "${exp('crash')}") (result i32) unreachable)
  (func (export "${exp('fetch')}") (param i32) (result i32) (call $get_bytes (local.get 0) (i32.const 32)) (i32.const 32))
  (func (export "${exp('fetch-misaligned')}") (result i32) (call $get_bytes (i32.const 4) (i32.const 33)) (i32.const 32))
  (func (export "${exp('clock')}") (result i64) (call $now))
  (func (export "${exp('shout')}") (param i32 i32) (call $log (i32.const 3) (local.get 0) (local.get 1)))
  (func (export "${exp('shout-oob')}") (call $log (i32.const 1) (i32.const 65530) (i32.const 100)))
  (func $new_page (result i32)
    (drop (memory.grow (i32.const 1)))
    (i32.shl (i32.sub (memory.size) (i32.const 1)) (i32.const 16)))
  (func (export "${exp('grow-echo')}") (param i32 i32) (result i32) (local $page i32)
    (local.set $page (call $new_page))
    (memory.copy (local.get $page) (local.get 0) (local.get 1))
    (call $ret_pair (local.get $page) (local.get 1)))
  (func (export "${exp('shout-grown')}") (local $page i32)
    (local.set $page (call $new_page))
    (i32.store (local.get $page) (i32.const 0x776f7267))
    (call $log (i32.const 2) (local.get $page) (i32.const 4)))
  (func (export "${exp('wait')}") (param i32) (result i32) (call $later (local.get 0) (i32.const 48)) (i32.const 48))`;

const IMPORTS = `
  (import "${MODULE}" "get-bytes" (func $get_bytes (param i32 i32)))
  (import "${MODULE}" "now" (func $now (result i64)))
  (import "${MODULE}" "log" (func $log (param i32 i32 i32)))
  (import "${MODULE}" "later" (func $later (param i32 i32)))`;

interface HostCalls {
  logged: unknown[][];
}

/** An async host function: a promise to wait `ms`, or its answer at once for 0. */
function laterHost(ms: number): string | Promise<string> {
  if (ms === 0) return 'at once';
  return new Promise((resolve) => setTimeout(() => resolve(`waited ${ms} ms: ${'ü'.repeat(3)}`), ms));
}

/** The guest above, with host imports compiled through `compileImport`. */
async function guest(): Promise<Guest & HostCalls> {
  const mem = new GuestMemory();
  const logged: unknown[][] = [];
  const imp = (name: string, host: (...args: any[]) => unknown, async = false) => {
    const core = compileImport(fn(name), host, mem, { async, label: `test-guest: t.${name}` });
    return async ? new WebAssembly.Suspending(core as (...args: unknown[]) => unknown) : core;
  };
  const g = await instantiateGuest(GUEST, IMPORTS, {
    [MODULE]: {
      'get-bytes': imp('get-bytes', (len: number) => new Uint8Array(len).map((_, i) => i + 1)) as WebAssembly.ImportValue,
      now: imp('now', () => 2n ** 64n - 2n) as WebAssembly.ImportValue,
      log: imp('log', (level: number, message: string) => void logged.push([level, message])) as WebAssembly.ImportValue,
      later: imp('later', laterHost, true) as WebAssembly.ImportValue,
    },
  }, mem);
  return { ...g, logged };
}

function call(g: Guest, name: string) {
  const post = g.exports[postReturnName(exp(name))];
  return compileExportCall(fn(name), g.exports[exp(name)], post, g.mem, `test-guest: t.${name}`);
}

test('core names follow wit-bindgen', () => {
  const tessera = loadWitPackage(fileURLToPath(new URL('../../../abi/wit', import.meta.url)));
  assert.equal(exportName(tessera, 'state', 'get'), `tessera:components/state@${ABI_VERSION}#get`);
  assert.equal(postReturnName(exportName(tessera, 'state', 'bulk-get')), `cabi_post_tessera:components/state@${ABI_VERSION}#bulk-get`);
  assert.equal(importModuleName(tessera, 'log'), `tessera:components/log@${ABI_VERSION}`);
  assert.throws(() => exportName(tessera, 'state', 'scan'), (err: unknown) => isTesseraError(err, 'ERR_COMPONENT_LOAD') && /no function `scan`/.test(err.message));
  assert.throws(() => importModuleName(tessera, 'net'), /has no interface `net`/);
});

test('core signatures for exports and imports', () => {
  assert.deepEqual(coreSignature(fn('echo'), 'export'), { params: ['i32', 'i32'], results: ['i32'] });
  assert.deepEqual(coreSignature(fn('echo'), 'import'), { params: ['i32', 'i32', 'i32'], results: [] });
  assert.deepEqual(coreSignature(fn('add'), 'export'), { params: ['i64', 'i64'], results: ['i64'] });
  assert.deepEqual(coreSignature(fn('many'), 'export'), { params: ['i32'], results: ['i32'] });
  assert.deepEqual(coreSignature(fn('log'), 'import'), { params: ['i32', 'i32', 'i32'], results: [] });
});

test('an export round trip lowers the arguments, lifts through the return pointer and calls post-return', async () => {
  const g = await guest();
  const echo = call(g, 'echo');
  assert.equal(echo('hello'), 'hello');
  assert.equal(echo(''), '');
  assert.equal(echo('ünïcödé 😀'.repeat(50)), 'ünïcödé 😀'.repeat(50));
  assert.equal(g.exports.posts.value, 3);
  assert.deepEqual(call(g, 'echo-bytes')(new Uint8Array([1, 2, 3])), new Uint8Array([1, 2, 3]));
  assert.equal(call(g, 'add')(2n ** 64n - 1n, 2n), 1n);
  assert.equal(g.exports.posts.value, 3);
});

test('past 16 flat parameters, the arguments go through a parameter area the guest allocates', async () => {
  const g = await guest();
  const args = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'the ninth'];
  assert.equal(call(g, 'many')(...args), 'the ninth');
});

test('an import call from the guest lifts its arguments and lowers its result, through the return area', async () => {
  const g = await guest();
  assert.deepEqual(call(g, 'fetch')(5), new Uint8Array([1, 2, 3, 4, 5]));
  assert.equal(call(g, 'clock')(), 2n ** 64n - 2n);
  call(g, 'shout')('from the guest');
  assert.deepEqual(g.logged, [[3, 'from the guest']]);
});

test('memory the guest grows during a call (detaching the old buffer) is read through fresh views', async () => {
  const g = await guest();
  assert.equal(call(g, 'grow-echo')('into the new page'), 'into the new page');
  assert.equal(g.memory.buffer.byteLength, 2 * 65536);
  call(g, 'shout-grown')();
  assert.deepEqual(g.logged, [[2, 'grow']]);
});

test('async: a promising export suspends on an async import and resumes with its result', async () => {
  const g = await guest();
  const wait = compileAsyncExportCall(fn('wait'), WebAssembly.promising(g.exports[exp('wait')]), undefined, g.mem, 'test-guest: t.wait');
  assert.equal(await wait(5), 'waited 5 ms: üüü');
});

test('async: an async import whose host answers at once returns without a promise, so the guest does not suspend', async () => {
  const g = await guest();
  const later = compileImport(fn('later'), laterHost as (...args: unknown[]) => unknown, g.mem, { async: true, label: 'test-guest: t.later' }) as (...flat: unknown[]) => unknown;
  assert.equal(later(0, 48), undefined, 'lowered into the return area at once');
  const pending = later(1, 48);
  assert.ok(pending instanceof Promise, 'a host promise is handed on, for WebAssembly.Suspending');
  await pending;
  const wait = compileAsyncExportCall(fn('wait'), WebAssembly.promising(g.exports[exp('wait')]), undefined, g.mem, 'test-guest: t.wait');
  assert.equal(await wait(0), 'at once');
  assert.equal(await wait(2), 'waited 2 ms: üüü');
});

test('a hostile guest traps with the function named: bad pointers, UTF-8, discriminants', async () => {
  const g = await guest();
  assertTrap(() => call(g, 'bad-ptr')(), 'test-guest: t.bad-ptr', /the returned pointer 0xfffc of 8 bytes runs past the end of guest memory/);
  assertTrap(() => call(g, 'bad-align')(), 'test-guest: t.bad-align', /the returned pointer 0x12 is not aligned to 4/);
  assertTrap(() => call(g, 'garbled')(), 'test-guest: t.garbled', /string at 0x64 of 2 bytes is not valid UTF-8/);
  assertTrap(() => call(g, 'status')(), 'test-guest: t.status', /discriminant 5 is out of range for result<_, string>/);
  assertTrap(() => call(g, 'crash')(), 'test-guest: t.crash', /the component trapped: unreachable/);
  assertTrap(() => call(g, 'shout-oob')(), 'test-guest: t.log', /string at 0xfffa of 100 bytes runs past the end/);
  assertTrap(() => call(g, 'fetch-misaligned')(), 'test-guest: t.get-bytes', /the return area 0x21 is not aligned to 4/);
});

test('a garbage realloc while lowering arguments traps, naming the function', async () => {
  const g = await guest();
  const mem = new GuestMemory();
  mem.bind(g.memory, () => -16);
  const echo = compileExportCall(fn('echo'), g.exports[exp('echo')], undefined, mem, 'test-guest: t.echo');
  assertTrap(() => echo('x'), 'test-guest: t.echo', /cabi_realloc returned 0xfffffff0 for 1 bytes, past the end of guest memory/);
});

test('the host passing the wrong number of arguments is a host error', async () => {
  const g = await guest();
  assert.throws(() => call(g, 'echo')('a', 'b'), (err: unknown) => isTesseraError(err, 'ERR_INTERNAL') && /`echo` takes 1 argument\(s\), got 2/.test(err.message));
});
