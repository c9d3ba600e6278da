// The C++ build of state.memory (components-wasm/state-memory-cpp, on sdk/cpp) through the real
// host: CompiledComponent (checks, memory cap, CPU metering), LiveComponent and the host's own
// canonical ABI lifting. It passes the conformance kit and behaves as the other builds do
// (test/support/state-memory-behaviour.ts), snapshot included,
// and the committed .wasm must be what its sources build, byte for byte, from any folder.
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { componentEmbed, componentNew, transpile } from '@bytecodealliance/jco';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DeleteRequest, GetResponse, SetRequest, StateStore } from '../../abi/ts/state.ts';
import type { WitResult } from '../../abi/ts/types.ts';
import type { TesseraError } from '../../host/errors.ts';
import { silentLogger, type Logger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { instantiate } from '../../host/sandbox/component-instance.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { restoreSnapshot, takeSnapshot } from '../../host/sandbox/snapshot-stream.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';
import { buildCppComponent } from '../../host/toolchain/cpp.ts';
import { fullStoreAcrossGenerations, fullStoreRoundTrip, joined, portOf, readAll, streamEndsOnOtherCalls } from '../support/snapshot-fill.ts';
import { needs } from '../support/tools.ts';
import { conformanceTests } from '../support/conformance.ts';
import { stateMemoryBehaviour } from '../support/state-memory-behaviour.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_DIR = fileURLToPath(new URL('../../components-wasm/state-memory-cpp/', import.meta.url));
const WASM = join(SOURCE_DIR, 'state-memory-cpp.wasm');
const AS_WASM = fileURLToPath(new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url));
const STATE = `tessera:components/state@${ABI_VERSION}#`;
const SNAPSHOT = `tessera:components/snapshot@${ABI_VERSION}#`;
const SNAPSHOT_STREAM = `tessera:components/snapshot-stream@${ABI_VERSION}#`;
const T0 = Date.UTC(2026, 10, 26, 7, 29, 50);

const wasmBytes = readFile(WASM).then((b) => new Uint8Array(b));
const compiled = wasmBytes.then((b) => CompiledComponent.compile(b, { source: 'state-memory-cpp.wasm' }));
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** A logger that keeps what the component logs. */
function capturingLogger(lines: { level: string; message: string }[]): Logger {
  const logger: Logger = {
    debug: (message) => void lines.push({ level: 'debug', message }),
    info: (message) => void lines.push({ level: 'info', message }),
    warn: (message) => void lines.push({ level: 'warn', message }),
    error: (message) => void lines.push({ level: 'error', message }),
    child: () => logger,
    isEnabled: () => true,
  };
  return logger;
}

/** The host clock (`Date.now`, which the clock capability reads) as the test sets it. */
function frozenClock(t: TestContext): { now: number } {
  const clock = { now: T0 };
  t.mock.method(Date, 'now', () => clock.now);
  return clock;
}

interface Started {
  live: LiveComponent;
  store: StateStore;
  logs: { level: string; message: string }[];
}

async function start(module: Promise<CompiledComponent> = compiled, config: [string, string][] = [['any', 'thing']]): Promise<Started> {
  const logs: { level: string; message: string }[] = [];
  const live = await LiveComponent.start(await module, { name: 'memory-cpp', config: new Map(config), logger: capturingLogger(logs) });
  return { live, store: adaptStateStore(live), logs };
}

const setReq = (key: string, value: string, more: Partial<SetRequest> = {}): SetRequest => ({
  key, value: encode(value), concurrency: 'last-write', consistency: 'eventual', metadata: [], ...more,
});
const deleteReq = (key: string, more: Partial<DeleteRequest> = {}): DeleteRequest => ({
  key, concurrency: 'last-write', consistency: 'eventual', metadata: [], ...more,
});
const getReq = (key: string) => ({ key, consistency: 'eventual' as const, metadata: [] });

/** The component error a call failed with, or undefined when it succeeded. */
async function errorOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    const tag = (err as TesseraError).componentError?.tag;
    assert.ok(tag, `expected a component error, got ${String(err)}`);
    return tag;
  }
}

/** A get as plain values: the value as text, ETag, content type and metadata. */
async function read(store: StateStore, key: string) {
  const r = await store.get(getReq(key));
  return r && { value: decode(r.value), etag: r.etag, contentType: r.contentType, metadata: r.metadata };
}

describe('state.memory, C++ build (through the host)', () => {
  test('exports the state-store, snapshot and snapshot-stream interfaces, imports log and clock, and carries its manifest', async () => {
    const module = await WebAssembly.compile(await wasmBytes);
    const fns = ['init', 'features', 'get', 'set', 'delete', 'bulk-get', 'bulk-set', 'bulk-delete', 'transact', 'ping'].map((f) => STATE + f);
    fns.push(`${SNAPSHOT}snapshot`, `${SNAPSHOT}restore`, ...['snapshot-chunk', 'restore-chunk', 'restore-end'].map((f) => SNAPSHOT_STREAM + f));
    assert.deepEqual(
      WebAssembly.Module.exports(module).map((e) => e.name).sort(),
      // snapshot-begin returns nothing, so it has no post-return.
      ['_initialize', 'cabi_realloc', 'memory', `${SNAPSHOT_STREAM}snapshot-begin`, ...fns, ...fns.map((f) => `cabi_post_${f}`)].sort(),
    );
    assert.deepEqual(
      WebAssembly.Module.imports(module).map((i) => `${i.module} ${i.name}`).sort(),
      [`tessera:components/clock@${ABI_VERSION} now-ms`, `tessera:components/log@${ABI_VERSION} log`],
    );
    const { manifest, optionalExports } = await compiled;
    assert.deepEqual({ ...manifest, description: undefined }, {
      kind: 'state-store', type: 'state.memory', version: 'v1', abi: ABI_VERSION, capabilities: ['log', 'clock'], description: undefined,
    });
    assert.match(manifest.description ?? '', /C\+\+ build/);
    assert.deepEqual([...optionalExports], ['snapshot', 'snapshot-stream']);
  });

  test('init logs the config keys at debug; features and ping answer', async () => {
    const { store, logs } = await start(compiled, [['any', 'thing'], ['secret', 'hunter2']]);
    assert.deepEqual(logs, [{ level: 'debug', message: 'state.memory initialised; config keys: [any, secret]' }]);
    assert.deepEqual([...store.features], ['ETAG', 'TRANSACTIONAL', 'TTL']);
    await store.ping();
  });

  test('snapshot and restore: a fresh instance gets every key, value, ETag, content type and TTL', async (t) => {
    const clock = frozenClock(t);
    const old = await start();
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    await old.store.set(setReq('plain', 'v', { contentType: 'text/plain' }));
    await old.store.set({ ...setReq('bin', ''), value: binary });
    await old.store.set(setReq('ttl', 't', { metadata: [['ttlInSeconds', '60']] }));
    await old.store.set(setReq('gone', 'g', { metadata: [['ttlInSeconds', '1']] }));
    await old.store.set(setReq('ключ 😀', 'u', { contentType: 'text/plain; charset=ü' }));
    await old.store.delete(deleteReq('plain', { etag: '1' }));
    await old.store.set(setReq('plain', 'v2'));
    clock.now += 1000;
    const data = (await old.live.call('snapshot#snapshot', [])) as Uint8Array;
    assert.ok(data instanceof Uint8Array);
    assert.equal(data[0], 1, 'format version 1');

    const next = await start();
    assert.deepEqual(await next.live.call('snapshot#restore', [data]), { tag: 'ok', val: undefined });
    assert.deepEqual(next.logs.at(-1), { level: 'debug', message: `state.memory restored 4 keys from a snapshot of ${data.length} bytes` });
    for (const key of ['plain', 'ttl', 'ключ 😀']) assert.deepEqual(await read(next.store, key), await read(old.store, key), key);
    assert.deepEqual((await next.store.get(getReq('bin')))?.value, binary);
    assert.equal(await next.store.get(getReq('gone')), undefined, 'expired items are left out');
    await next.store.set(setReq('new', 'n'));
    assert.equal((await read(next.store, 'new'))?.etag, '7', 'the ETag counter carries over: an ETag is never reused');
    clock.now += 59_000;
    assert.equal(await next.store.get(getReq('ttl')), undefined, 'TTLs keep running');
    const again = (await next.live.call('snapshot#snapshot', [])) as Uint8Array;
    assert.deepEqual(await old.live.call('snapshot#restore', [again]), { tag: 'ok', val: undefined });
    assert.equal((await read(old.store, 'new'))?.value, 'n');
  });

  test('a snapshot streamed in chunks joins to the whole snapshot, and restores chunk by chunk or whole', async () => {
    const old = await start();
    const keys = Array.from({ length: 30 }, (_, i) => `k-${i}`);
    for (const [i, key] of keys.entries()) await old.store.set(setReq(key, 'v'.repeat(i * 13), i % 2 ? { contentType: 'text/plain' } : { metadata: [['ttlInSeconds', '60']] }));
    const whole = (await old.live.call('snapshot#snapshot', [])) as Uint8Array;
    const before = await readAll(old.live, keys);
    for (const chunkBytes of [1, 100, 1 << 20]) {
      const chunks = await takeSnapshot(portOf(old.live), { chunkBytes });
      assert.deepEqual(joined(chunks), whole, `chunks of ${chunkBytes} bytes joined`);
      if (chunkBytes === 1) assert.equal(chunks.length, 31, 'the header, then one record per chunk');
      const next = await start();
      await restoreSnapshot(portOf(next.live), chunks);
      assert.deepEqual(await readAll(next.live, keys), before);
      const restored = { level: 'debug', message: `state.memory restored 30 keys from a snapshot of ${whole.length} bytes` };
      assert.ok(next.logs.some((line) => line.level === restored.level && line.message === restored.message), JSON.stringify(next.logs));
    }
    // The AssemblyScript build's whole snapshot is one chunk of whole records to this one.
    const next = await start();
    await restoreSnapshot(portOf(next.live), [whole]);
    assert.deepEqual(await readAll(next.live, keys), before);
    const chunks = await takeSnapshot(portOf(old.live), { chunkBytes: 100 });
    await next.store.set(setReq('mine', 'kept'));
    await assert.rejects(restoreSnapshot(portOf(next.live), chunks.slice(0, -1)), /state\.memory cannot restore this snapshot: it ends inside its data/);
    await assert.rejects(restoreSnapshot(portOf(next.live), [chunks[0]!, chunks[1]!.subarray(1)]), /state\.memory cannot restore this snapshot/);
    assert.equal((await read(next.store, 'mine'))?.value, 'kept', 'a refused snapshot leaves the store as it was');
  });

  test('any other call ends a stream: the snapshot under way, or the restore', async () => {
    const old = (await start()).live;
    for (let i = 0; i < 10; i++) await old.call('set', [{ key: `k-${i}`, value: new Uint8Array(40), concurrency: 'last-write', consistency: 'eventual', metadata: [] }]);
    const fresh = (await start()).live;
    await streamEndsOnOtherCalls(old, fresh);
    assert.equal((await readAll(fresh, ['k-9']))[0]?.value.length, 40);
  });

  test('data at 90% of an 8 MiB memory limit survives snapshot and restore into a fresh instance', async () => {
    await fullStoreRoundTrip(await wasmBytes, 8 * 1024 * 1024);
  });

  test('at 90% of an 8 MiB memory limit, a new generation takes the data, hibernates and wakes with it (LiveComponent)', async () => {
    await fullStoreAcrossGenerations(await wasmBytes, 8 * 1024 * 1024);
  });

  test('restore refuses an empty, foreign, truncated or padded snapshot and keeps its data', async () => {
    const { live, store } = await start();
    await store.set(setReq('keep', 'me'));
    const data = (await live.call('snapshot#snapshot', [])) as Uint8Array;
    const refused = async (bytes: Uint8Array): Promise<string> => {
      const result = (await live.call('snapshot#restore', [bytes])) as WitResult<undefined>;
      assert.equal(result.tag, 'err');
      assert.equal(result.tag === 'err' && result.val.tag, 'invalid-argument');
      return result.tag === 'err' ? result.val.val : '';
    };
    const prefix = 'state.memory cannot restore this snapshot: ';
    assert.equal(await refused(new Uint8Array()), `${prefix}it is empty (not even a format version byte)`);
    assert.equal(
      await refused(Uint8Array.of(2, ...data.subarray(1))),
      `${prefix}its format version is 2, and this version of state.memory reads format version 1 only (was it taken by a newer state.memory?)`,
    );
    assert.equal(await refused(data.subarray(0, 12)), `${prefix}it ends inside its data (12 bytes; a read at byte 9 ran past the end)`);
    assert.equal(
      await refused(data.subarray(0, data.length - 1)),
      `${prefix}it ends inside its data (${data.length - 1} bytes; a read at byte ${data.length - 2} ran past the end)`,
    );
    assert.equal(await refused(Uint8Array.of(...data, 0)), `${prefix}1 bytes follow its last item (it holds 1 items)`);
    const huge = Uint8Array.from(data);
    new DataView(huge.buffer).setUint32(13, 0xffffffff, true);
    assert.match(await refused(huge), /it ends inside its data \(\d+ bytes; a read at byte 17 ran past the end\)/);
    new DataView(huge.buffer).setUint32(13, 0x80000001, true);
    assert.match(await refused(huge), /a read at byte 17 ran past the end/, 'a length whose byte size wraps 32 bits is no short read');
    const flag = Uint8Array.from(data);
    flag[13 + 4 + 2 * 'keep'.length + 16] = 7;
    assert.equal(await refused(flag), `${prefix}item 0 ("keep") has content-type flag 7 at byte 41`);
    const twice = Uint8Array.of(...data.subarray(0, 13), ...data.subarray(13), ...data.subarray(13));
    new DataView(twice.buffer).setUint32(9, 2, true);
    assert.equal(await refused(twice), `${prefix}it holds the same key more than once (2 items, 1 distinct keys)`);
    assert.deepEqual(await read(store, 'keep'), { value: 'me', etag: '1', contentType: undefined, metadata: [] });
  });

  test('a snapshot crosses between the AssemblyScript and C++ builds of state.memory, both ways', async (t) => {
    const asCompiled = CompiledComponent.compile(new Uint8Array(await readFile(AS_WASM)));
    if (!(await asCompiled).optionalExports.has('snapshot')) {
      t.skip('this AssemblyScript build of state.memory has no snapshot export');
      return;
    }
    frozenClock(t);
    const as = await start(asCompiled);
    const cpp = await start();
    await as.store.set(setReq('a 😀', 'from as', { contentType: 'text/plain', metadata: [['ttlInSeconds', '30']] }));
    await as.store.set(setReq('b', 'x'));
    assert.deepEqual(await cpp.live.call('snapshot#restore', [await as.live.call('snapshot#snapshot', [])]), { tag: 'ok', val: undefined });
    for (const key of ['a 😀', 'b']) assert.deepEqual(await read(cpp.store, key), await read(as.store, key), key);
    await cpp.store.set(setReq('c', 'from c++'));
    const back = await start(asCompiled);
    assert.deepEqual(await back.live.call('snapshot#restore', [await cpp.live.call('snapshot#snapshot', [])]), { tag: 'ok', val: undefined });
    for (const key of ['a 😀', 'b', 'c']) assert.deepEqual(await read(back.store, key), await read(cpp.store, key), key);
  });

  test('jco embed + jco new accept it as the snapshotting-state-store world, and jco\'s own lifting agrees', async () => {
    // wit-component checks every core signature against the WIT; jco's generated glue then
    // lifts and lowers by its own reading of the Canonical ABI, independently of the host's.
    const witDir = join(ROOT, 'abi', 'wit');
    let wit = `package tessera:components@${ABI_VERSION};\n`;
    for (const file of (await readdir(witDir)).sort()) wit += (await readFile(join(witDir, file), 'utf8')).replace(/^package .*;$/m, '');
    const component = await componentNew(await componentEmbed({ binary: await wasmBytes, witSource: wit, world: 'snapshotting-state-store', stringEncoding: 'utf8' }));
    const { files } = await transpile(component, { name: 'memory', instantiation: 'async', noTypescript: true });
    const dir = await mkdtemp(join(tmpdir(), 'tessera-jco-cpp-'));
    try {
      for (const [name, bytes] of Object.entries(files)) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), bytes);
      }
      const { instantiate: instantiateComponent } = await import(pathToFileURL(join(dir, 'memory.js')).href);
      const { state, snapshot } = await instantiateComponent((path: string) => readFile(join(dir, path)).then((b) => WebAssembly.compile(b)), {
        'tessera:components/log': { log() {} },
        'tessera:components/clock': { nowMs: () => BigInt(T0), monotonicNs: () => 0n },
        'tessera:components/types': {},
      });
      state.init([['a', 'b']]);
      assert.deepEqual(state.features(), ['ETAG', 'TRANSACTIONAL', 'TTL']);
      const base = { consistency: 'eventual', metadata: [] };
      state.set({ ...base, key: 'k', value: Uint8Array.of(1, 2), contentType: 'a/b', concurrency: 'last-write', metadata: [['ttlInSeconds', '10']] });
      assert.deepEqual(state.get({ ...base, key: 'k' }), {
        value: Uint8Array.of(1, 2), etag: '1', contentType: 'a/b', metadata: [['ttlExpireTime', '2026-11-26T07:30:00Z']],
      });
      assert.throws(() => state.delete({ ...base, key: 'k', etag: '5', concurrency: 'first-write' }), (e: { payload?: { tag?: string } }) => e.payload?.tag === 'etag-mismatch');
      state.transact([{ tag: 'delete', val: { ...base, key: 'k', etag: '1', concurrency: 'last-write' } }], []);
      assert.deepEqual(state.bulkGet([{ ...base, key: 'k' }]), [{ key: 'k', response: undefined, error: undefined }]);
      state.set({ ...base, key: 'kept', value: Uint8Array.of(3), contentType: 'c/d', concurrency: 'last-write' });
      const data = snapshot.snapshot();
      assert.ok(data instanceof Uint8Array && data[0] === 1, 'a snapshot starts with its format version');
      state.delete({ ...base, key: 'kept', concurrency: 'last-write' });
      snapshot.restore(data);
      assert.deepEqual(state.get({ ...base, key: 'kept' }), { value: Uint8Array.of(3), etag: '2', contentType: 'c/d', metadata: [] });
      assert.throws(() => snapshot.restore(Uint8Array.of(9)), (e: { payload?: { tag?: string } }) => e.payload?.tag === 'invalid-argument');
      state.ping();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('memory stays flat across many calls: every argument and result is freed', async () => {
    // Unmetered: one instance takes thousands of calls here without the host resetting its fuel.
    const unmetered = await CompiledComponent.compile(await wasmBytes, { cpuBudget: 0 });
    const instance = await instantiate(unmetered, { name: 'memory-cpp', logger: silentLogger });
    const call = (fn: string, ...args: unknown[]) => instance.calls.get(fn)!(...args) as WitResult<unknown>;
    assert.equal(call('init', [['a', 'b']]).tag, 'ok');
    const value = (i: number) => encode(`${i}:`.padEnd(4000, String.fromCharCode(97 + (i % 26))));
    const write = (i: number) =>
      call('set', { ...setReq(`k${i % 20}`, ''), value: value(i), etag: undefined, contentType: 'a/b', metadata: [['a', `${i}`], ['b', 'c']] });
    const round = (i: number) => {
      assert.equal(write(i).tag, 'ok');
      assert.equal((call('get', getReq(`k${(i * 7) % 20}`)).val as GetResponse).value.length, 4000);
      call('bulk-get', [getReq('k1'), getReq('k2'), getReq('none')]);
      call('transact', [{ tag: 'delete', val: deleteReq('gone') }, { tag: 'set', val: setReq('t', 'v') }], [['x', 'y']]);
      if (i % 100 === 0) assert.equal((call('snapshot#snapshot') as unknown as Uint8Array)[0], 1);
    };
    // The first rounds reach the heap's working size (a snapshot alone is some 80 KB).
    for (let i = 0; i < 20; i++) write(i);
    for (let i = 20; i < 220; i++) round(i);
    const before = instance.memory.buffer.byteLength;
    for (let i = 220; i < 3220; i++) round(i);
    assert.equal(instance.memory.buffer.byteLength, before, 'about 12 MB of values went through; none of it should stay');
  });

  test('cabi_realloc hands out aligned blocks, zero-sized ones without allocating, and a bad discriminant traps', async () => {
    const instance = new WebAssembly.Instance(await WebAssembly.compile(await wasmBytes), {
      [`tessera:components/log@${ABI_VERSION}`]: { log() {} },
      [`tessera:components/clock@${ABI_VERSION}`]: { 'now-ms': () => BigInt(T0) },
    });
    const exports = instance.exports as Record<string, Function>;
    exports._initialize!();
    const realloc = exports.cabi_realloc!;
    for (const align of [1, 2, 4, 8]) {
      const ptr = realloc(0, 0, align, 3) as number;
      assert.equal(ptr % align, 0);
      const grown = realloc(ptr, 3, align, 5000) as number;
      assert.equal(grown % align, 0);
      assert.equal(realloc(grown, 5000, align, 0), align);
    }
    assert.equal(realloc(0, 0, 4, 0), 4);
    assert.throws(() => exports[`${STATE}get`]!(1, 0, 7, 1, 0), WebAssembly.RuntimeError);
  });

  test('the README\'s example component builds with the plain state-store exports and serves', needs('clang'), async () => {
    const readme = await readFile(join(ROOT, 'sdk', 'cpp', 'README.md'), 'utf8');
    const source = /```cpp\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(source, 'sdk/cpp/README.md has a ```cpp example');
    const dir = await mkdtemp(join(tmpdir(), 'tessera-cpp-readme-'));
    try {
      await mkdir(join(dir, 'state-kv'));
      await writeFile(join(dir, 'state-kv', 'main.cpp'), source);
      await buildCppComponent(join(dir, 'state-kv'), join(dir, 'state-kv.wasm'));
      const kv = await CompiledComponent.compile(new Uint8Array(await readFile(join(dir, 'state-kv.wasm'))));
      assert.equal(kv.manifest.type, 'state.kv');
      assert.deepEqual([...kv.importedInterfaces], ['log']);
      assert.deepEqual([...kv.optionalExports], [], 'no snapshot interface');
      const { live, store, logs } = await start(Promise.resolve(kv));
      assert.deepEqual(logs, [{ level: 'info', message: 'state.kv ready (1 settings)' }]);
      assert.deepEqual([...store.features], []);
      await store.set(setReq('k', 'v'));
      assert.equal((await read(store, 'k'))?.value, 'v');
      assert.equal(await errorOf(store.set(setReq('', 'v'))), 'invalid-argument');
      assert.deepEqual((await store.bulkGet([getReq('k'), getReq('no')])).map((i) => decode(i.response?.value)), ['v', undefined]);
      assert.equal(await errorOf(store.transact([], [])), 'internal', 'the default transact refuses');
      await store.bulkDelete([deleteReq('k')]);
      assert.equal(await store.get(getReq('k')), undefined);
      await live.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a rebuild from a copy of the sources in another folder is byte-identical to the committed .wasm', needs('clang'), async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-cpp-rebuild-'));
    try {
      const copy = join(dir, 'somewhere', 'else', 'state-memory-cpp');
      await cp(SOURCE_DIR, copy, { recursive: true, filter: (src) => !src.endsWith('.wasm') });
      const out = join(dir, 'rebuilt.wasm');
      await buildCppComponent(copy, out);
      const [committed, rebuilt] = await Promise.all([wasmBytes, readFile(out)]);
      assert.ok(Buffer.compare(committed, rebuilt) === 0, `committed ${committed.length} bytes, rebuilt ${rebuilt.length}: run \`npm run build:components\` and commit it`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

conformanceTests('state-memory-cpp.wasm', async () => ({ bytes: new Uint8Array(await readFile(WASM)), source: 'state-memory-cpp.wasm' }));
stateMemoryBehaviour('state-memory-cpp.wasm', compiled);
