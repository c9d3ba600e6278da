// The Component Model path (host/sandbox/component-model.ts): a component loads through
// CompiledComponent.compile and runs through LiveComponent like a core module. The Rust
// state.memory as a core module and wrapped as a component (jco embed + jco new) give
// identical results for the same behaviours; state.memory written in JavaScript
// (componentize-js) gives them too. Plus the sandbox's guarantees on the component path:
// manifest, import allow-list (WASI refused), types against the WIT, memory cap, CPU
// metering, traps, JSPI.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { ABI_VERSION, MANIFEST_SECTION } from '../../../abi/ts/manifest.ts';
import { isTesseraError, type TesseraError } from '../../../host/errors.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { abiContract } from '../../../host/sandbox/abi-contract.ts';
import { appendComponentCustomSection, readComponentShape } from '../../../host/sandbox/component-binary.ts';
import type { ComponentModelCode } from '../../../host/sandbox/component-model.ts';
import { witSource } from '../../../host/sandbox/wit-source.ts';
import { CompiledComponent, type CompileOptions } from '../../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../../host/sandbox/live-component.ts';
import { adaptStateStore } from '../../../host/sandbox/kinds/state-store-adapter.ts';
import { wrapAsComponent } from '../../../host/toolchain/wrap-component.ts';
import { SKELETON_MANIFEST, hostImportWat, stateStoreModule, type SkeletonModuleOptions } from '../../support/state-store-wat.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const RUST_CORE = `${ROOT}components-wasm/state-memory-rust/state-memory-rust.wasm`;
const RUST_COMPONENT = `${ROOT}components-wasm/state-memory-rust/state-memory-rust.component.wasm`;
const JS_COMPONENT = `${ROOT}components-wasm/state-memory-js/state-memory-js.wasm`;
/** 10 s before 2026-11-26T07:30:00Z, the ttlExpireTime of a 10-second TTL set now. */
const NOW = Date.UTC(2026, 10, 26, 7, 29, 50);

const compile = async (bytes: Uint8Array | Promise<Uint8Array>, options: CompileOptions = {}): Promise<CompiledComponent> =>
  CompiledComponent.compile(await bytes, { source: 'test.wasm', ...options });
const rustCore = compile(readFile(RUST_CORE));
const rustComponent = compile(readFile(RUST_COMPONENT));
/** A JavaScript engine inside: its start-up and calls take far more fuel than the default budget (README, "Sandbox and limits"). */
const jsComponent = compile(readFile(JS_COMPONENT), { cpuBudget: 200_000_000 });

const start = (compiled: CompiledComponent, name = 'memory'): Promise<LiveComponent> =>
  LiveComponent.start(compiled, { name, config: new Map([['any', 'thing']]), logger: silentLogger });

/** A skeleton core module (test/support/state-store-wat.ts) wrapped as a component. */
const skeletonComponent = (options: SkeletonModuleOptions = {}): Promise<Uint8Array> => wrapAsComponent(stateStoreModule(options), 'state-store');

const manifestBytes = (manifest: object): Uint8Array => new TextEncoder().encode(JSON.stringify(manifest));

async function refusal(bytes: Uint8Array | Promise<Uint8Array>, options: CompileOptions = {}): Promise<string> {
  try {
    await compile(bytes, options);
  } catch (err) {
    assert.ok(isTesseraError(err), String(err));
    assert.equal(err.code, 'ERR_COMPONENT_LOAD');
    return err.message;
  }
  assert.fail('the component was accepted');
}

async function trapOf(call: Promise<unknown>): Promise<TesseraError> {
  try {
    await call;
  } catch (err) {
    assert.ok(isTesseraError(err), String(err));
    return err;
  }
  assert.fail('the call did not trap');
}

// ---- the behaviours, as a transcript of raw lifted results --------------------------------

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const getReq = (key: string) => ({ key, consistency: 'eventual', metadata: [] });
const setReq = (key: string, value: string, more: object = {}) => ({
  key,
  value: utf8(value),
  concurrency: 'last-write',
  consistency: 'eventual',
  metadata: [] as [string, string][],
  ...more,
});
const delReq = (key: string, more: object = {}) => ({ key, concurrency: 'last-write', consistency: 'eventual', metadata: [], ...more });

type Transcript = [string, unknown][];

/**
 * Drives one started store through set/get/ETag/first-write/TTL/bulk/transact and records
 * every raw result (`{ tag, val }` as lifted) or trap. `tick` moves the host clock.
 */
async function behaviours(live: LiveComponent, tick: (ms: number) => void): Promise<Transcript> {
  const out: Transcript = [];
  const step = async (label: string, fn: string, ...args: unknown[]): Promise<void> => {
    try {
      out.push([label, await live.call(fn, args)]);
    } catch (err) {
      out.push([label, { trap: (err as Error).message }]);
    }
  };
  out.push(['features', [...live.features].sort()]);
  await step('ping', 'ping');
  await step('get of a missing key', 'get', getReq('a'));
  await step('set', 'set', setReq('a', 'one', { contentType: 'text/plain' }));
  await step('get', 'get', getReq('a'));
  await step('set with the current ETag', 'set', setReq('a', 'two', { etag: '1' }));
  await step('set with a stale ETag', 'set', setReq('a', 'three', { etag: '1' }));
  await step('set with an invalid ETag', 'set', setReq('a', 'three', { etag: 'W/"x"' }));
  await step('set of a missing key with an ETag', 'set', setReq('b', 'x', { etag: '5' }));
  await step('first-write over an existing key', 'set', setReq('a', 'x', { concurrency: 'first-write' }));
  await step('first-write of a new key', 'set', setReq('c', 'new', { concurrency: 'first-write' }));
  await step('first-write with its ETag', 'set', setReq('c', 'newer', { concurrency: 'first-write', etag: '3' }));
  await step('get after writes', 'get', getReq('c'));
  await step('delete with a stale ETag', 'delete', delReq('a', { etag: '1' }));
  await step('delete with the ETag', 'delete', delReq('a', { etag: '2' }));
  await step('get of the deleted key', 'get', getReq('a'));
  await step('delete of a missing key', 'delete', delReq('zz'));
  await step('set with a TTL', 'set', setReq('t', 'ttl', { metadata: [['ttlInSeconds', '10']] }));
  await step('get with a TTL', 'get', getReq('t'));
  tick(9_999);
  await step('get just before expiry', 'get', getReq('t'));
  tick(1);
  await step('get at expiry', 'get', getReq('t'));
  await step('set with an invalid TTL', 'set', setReq('t', 'x', { metadata: [['ttlInSeconds', 'soon']] }));
  await step('set with TTL -1', 'set', setReq('t', 'forever', { metadata: [['ttlInSeconds', '-1']] }));
  await step('get with TTL -1', 'get', getReq('t'));
  await step('bulk-set', 'bulk-set', [setReq('x', 'X'), setReq('y', 'Y', { contentType: 'a/b' })]);
  await step('bulk-get', 'bulk-get', [getReq('x'), getReq('y'), getReq('nope')]);
  await step('bulk-set failing half way', 'bulk-set', [setReq('x', 'X2'), setReq('y', 'Y2', { etag: '99' }), setReq('w', 'W')]);
  await step('bulk-get after the failure', 'bulk-get', [getReq('x'), getReq('y'), getReq('w')]);
  await step('bulk-delete', 'bulk-delete', [delReq('x'), delReq('y')]);
  await step('bulk-get after bulk-delete', 'bulk-get', [getReq('x'), getReq('y')]);
  await step('transact that fails on its last operation', 'transact', [
    { tag: 'set', val: setReq('p', 'P') },
    { tag: 'delete', val: delReq('c', { etag: '1' }) },
  ], []);
  await step('get after the failed transaction', 'get', getReq('p'));
  await step('transact', 'transact', [
    { tag: 'set', val: setReq('p', 'P') },
    { tag: 'set', val: setReq('p', 'P2', { etag: '11' }) },
    { tag: 'delete', val: delReq('c', { etag: '4' }) },
    { tag: 'set', val: setReq('q', 'Q', { metadata: [['ttlInSeconds', '60']] }) },
  ], [['k', 'v']]);
  await step('bulk-get after the transaction', 'bulk-get', [getReq('p'), getReq('q'), getReq('c')]);
  return out;
}

/** Runs the behaviours on a fresh instance, the host clock (Date, mocked) starting at NOW. */
async function transcriptOf(t: TestContext, compiled: CompiledComponent): Promise<{ transcript: Transcript; live: LiveComponent }> {
  try {
    t.mock.timers.enable({ apis: ['Date'], now: NOW });
  } catch {
    t.mock.timers.setTime(NOW);
  }
  const live = await start(compiled);
  const transcript = await behaviours(live, (ms) => t.mock.timers.tick(ms));
  return { transcript, live };
}

describe('Component Model components', () => {
  test('the committed Rust component is what wrapping the committed core module gives (node components-wasm/state-memory-rust/build-component.ts)', async () => {
    const built = await wrapAsComponent(await readFile(RUST_CORE));
    assert.ok(Buffer.compare(await readFile(RUST_COMPONENT), built) === 0, 'stale: run node components-wasm/state-memory-rust/build-component.ts');
  });

  test('a component compiles to what its core module compiles to: manifest, capabilities, optional exports, no JSPI', async () => {
    const [core, component, js] = await Promise.all([rustCore, rustComponent, jsComponent]);
    assert.equal(core.code.format, 'core-module');
    assert.ok(component.code.format === 'component-model' && js.code.format === 'component-model');
    for (const c of [component, js]) {
      assert.deepEqual(c.importedInterfaces, new Set(['log', 'clock']));
      assert.equal(c.needsJspi, false);
      assert.equal(c.cpuBudget, c === js ? 200_000_000 : core.cpuBudget);
      assert.equal(c.memoryLimitBytes, core.memoryLimitBytes);
    }
    // The jco-wrapped module keeps its manifest inside; the JavaScript one carries it at the top.
    assert.deepEqual(component.manifest, core.manifest);
    assert.deepEqual(component.optionalExports, new Set(['snapshot', 'snapshot-stream']));
    assert.equal(readComponentShape(await readFile(RUST_COMPONENT)).customSections.some((s) => s.name === MANIFEST_SECTION), false);
    assert.equal(js.manifest.type, 'state.memory');
    assert.deepEqual(js.optionalExports, new Set());
    // No WASI anywhere: the JavaScript engine was built with every WASI feature off.
    assert.deepEqual(
      readComponentShape(await readFile(JS_COMPONENT)).imports.map((i) => i.name).sort(),
      ['clock', 'log', 'types'].map((i) => `tessera:components/${i}@${ABI_VERSION}`),
    );
  });

  test('the Rust store as a component gives the core module\'s results, value for value', async (t) => {
    const core = await transcriptOf(t, await rustCore);
    const component = await transcriptOf(t, await rustComponent);
    assert.deepStrictEqual(component.transcript, core.transcript);
    // Spot checks that the transcript is the behaviour, not agreement on garbage.
    const byLabel = new Map(core.transcript);
    assert.deepStrictEqual(byLabel.get('features'), ['ETAG', 'TRANSACTIONAL', 'TTL']);
    assert.deepStrictEqual(byLabel.get('get'), {
      tag: 'ok',
      val: { value: utf8('one'), etag: '1', contentType: 'text/plain', metadata: [] },
    });
    assert.deepStrictEqual(byLabel.get('get with a TTL'), {
      tag: 'ok',
      val: { value: utf8('ttl'), etag: '5', contentType: undefined, metadata: [['ttlExpireTime', '2026-11-26T07:30:00Z']] },
    });
    assert.deepStrictEqual(byLabel.get('get at expiry'), { tag: 'ok', val: undefined });
    assert.equal((byLabel.get('set with a stale ETag') as { val: { tag: string } }).val.tag, 'etag-mismatch');
    assert.equal((byLabel.get('set with an invalid ETag') as { val: { tag: string } }).val.tag, 'etag-invalid');
    assert.deepStrictEqual(byLabel.get('get after the failed transaction'), { tag: 'ok', val: undefined });
    assert.deepStrictEqual(byLabel.get('delete of a missing key'), { tag: 'ok', val: undefined });
    assert.ok(core.transcript.every(([, r]) => !(r as { trap?: string }).trap), 'no step trapped');

    // Snapshots: the same bytes from both forms, and each restores into the other.
    const [fromCore, fromComponent] = [await core.live.snapshot(), await component.live.snapshot()];
    assert.ok(fromCore !== undefined && Buffer.concat(fromCore).length > 10);
    assert.deepStrictEqual(fromComponent, fromCore);
    const crossed = await start(await rustComponent);
    await crossed.restore(fromCore);
    assert.deepStrictEqual(await crossed.call('get', [getReq('p')]), await core.live.call('get', [getReq('p')]));
    // Hibernation parks a snapshot; the next call wakes a fresh instance that restores it.
    await component.live.hibernate();
    assert.equal(component.live.idle, true);
    assert.deepStrictEqual(await component.live.call('bulk-get', [[getReq('p'), getReq('q')]]), await core.live.call('bulk-get', [[getReq('p'), getReq('q')]]));
  });

  test('state.memory in JavaScript (componentize-js) gives the same results', async (t) => {
    const core = await transcriptOf(t, await rustCore);
    const js = await transcriptOf(t, await jsComponent);
    assert.deepStrictEqual(js.transcript, core.transcript);
    assert.equal(js.live.supportsSnapshot, false);
    assert.equal(await js.live.snapshot(), undefined);
  });

  test('the StateStore binding works unchanged over both component forms', async () => {
    for (const compiled of [await rustComponent, await jsComponent]) {
      const store = adaptStateStore(await start(compiled));
      await store.set(setReq('k', 'v') as never);
      assert.equal(new TextDecoder().decode((await store.get(getReq('k') as never))?.value), 'v');
      await assert.rejects(store.set(setReq('k', 'w', { etag: '9' }) as never), (err: TesseraError) => err.componentError?.tag === 'etag-mismatch');
      assert.deepEqual(await store.bulkGet([getReq('k'), getReq('none')] as never), [
        { key: 'k', response: { value: utf8('v'), etag: '1', contentType: undefined, metadata: [] }, error: undefined },
        { key: 'none', response: undefined, error: undefined },
      ]);
    }
  });

  test('components whose glue is the same share it: a second compile, and a new build with the same interfaces', async () => {
    const bytes = await readFile(RUST_COMPONENT);
    const rebuilt = appendComponentCustomSection(bytes, 'build', utf8('2'));
    const [a, b, c] = [await rustComponent, await compile(bytes), await compile(rebuilt)];
    assert.equal(a.sha256, b.sha256);
    assert.notEqual(a.sha256, c.sha256);
    const glue = (compiled: CompiledComponent) => (compiled.code as ComponentModelCode).glue;
    assert.equal(glue(a), glue(b));
    assert.equal(glue(a), glue(c));
  });
});

describe('the sandbox on the Component Model path', () => {
  test('a WASI import is refused, naming it, before anything is transpiled', async () => {
    const component = await parse(`(component
      (import "wasi:filesystem/preopens@0.2.3" (instance (export "get-directories" (func))))
      (import "wasi:cli/environment@0.2.3" (instance))
    )`);
    const message = await refusal(appendComponentCustomSection(component, MANIFEST_SECTION, manifestBytes(SKELETON_MANIFEST)));
    assert.match(message, /import "wasi:filesystem\/preopens@0\.2\.3" is not offered by world "state-store" \(WASI is never granted/);
    assert.match(message, /import "wasi:cli\/environment@0\.2\.3"/);
    assert.match(message, /missing export "tessera:components\/state@0\.1\.3"/);
  });

  test('an import of a host interface the manifest does not request is refused, naming it', async () => {
    const message = await refusal(skeletonComponent({ imports: [hostImportWat('sleep', 'sleep-ms')], manifest: { capabilities: [] } }));
    assert.match(message, /import "tessera:components\/sleep@0\.1\.3" needs capability "sleep", which the manifest does not request/);
  });

  test('an import of another ABI version, or of something that is not an interface, is refused', async () => {
    const component = await parse(`(component
      (import "tessera:components/log@0.2.0" (instance))
      (import "run" (func))
    )`);
    const message = await refusal(appendComponentCustomSection(component, MANIFEST_SECTION, manifestBytes({ ...SKELETON_MANIFEST, capabilities: ['log'] })));
    assert.match(message, /import "tessera:components\/log@0\.2\.0" targets ABI 0\.2\.0 .* but its manifest says 0\.1\.3; this host supports 0\.1\.0, 0\.1\.1, 0\.1\.2, 0\.1\.3/);
    assert.match(message, /import "run" is a func/);
  });

  test('the manifest: nested in a core module, or at the top level (which wins); none or two at the top are refused', async () => {
    const wrapped = await readFile(RUST_COMPONENT);
    const restamped = appendComponentCustomSection(wrapped, MANIFEST_SECTION, manifestBytes({ ...SKELETON_MANIFEST, type: 'state.restamped', capabilities: ['log', 'clock'] }));
    assert.equal((await compile(restamped)).manifest.type, 'state.restamped');
    const twice = appendComponentCustomSection(restamped, MANIFEST_SECTION, manifestBytes(SKELETON_MANIFEST));
    assert.match(await refusal(twice), /2 top-level tessera:manifest sections/);
    assert.match(await refusal(skeletonComponent({ manifest: null })), /no tessera:manifest custom section, neither at the component's top level nor in its core modules/);
    assert.match(await refusal(appendComponentCustomSection(wrapped, MANIFEST_SECTION, manifestBytes({ ...SKELETON_MANIFEST, abi: '0.2.0' }))), /targets ABI 0\.2\.0/);
  });

  test('exports are checked against the WIT by type, not just by name', async () => {
    const { pkg } = abiContract();
    const wit = witSource(pkg).replaceAll('ping: func() -> result<_, error>;', 'ping: func(times: u32) -> result<_, error>;');
    assert.notEqual(wit, witSource(pkg));
    const core = stateStoreModule({ signatures: { ping: { params: ['i32'], results: ['i32'] } } });
    const component = await componentNew(await componentEmbed({ binary: core, witSource: wit, world: 'state-store', stringEncoding: 'utf8' }));
    const message = await refusal(component);
    assert.match(message, /export "tessera:components\/state@0\.1\.3" declares `export function ping\(times: number\): void;`, which the ABI does not/);
    assert.match(await refusal(parse('(component)').then((c) => appendComponentCustomSection(c, MANIFEST_SECTION, manifestBytes(SKELETON_MANIFEST)))), /missing export "tessera:components\/state@0\.1\.3"/);
  });

  test('a trap fails that call with ERR_COMPONENT_TRAP naming the component and function; the next call gets a fresh instance', async () => {
    const live = await start(await compile(skeletonComponent({ bodies: { get: 'unreachable' } })), 'skeleton');
    const err = await trapOf(live.call('get', [getReq('k')]));
    assert.equal(err.code, 'ERR_COMPONENT_TRAP');
    assert.match(err.message, /component "skeleton" \(state\.skeleton\) trapped in get: trap: unreachable/);
    assert.equal(live.idle, true);
    assert.deepStrictEqual(await live.call('ping', []), { tag: 'ok', val: undefined });
  });

  test('CPU metering: a runaway loop ends with the budget named; the fuel is reset before every call', async () => {
    const endless = await compile(skeletonComponent({ bodies: { ping: '(loop $forever (br $forever)) (i32.const 16)' } }), { cpuBudget: 1_000_000 });
    const err = await trapOf((await start(endless)).call('ping', []));
    assert.match(err.message, /trapped in ping: ran out of its CPU budget of 1000000 units/);

    // Each call spends about 25k of a 60k budget: five calls pass only if each starts full.
    const counted = await compile(
      skeletonComponent({
        fields: ['(global $n (mut i32) (i32.const 0))'],
        bodies: { ping: '(global.set $n (i32.const 5000)) (loop $l (global.set $n (i32.sub (global.get $n) (i32.const 1))) (br_if $l (global.get $n))) (i32.const 16)' },
      }),
      { cpuBudget: 60_000 },
    );
    const live = await start(counted);
    for (let i = 0; i < 5; i++) assert.deepStrictEqual(await live.call('ping', []), { tag: 'ok', val: undefined });
  });

  test('memory: every core module is capped, so growing past the limit fails inside the component, and the trap says so', async () => {
    const grow = skeletonComponent({ bodies: { ping: '(if (i32.eq (memory.grow (i32.const 8)) (i32.const -1)) (then unreachable)) (i32.const 16)' } });
    const roomy = await start(await compile(grow));
    assert.deepStrictEqual(await roomy.call('ping', []), { tag: 'ok', val: undefined });
    const capped = await start(await compile(grow, { memoryLimitBytes: 4 * 65536 }));
    assert.match(
      (await trapOf(capped.call('ping', []))).message,
      /trapped in ping: memory\.grow refused: the component reached its memory limit tessera\.dev\/memory-limit=256Ki \(it asked for 512Ki more with 64Ki in use\); trap: unreachable$/,
    );
    assert.match(await refusal(skeletonComponent({ memory: '16' }), { memoryLimitBytes: 4 * 65536 }), /memory starts at 16 pages .* over the limit of 4 pages/);
  });

  test('JSPI: a component importing sleep is called through promising and suspends without blocking the event loop', async () => {
    const compiled = await compile(
      skeletonComponent({
        imports: [hostImportWat('sleep', 'sleep-ms')],
        bodies: { ping: '(call 0 (i32.const 30)) (i32.const 16)' },
        manifest: { capabilities: ['sleep'] },
      }),
    );
    assert.equal(compiled.needsJspi, true);
    assert.deepEqual(compiled.importedInterfaces, new Set(['sleep']));
    const live = await start(compiled);
    let ticked = false;
    setTimeout(() => (ticked = true), 5);
    const began = performance.now();
    const pending = live.call('ping', []);
    assert.ok(pending instanceof Promise);
    assert.deepStrictEqual(await pending, { tag: 'ok', val: undefined });
    assert.ok(performance.now() - began >= 25, 'the call waited for its sleep');
    assert.equal(ticked, true, 'a timer fired while the component slept');
    assert.deepStrictEqual(await live.call('get', [getReq('k')]), { tag: 'ok', val: undefined });

    // Past its call timeout a suspended call fails, as a core module's does.
    const hurried = await LiveComponent.start(compiled, { name: 'sleepy', config: new Map(), logger: silentLogger, callTimeoutMs: 10 });
    assert.match((await trapOf(hurried.call('ping', []))).message, /ping did not finish within its call timeout of 10 ms/);
    assert.deepStrictEqual(await hurried.call('get', [getReq('k')]), { tag: 'ok', val: undefined });
  });

  test("an async host function's result::err reaches the component as the core path lowers it (tcp connect without a grant)", async () => {
    // ping hands connect's return area back as its own: result<u32, error> and result<_, error> share the layout.
    const core = stateStoreModule({
      imports: [`(import "tessera:components/tcp@${ABI_VERSION}" "connect" (func (param i32 i32 i32 i32 i32)))`],
      fields: ['(data (i32.const 512) "example.com")'],
      bodies: { ping: '(call 0 (i32.const 512) (i32.const 11) (i32.const 6379) (i32.const 100) (i32.const 16)) (i32.const 16)' },
      manifest: { capabilities: ['tcp'] },
    });
    const results = [];
    for (const bytes of [core, await wrapAsComponent(core, 'state-store')]) {
      const compiled = await compile(bytes);
      assert.equal(compiled.needsJspi, true);
      results.push(await (await start(compiled, 'tcp-probe')).call('ping', []));
    }
    assert.deepStrictEqual(results[1], results[0]);
    assert.match((results[0] as { val: { tag: string; val: string } }).val.val, /tcp\.connect is refused for component "tcp-probe": it has no tcp grant; grant it with the annotation tessera\.dev\/allow-tcp/);
  });
});
