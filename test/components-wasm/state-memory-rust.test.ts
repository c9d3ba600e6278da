// The Rust state.memory (components-wasm/state-memory-rust) through the real host: compiled,
// started and bound as a StateStore like any component, run through the conformance kit and
// state.memory's own behaviour (test/support/state-memory-behaviour.ts), plus snapshot/restore; jco's own reading of the Canonical ABI; and
// the Rust builder: byte-identical rebuilds from another path, the README's example, and its
// refusals.
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import assert from 'node:assert/strict';
import { componentEmbed, componentNew, transpile } from '@bytecodealliance/jco';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { GetResponse, SetRequest, StateStore } from '../../abi/ts/state.ts';
import type { WitResult } from '../../abi/ts/types.ts';
import { isTesseraError } from '../../host/errors.ts';
import { createLogger, silentLogger, type Logger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { instantiate } from '../../host/sandbox/component-instance.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';
import { restoreSnapshot, takeSnapshot } from '../../host/sandbox/snapshot-stream.ts';
import { buildRustComponent } from '../../host/toolchain/rust.ts';
import { fullStoreAcrossGenerations, fullStoreRoundTrip, joined, portOf, readAll, streamEndsOnOtherCalls } from '../support/snapshot-fill.ts';
import { tempDir } from '../support/temp-dir.ts';
import { needs } from '../support/tools.ts';
import { conformanceTests } from '../support/conformance.ts';
import { stateMemoryBehaviour } from '../support/state-memory-behaviour.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPONENT_DIR = join(ROOT, 'components-wasm', 'state-memory-rust');
const WASM = join(COMPONENT_DIR, 'state-memory-rust.wasm');
const STATE = `tessera:components/state@${ABI_VERSION}#`;
const SNAPSHOT = `tessera:components/snapshot@${ABI_VERSION}#`;
const SNAPSHOT_STREAM = `tessera:components/snapshot-stream@${ABI_VERSION}#`;
/** 10 s before 2026-11-26T07:30:00Z, the ttlExpireTime of a 10-second TTL set now. */
const NOW = Date.UTC(2026, 10, 26, 7, 29, 50);

const bytes = readFile(WASM);
const compiled = bytes.then((b) => CompiledComponent.compile(b, { source: 'state-memory-rust.wasm' }));
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

async function start(logger: Logger = silentLogger): Promise<{ live: LiveComponent; store: StateStore }> {
  const live = await LiveComponent.start(await compiled, { name: 'memory-rust', config: new Map([['any', 'thing']]), logger });
  return { live, store: adaptStateStore(live) };
}

/** A clock the test moves: the `clock` capability reads Date.now(). */
function fakeClock(t: TestContext): (ms: number) => void {
  t.mock.timers.enable({ apis: ['Date'], now: NOW });
  return (ms) => t.mock.timers.tick(ms);
}

function setRequest(key: string, value: string, more: Partial<SetRequest> = {}): SetRequest {
  return { key, value: utf8(value), concurrency: 'last-write', consistency: 'eventual', metadata: [], ...more };
}

const get = (store: StateStore, key: string): Promise<GetResponse | undefined> => store.get({ key, consistency: 'eventual', metadata: [] });
const set = (store: StateStore, key: string, value: string, more: Partial<SetRequest> = {}): Promise<void> =>
  store.set(setRequest(key, value, more));

/** The WIT error case a call rejected with, or undefined when it succeeded. */
async function errorOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    if (isTesseraError(err) && err.componentError) return err.componentError.tag;
    throw err;
  }
}

describe('state.memory in Rust, through the host', () => {
  test('carries the state.memory manifest, imports log and clock only, and exports snapshot and snapshot-stream', async () => {
    const component = await compiled;
    assert.deepEqual(
      { ...component.manifest, description: undefined },
      { kind: 'state-store', type: 'state.memory', version: 'v1', abi: ABI_VERSION, capabilities: ['log', 'clock'], description: undefined },
    );
    assert.deepEqual([...component.importedInterfaces].sort(), ['clock', 'log']);
    assert.deepEqual([...component.optionalExports], ['snapshot', 'snapshot-stream']);
    assert.equal(component.needsJspi, false);
    const fns = ['init', 'features', 'get', 'set', 'delete', 'bulk-get', 'bulk-set', 'bulk-delete', 'transact', 'ping'];
    const names = WebAssembly.Module.exports(component.module).map((e) => e.name);
    const stream = ['snapshot-chunk', 'restore-chunk', 'restore-end'].map((f) => SNAPSHOT_STREAM + f);
    for (const name of [...fns.map((f) => STATE + f), `${SNAPSHOT}snapshot`, `${SNAPSHOT}restore`, ...stream]) {
      assert.ok(names.includes(name), name);
      assert.ok(names.includes(`cabi_post_${name}`), `cabi_post_${name}`);
    }
    assert.ok(names.includes(`${SNAPSHOT_STREAM}snapshot-begin`), 'snapshot-begin (no result, no post-return)');
  });

  test('init logs the config keys at debug; features and ping answer', async () => {
    const lines: string[] = [];
    const { live, store } = await start(createLogger({ level: 'debug', json: true, write: (line) => lines.push(line) }));
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as { level: string; msg: string }).map(({ level, msg }) => ({ level, msg })),
      [{ level: 'debug', msg: 'state.memory initialised; config keys: [any]' }],
    );
    assert.deepEqual([...live.features], ['ETAG', 'TRANSACTIONAL', 'TTL']);
    await store.ping();
  });

  test('a snapshot restores into a fresh instance: values, ETags, TTLs and the ETag counter', async (t) => {
    const advance = fakeClock(t);
    const { live, store } = await start();
    await set(store, 'plain', 'p', { contentType: 'text/plain' });
    await set(store, 'ttl', 't', { metadata: [['ttlInSeconds', '10']] });
    await set(store, 'gone', 'g', { metadata: [['ttlInSeconds', '1']] });
    await set(store, 'bytes', '\u0000\u00ff');
    advance(1000);
    const snapshot = (await live.call('snapshot#snapshot', [])) as Uint8Array;
    assert.ok(snapshot instanceof Uint8Array);
    assert.equal(snapshot[0], 1, 'format version byte');

    const next = await start();
    assert.deepEqual(await next.live.call('snapshot#restore', [snapshot]), { tag: 'ok', val: undefined });
    assert.deepEqual(await get(next.store, 'plain'), { value: utf8('p'), etag: '1', contentType: 'text/plain', metadata: [] });
    assert.deepEqual(await get(next.store, 'ttl'), { value: utf8('t'), etag: '2', contentType: undefined, metadata: [['ttlExpireTime', '2026-11-26T07:30:00Z']] });
    assert.equal(await get(next.store, 'gone'), undefined, 'an item expired at snapshot time is left out');
    assert.deepEqual((await get(next.store, 'bytes'))?.value, utf8('\u0000\u00ff'));
    await set(next.store, 'after', 'a');
    assert.equal((await get(next.store, 'after'))?.etag, '5', 'ETags continue from the snapshot, never repeat');
    assert.deepEqual(await next.live.call('snapshot#snapshot', []), await next.live.call('snapshot#snapshot', []), 'snapshots are deterministic');
    advance(9000);
    assert.equal(await get(next.store, 'ttl'), undefined, 'a restored TTL still expires');
  });

  test('restore refuses a bad snapshot and keeps the data it has', async () => {
    const { live, store } = await start();
    await set(store, 'k', 'v');
    const good = (await live.call('snapshot#snapshot', [])) as Uint8Array;
    const restore = async (data: Uint8Array) => (await live.call('snapshot#restore', [data])) as WitResult<undefined>;
    const refusals = [
      [Uint8Array.of(), /it is empty \(not even a format version byte\)/],
      [Uint8Array.of(9, ...good.subarray(1)), /its format version is 9, and this version of state.memory reads format version 1 only/],
      [good.subarray(0, good.length - 1), new RegExp(`it ends inside its data \\(${good.length - 1} bytes; a read at byte ${good.length - 1} ran past the end\\)`)],
      [Uint8Array.of(...good, 0), /1 bytes follow its last item \(it holds 1 items\)/],
    ] as const;
    for (const [data, message] of refusals) {
      const result = await restore(data);
      assert.equal(result.tag, 'err');
      assert.equal(result.tag === 'err' && result.val.tag, 'invalid-argument');
      assert.match(result.tag === 'err' ? result.val.val : '', message);
      assert.match(result.tag === 'err' ? result.val.val : '', /^state.memory cannot restore this snapshot: /);
    }
    assert.equal(text((await get(store, 'k'))?.value), 'v');
    assert.deepEqual(await restore(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), { tag: 'ok', val: undefined });
    assert.equal(await get(store, 'k'), undefined, 'an empty snapshot empties the store');
    await set(store, 'k', 'again');
    assert.equal((await get(store, 'k'))?.etag, '2', 'a restore never lowers the ETag counter');
  });

  test('snapshots cross between the AssemblyScript and the Rust build, byte for byte', async (t) => {
    fakeClock(t);
    const assemblyScript = await CompiledComponent.compile(await readFile(join(ROOT, 'components-wasm', 'state-memory', 'state-memory.wasm')));
    const start = async (compiled: CompiledComponent) => {
      const live = await LiveComponent.start(compiled, { name: 'memory', config: new Map(), logger: silentLogger });
      return { live, store: adaptStateStore(live) };
    };
    const [as, rust] = [await start(assemblyScript), await start(await compiled)];
    // Keys in sorted order: the Rust build snapshots in key order, the AssemblyScript one in insertion order.
    for (const { store } of [as, rust]) {
      await set(store, 'a', 'plain', { contentType: 'text/plain' });
      await set(store, 'b✓', 'ttl', { metadata: [['ttlInSeconds', '10']] });
      await set(store, 'c', '\u0000');
      await set(store, 'b✓', 'ttl again', { metadata: [['ttlInSeconds', '10']] });
    }
    const fromAs = (await as.live.call('snapshot#snapshot', [])) as Uint8Array;
    assert.deepEqual(await rust.live.call('snapshot#snapshot', []), fromAs);
    for (const [from, to] of [[as, await start(await compiled)], [rust, await start(assemblyScript)]] as const) {
      assert.deepEqual(await to.live.call('snapshot#restore', [await from.live.call('snapshot#snapshot', [])]), { tag: 'ok', val: undefined });
      for (const key of ['a', 'b✓', 'c']) assert.deepEqual(await get(to.store, key), await get(from.store, key), key);
    }
  });

  test('a snapshot streamed in chunks joins to the whole snapshot, and restores chunk by chunk', async () => {
    const { live } = await start();
    const keys = Array.from({ length: 30 }, (_, i) => `app||k-${i}`);
    for (const [i, key] of keys.entries()) {
      const req = setRequest(key, 'v'.repeat(i * 13), i % 2 ? { contentType: 'text/plain' } : { metadata: [['ttlInSeconds', '60']] });
      assert.deepEqual(await live.call('set', [req]), { tag: 'ok', val: undefined });
    }
    const whole = (await live.call('snapshot#snapshot', [])) as Uint8Array;
    const before = await readAll(live, keys);
    for (const chunkBytes of [1, 100, 1 << 20]) {
      const chunks = await takeSnapshot(portOf(live), { chunkBytes });
      assert.deepEqual(joined(chunks), whole, `chunks of ${chunkBytes} bytes joined`);
      assert.equal(chunks.length, chunkBytes === 1 ? 31 : chunkBytes === 100 ? chunks.length : 1);
      const next = await start();
      await restoreSnapshot(portOf(next.live), chunks);
      assert.deepEqual(await readAll(next.live, keys), before);
    }
    const cut = await start();
    const chunks = await takeSnapshot(portOf(live), { chunkBytes: 100 });
    await assert.rejects(restoreSnapshot(portOf(cut.live), chunks.slice(0, -1)), /state\.memory cannot restore this snapshot: it ends inside its data/);
  });

  test('any other call ends a stream: the snapshot under way, or the restore', async () => {
    const old = (await start()).live;
    for (let i = 0; i < 10; i++) await old.call('set', [{ key: `k-${i}`, value: new Uint8Array(40), concurrency: 'last-write', consistency: 'eventual', metadata: [] }]);
    const fresh = (await start()).live;
    await streamEndsOnOtherCalls(old, fresh);
    assert.equal((await readAll(fresh, ['k-9']))[0]?.value.length, 40);
  });

  test('data at 90% of an 8 MiB memory limit (less its 1 MiB stack) survives snapshot and restore into a fresh instance', async () => {
    await fullStoreRoundTrip(await bytes, 8 * 1024 * 1024);
  });

  test('at 90% of an 8 MiB memory limit, a new generation takes the data, hibernates and wakes with it (LiveComponent)', async () => {
    await fullStoreAcrossGenerations(await bytes, 8 * 1024 * 1024);
  });

  test('memory stays flat across many calls: arguments and results are all freed', async () => {
    // Unmetered: this test is about memory, and only LiveComponent refuels a metered instance per call.
    const unmetered = await CompiledComponent.compile(await bytes, { cpuBudget: 0 });
    const instance = await instantiate(unmetered, { name: 'memory-rust', logger: silentLogger });
    const call = (fn: string, ...args: unknown[]) => instance.calls.get(fn)!(...args);
    assert.deepEqual(call('init', []), { tag: 'ok', val: undefined });
    const value = (i: number) => `${i}:`.padEnd(4000, String.fromCharCode(97 + (i % 26)));
    const write = (i: number) => call('set', setRequest(`k${i % 20}`, value(i), { metadata: [['a', `${i}`], ['b', 'c']], contentType: 'text/plain' }));
    for (let i = 0; i < 200; i++) write(i);
    const before = instance.memory.buffer.byteLength;
    for (let i = 200; i < 5200; i++) {
      assert.deepEqual(write(i), { tag: 'ok', val: undefined });
      const got = call('get', { key: `k${(i * 7) % 20}`, consistency: 'eventual', metadata: [['x', 'y']] }) as WitResult<GetResponse>;
      assert.equal(got.tag === 'ok' && got.val.value.length, 4000);
      call('bulk-get', [{ key: 'k1', consistency: 'eventual', metadata: [] }, { key: 'nope', consistency: 'eventual', metadata: [] }]);
      call('features');
    }
    assert.equal(instance.memory.buffer.byteLength, before, 'about 40 MB went through; none of it should stay');
  });
});

describe('state.memory in Rust, at the core-module level', () => {
  const raw = async (logs: { level: number; message: string }[] = []) => {
    const { instance } = await WebAssembly.instantiate(await bytes, {
      [`tessera:components/log@${ABI_VERSION}`]: {
        log: (level: number, ptr: number, len: number) =>
          logs.push({ level, message: new TextDecoder().decode(new Uint8Array(memory().buffer, ptr, len)) }),
      },
      [`tessera:components/clock@${ABI_VERSION}`]: { 'now-ms': () => BigInt(NOW) },
    });
    const memory = () => instance.exports.memory as WebAssembly.Memory;
    return instance.exports as Record<string, Function>;
  };

  test('cabi_realloc hands out aligned blocks, and zero-sized ones without allocating', async () => {
    const exports = await raw();
    const realloc = exports.cabi_realloc!;
    for (const align of [1, 2, 4, 8]) {
      const ptr = realloc(0, 0, align, 3) as number;
      assert.equal(ptr % align, 0);
      const grown = realloc(ptr, 3, align, 5000) as number;
      assert.equal(grown % align, 0);
      assert.equal(realloc(grown, 5000, align, 0), align);
    }
    assert.equal(realloc(0, 0, 4, 0), 4);
  });

  test('a bad discriminant traps, and the panic message reaches the log at error level', async () => {
    const logs: { level: number; message: string }[] = [];
    const exports = await raw(logs);
    const ret = exports[`${STATE}init`]!(1, 0) as number;
    exports[`cabi_post_${STATE}init`]!(ret);
    const key = exports.cabi_realloc!(0, 0, 1, 1) as number;
    assert.throws(() => exports[`${STATE}get`]!(key, 1, 7, 1, 0), WebAssembly.RuntimeError);
    assert.match(logs.at(-1)?.message ?? '', /canonical ABI: discriminant 7 out of range for consistency/);
    assert.equal(logs.at(-1)?.level, 4);
  });

  test("jco embed + jco new accept it as the snapshotting-state-store world, and jco's own lifting agrees", async () => {
    const witDir = join(ROOT, 'abi', 'wit');
    let wit = `package tessera:components@${ABI_VERSION};\n`;
    for (const file of (await readdir(witDir)).sort()) wit += (await readFile(join(witDir, file), 'utf8')).replace(/^package .*;$/m, '');
    const component = await componentNew(await componentEmbed({ binary: await bytes, witSource: wit, world: 'snapshotting-state-store', stringEncoding: 'utf8' }));
    const { files } = await transpile(component, { name: 'memory', instantiation: 'async', noTypescript: true });
    const dir = await tempDir('tessera-jco-');
    try {
      for (const [name, content] of Object.entries(files)) {
        await mkdir(dirname(join(dir.path, name)), { recursive: true });
        await writeFile(join(dir.path, name), content);
      }
      const { instantiate: jcoInstantiate } = await import(pathToFileURL(join(dir.path, 'memory.js')).href);
      const { state, snapshot } = await jcoInstantiate((path: string) => readFile(join(dir.path, path)).then((b) => WebAssembly.compile(b)), {
        'tessera:components/log': { log() {} },
        'tessera:components/clock': { nowMs: () => BigInt(NOW), monotonicNs: () => 0n },
        'tessera:components/types': {},
      });
      state.init([]);
      const base = { consistency: 'eventual', metadata: [] };
      state.set({ ...base, key: 'k', value: Uint8Array.of(1, 2), contentType: 'a/b', concurrency: 'last-write', metadata: [['ttlInSeconds', '10']] });
      assert.deepEqual(state.get({ ...base, key: 'k' }), { value: Uint8Array.of(1, 2), etag: '1', contentType: 'a/b', metadata: [['ttlExpireTime', '2026-11-26T07:30:00Z']] });
      assert.throws(() => state.delete({ ...base, key: 'k', etag: '5', concurrency: 'first-write' }), (e: { payload?: { tag?: string } }) => e.payload?.tag === 'etag-mismatch');
      const data = snapshot.snapshot();
      state.transact([{ tag: 'delete', val: { ...base, key: 'k', etag: '1', concurrency: 'last-write' } }], []);
      assert.deepEqual(state.bulkGet([{ ...base, key: 'k' }]), [{ key: 'k', response: undefined, error: undefined }]);
      snapshot.restore(data);
      assert.equal(state.get({ ...base, key: 'k' })?.etag, '1');
    } finally {
      await dir.remove();
    }
  });
});

/** Copies the component and the SDK into a fresh folder, same layout, no build output. */
async function copySources(to: string): Promise<string> {
  const noTarget = (path: string) => !/[/\\]target$/.test(path);
  await cp(join(ROOT, 'sdk', 'rust'), join(to, 'sdk', 'rust'), { recursive: true, filter: noTarget });
  await cp(COMPONENT_DIR, join(to, 'components-wasm', 'state-memory-rust'), { recursive: true, filter: noTarget });
  return join(to, 'components-wasm', 'state-memory-rust');
}

/** A component that calls every host interface through the SDK's wrappers. */
const PROBE = `
use tessera_sdk::{clock, log, random, sleep, DeleteRequest, GetRequest, GetResponse, Metadata, SetRequest, StateError, StateStore};

#[derive(Default)]
struct Probe;

impl StateStore for Probe {
    fn get(&mut self, req: GetRequest) -> Result<Option<GetResponse>, StateError> {
        let before = clock::monotonic_ns();
        sleep::ms(5);
        let slept = clock::monotonic_ns() - before >= 5_000_000;
        log::warn(&format!("probed {}", req.key));
        let metadata: Metadata = [("now", clock::now_ms().to_string())].into_iter().collect();
        Ok(Some(GetResponse { value: random::bytes(16), etag: slept.then(|| "slept".into()), content_type: None, metadata }))
    }

    fn set(&mut self, _: SetRequest) -> Result<(), StateError> {
        Ok(())
    }

    fn delete(&mut self, _: DeleteRequest) -> Result<(), StateError> {
        Ok(())
    }
}

tessera_sdk::export_state_store! {
    store: Probe,
    type: "state.probe",
    version: "v1alpha1",
    capabilities: [sleep, random, clock, log],
}
`;

describe('the Rust component builder', () => {
  test('a rebuild from a copy of the sources in another folder is byte-identical to the committed .wasm', needs('rust'), async () => {
    const dir = await tempDir('tessera-rust-rebuild-');
    try {
      const out = join(dir.path, 'rebuilt.wasm');
      await buildRustComponent(await copySources(dir.path), out);
      const [rebuilt, committed] = [await readFile(out), await bytes];
      assert.equal(rebuilt.length, committed.length, 'size');
      assert.ok(rebuilt.equals(committed), 'the committed state-memory-rust.wasm is not what its sources build: rebuild it');
    } finally {
      await dir.remove();
    }
  });

  test("builds the README's example and a probe of every host interface; refuses capabilities that differ from the imports", needs('rust'), async () => {
    const readme = await readFile(join(ROOT, 'sdk', 'rust', 'README.md'), 'utf8');
    const [source, manifest] = [/```rust\n([\s\S]*?)```/.exec(readme)?.[1], /```toml\n([\s\S]*?)```/.exec(readme)?.[1]];
    assert.ok(source && manifest, 'README.md has a ```rust and a ```toml block');
    const dir = await tempDir('tessera-rust-kv-');
    try {
      await cp(join(ROOT, 'sdk', 'rust'), join(dir.path, 'sdk', 'rust'), { recursive: true, filter: (p) => !/[/\\]target$/.test(p) });
      const crate = join(dir.path, 'components-wasm', 'state-kv');
      await mkdir(join(crate, 'src'), { recursive: true });
      await writeFile(join(crate, 'Cargo.toml'), manifest);
      await writeFile(join(crate, 'src', 'lib.rs'), source);
      const out = join(crate, 'state-kv.wasm');
      await buildRustComponent(crate, out);

      const kv = await CompiledComponent.compile(await readFile(out));
      assert.deepEqual(kv.manifest, { kind: 'state-store', type: 'state.kv', version: 'v1', abi: ABI_VERSION, capabilities: ['log'], description: 'A plain in-memory key/value store.' });
      const store = adaptStateStore(await LiveComponent.start(kv, { name: 'kv', config: new Map(), logger: silentLogger }));
      await set(store, 'k', 'v');
      assert.equal(text((await get(store, 'k'))?.value), 'v');
      assert.equal(await errorOf(set(store, '', 'v')), 'invalid-argument');
      await assert.rejects(store.transact([], []), /does not support transactions/);

      await writeFile(join(crate, 'src', 'lib.rs'), source.replace('capabilities: [log]', 'capabilities: [log, random]'));
      await assert.rejects(buildRustComponent(crate, out), /lists capabilities \[random\] the module never imports/);
      await writeFile(join(crate, 'src', 'lib.rs'), source.replace('capabilities: [log]', 'capabilities: []'));
      await assert.rejects(buildRustComponent(crate, out), /needs capability "log", which the manifest does not request/);
      await writeFile(join(crate, 'src', 'lib.rs'), source.replace('capabilities: [log]', 'capabilities: [log, net]'));
      await assert.rejects(buildRustComponent(crate, out), /a capability is not one of log, clock, random, sleep/);

      await writeFile(join(crate, 'src', 'lib.rs'), PROBE);
      await buildRustComponent(crate, out);
      const probe = await CompiledComponent.compile(await readFile(out));
      assert.deepEqual(probe.manifest.capabilities, ['log', 'clock', 'random', 'sleep'], 'written in the schema\'s order');
      assert.equal(probe.needsJspi, true, 'sleep suspends');
      const lines: string[] = [];
      const logger = createLogger({ level: 'debug', json: true, write: (line) => lines.push(line) });
      const probed = await get(adaptStateStore(await LiveComponent.start(probe, { name: 'probe', config: new Map(), logger })), 'hello');
      assert.equal(probed?.value.length, 16);
      assert.equal(probed?.etag, 'slept');
      assert.ok(Math.abs(Number(probed?.metadata[0]?.[1]) - Date.now()) < 10_000, JSON.stringify(probed?.metadata));
      assert.ok(lines.some((l) => JSON.parse(l).level === 'warn' && JSON.parse(l).msg === 'probed hello'), lines.join('\n'));
    } finally {
      await dir.remove();
    }
  });

  /**
   * Stand-ins that run, so these tests need no toolchain: a rustc whose sysroot has the wasm32
   * standard library when `withStd`, and a cargo that answers `metadata` with the copied crate
   * and `build` with the committed .wasm as its artifact.
   */
  async function fakeToolchain(dir: string, crate: string, withStd: boolean): Promise<{ cargo: string; rustc: string }> {
    const [cargo, rustc, sysroot] = [join(dir, 'cargo'), join(dir, 'rustc'), join(dir, 'sysroot')];
    if (withStd) await mkdir(join(sysroot, 'lib', 'rustlib', 'wasm32-unknown-unknown', 'lib'), { recursive: true });
    await writeFile(rustc, `#!/bin/sh\ncase "$1" in --version) echo "rustc 1.99.0 (fake)" ;; *) echo ${sysroot} ;; esac\n`, { mode: 0o755 });
    const metadata = JSON.stringify({ packages: [{ source: null, manifest_path: join(crate, 'Cargo.toml') }] });
    const artifact = JSON.stringify({ reason: 'compiler-artifact', target: { kind: ['cdylib'] }, filenames: [WASM] });
    await writeFile(cargo, `#!/bin/sh\ncase "$1" in metadata) echo '${metadata}' ;; build) echo '${artifact}' ;; *) exit 1 ;; esac\n`, { mode: 0o755 });
    return { cargo, rustc };
  }

  test("without Debian's toolchain, nor a cargo on PATH that can build for wasm32, it fails with the apt-get line to run", async () => {
    const install = /apt-get install rustc cargo libstd-rust-dev-wasm32`$/;
    const dir = await tempDir('tessera-rustc-');
    try {
      const { cargo, rustc } = await fakeToolchain(dir.path, COMPONENT_DIR, false);
      const build = (debian: { cargo: string; rustc: string }, searchPath = '') => buildRustComponent(COMPONENT_DIR, '/nonexistent.wasm', { debian, searchPath });
      await assert.rejects(build({ cargo: '/nonexistent/cargo', rustc }), install);
      await assert.rejects(build({ cargo, rustc: '/nonexistent/rustc' }), install);
      await assert.rejects(build({ cargo, rustc }), (err: Error) => /no wasm32-unknown-unknown standard library/.test(err.message) && install.test(err.message));
      // A cargo on PATH (rustup's) whose rustc lacks the wasm32 target: the rustup line too.
      await assert.rejects(
        build({ cargo: '/nonexistent/cargo', rustc: '/nonexistent/rustc' }, dir.path),
        (err: Error) => /\/nonexistent\/cargo is missing \(.*rustc has no wasm32-unknown-unknown standard library .*with rustup, `rustup target add wasm32-unknown-unknown` adds it\)/.test(err.message) && install.test(err.message),
      );
    } finally {
      await dir.remove();
    }
  });

  test("without Debian's toolchain, a cargo on PATH with the wasm32 target builds it, warning that it is not the reproducible build", async () => {
    const dir = await tempDir('tessera-rustup-');
    try {
      const crate = await copySources(join(dir.path, 'src'));
      const bin = join(dir.path, 'bin');
      await mkdir(bin);
      const { cargo } = await fakeToolchain(bin, crate, true);
      const warnings: string[] = [];
      const out = join(dir.path, 'built.wasm');
      const built = await buildRustComponent(crate, out, {
        debian: { cargo: '/nonexistent/cargo', rustc: '/nonexistent/rustc' },
        searchPath: ['/nonexistent/bin', bin].join(':'),
        warn: (message) => warnings.push(message),
      });
      assert.ok(Buffer.from(built).equals(await bytes), 'the artifact cargo reported');
      assert.ok((await readFile(out)).equals(await bytes), 'written to the out file');
      assert.deepEqual(warnings, [
        `built with ${cargo} (rustc 1.99.0 (fake)), not Debian's /usr/bin/cargo: this is not the reproducible Debian build, so its bytes may differ from the committed .wasm and from other machines`,
      ]);
    } finally {
      await dir.remove();
    }
  });
});

conformanceTests('state-memory-rust.wasm', async () => ({ bytes: new Uint8Array(await readFile(WASM)), source: 'state-memory-rust.wasm' }));
stateMemoryBehaviour('state-memory-rust.wasm', compiled);
