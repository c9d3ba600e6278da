// Drives the built state.memory module directly: plain WebAssembly.instantiate, a stub host,
// and params written and results read by hand per the layouts in abi/ABI.md (its exports, its
// allocator, its memory); then once more as a Component Model component through jco, whose
// glue reads the Canonical ABI on its own. Its behaviour through the host is the conformance
// kit's and state.memory's own (test/support/state-memory-behaviour.ts).
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import assert from 'node:assert/strict';
import { componentEmbed, componentNew, transpile } from '@bytecodealliance/jco';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { conformanceTests } from '../support/conformance.ts';
import { stateMemoryBehaviour } from '../support/state-memory-behaviour.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WASM = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);
const STATE = `tessera:components/state@${ABI_VERSION}#`;

const ERROR_CASES = ['etag-mismatch', 'etag-invalid', 'not-found', 'invalid-argument', 'unavailable', 'internal'] as const;
type ErrorCase = (typeof ERROR_CASES)[number];
type UnitResult = { ok: true } | { ok: false; error: ErrorCase; message: string };

interface GetResponse {
  value: string;
  etag: string | undefined;
  contentType: string | undefined;
  metadata: [string, string][];
}
interface SetRequest {
  key: string;
  value: string;
  etag?: string;
  contentType?: string;
  firstWrite?: boolean;
  metadata?: [string, string][];
}
type GuestExports = Record<string, Function> & { memory: WebAssembly.Memory };

const compiled = readFile(WASM).then((bytes) => WebAssembly.compile(bytes));

/** One instance of the module with a stub host: a settable clock and a captured log. */
class Guest {
  nowMs = Date.UTC(2026, 10, 26, 7, 29, 50);
  readonly logs: { level: number; message: string }[] = [];
  #exports!: GuestExports;

  static async start(): Promise<Guest> {
    const guest = new Guest();
    const instance = await WebAssembly.instantiate(await compiled, {
      [`tessera:components/log@${ABI_VERSION}`]: {
        log: (level: number, ptr: number, len: number) => guest.logs.push({ level, message: guest.text(ptr, len) }),
      },
      [`tessera:components/clock@${ABI_VERSION}`]: { 'now-ms': () => BigInt(guest.nowMs) },
    });
    guest.#exports = instance.exports as GuestExports;
    guest.#exports._initialize!();
    return guest;
  }

  get view(): DataView {
    return new DataView(this.#exports.memory.buffer);
  }

  // ---- lowering params: every string and list in its own cabi_realloc block, as the spec does

  alloc(size: number, align: number): number {
    return this.#exports.cabi_realloc!(0, 0, align, size) as number;
  }

  bytes(data: Uint8Array): [number, number] {
    // An empty list gets pointer 1 without an allocation, as jco passes it.
    if (data.length === 0) return [1, 0];
    const ptr = this.alloc(data.length, 1);
    new Uint8Array(this.#exports.memory.buffer, ptr, data.length).set(data);
    return [ptr, data.length];
  }

  string(s: string): [number, number] {
    return this.bytes(new TextEncoder().encode(s));
  }

  optionString(s: string | undefined): [number, number, number] {
    return s === undefined ? [0, 0, 0] : [1, ...this.string(s)];
  }

  /** metadata = list<tuple<string, string>>: 16-byte elements, key at 0, value at 8. */
  metadata(pairs: [string, string][] = []): [number, number] {
    if (pairs.length === 0) return [1, 0];
    const ptr = this.alloc(16 * pairs.length, 4);
    pairs.forEach(([k, v], i) => this.storeAll(ptr + 16 * i, [...this.string(k), ...this.string(v)]));
    return [ptr, pairs.length];
  }

  storeAll(at: number, words: number[]): void {
    words.forEach((w, i) => this.view.setUint32(at + 4 * i, w, true));
  }

  // ---- lifting results from the return area

  text(ptr: number, len: number): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(this.#exports.memory.buffer, ptr, len));
  }

  u32(at: number): number {
    return this.view.getUint32(at, true);
  }

  liftString(at: number): string {
    return this.text(this.u32(at), this.u32(at + 4));
  }

  liftOptionString(at: number): string | undefined {
    return this.view.getUint8(at) === 1 ? this.liftString(at + 4) : undefined;
  }

  liftMetadata(at: number): [string, string][] {
    const ptr = this.u32(at);
    return Array.from({ length: this.u32(at + 4) }, (_, i) => [this.liftString(ptr + 16 * i), this.liftString(ptr + 16 * i + 8)]);
  }

  /** error, size 12: case u8 at 0, message at 4. */
  liftError(at: number): { ok: false; error: ErrorCase; message: string } {
    const error = ERROR_CASES[this.view.getUint8(at)];
    assert.ok(error, `error discriminant ${this.view.getUint8(at)}`);
    return { ok: false, error, message: this.liftString(at + 4) };
  }

  /** result<_, error>, size 16: discriminant u8 at 0, error at 4. */
  liftUnitResult(ret: number): UnitResult {
    return this.view.getUint8(ret) === 0 ? { ok: true } : this.liftError(ret + 4);
  }

  /** option<get-response>, size 44: discriminant u8 at 0; get-response (value 0, etag 8, content-type 20, metadata 32) at 4. */
  liftOptionGetResponse(at: number): GetResponse | undefined {
    if (this.view.getUint8(at) === 0) return undefined;
    const r = at + 4;
    const value = new TextDecoder().decode(new Uint8Array(this.#exports.memory.buffer, this.u32(r), this.u32(r + 4)));
    return { value, etag: this.liftOptionString(r + 8), contentType: this.liftOptionString(r + 20), metadata: this.liftMetadata(r + 32) };
  }

  // ---- calls: the export returns a pointer to its return area; post-return follows the read

  call<T>(name: string, args: number[], lift: (ret: number) => T): T {
    const ret = this.#exports[STATE + name]!(...args) as number;
    try {
      return lift(ret);
    } finally {
      this.#exports[`cabi_post_${STATE}${name}`]!(ret);
    }
  }

  init(config: [string, string][]): UnitResult {
    return this.call('init', this.metadata(config), (ret) => this.liftUnitResult(ret));
  }

  features(): string[] {
    return this.call('features', [], (ret) => Array.from({ length: this.u32(ret + 4) }, (_, i) => this.liftString(this.u32(ret) + 8 * i)));
  }

  /** get's request arrives flat: key, consistency, metadata. Result: 48 bytes, option<get-response> or error at 4. */
  get(key: string): GetResponse | undefined {
    return this.call('get', [...this.string(key), 0, ...this.metadata()], (ret) => {
      const result = this.view.getUint8(ret) === 0 ? this.liftOptionGetResponse(ret + 4) : this.liftError(ret + 4);
      assert.ok(!(result && 'ok' in result), `get ${key} failed: ${JSON.stringify(result)}`);
      return result as GetResponse | undefined;
    });
  }

  /** set's request arrives flat: 14 values. */
  set(req: SetRequest): UnitResult {
    const args = [
      ...this.string(req.key), ...this.bytes(new TextEncoder().encode(req.value)), ...this.optionString(req.etag),
      ...this.optionString(req.contentType), req.firstWrite ? 1 : 0, 0, ...this.metadata(req.metadata),
    ];
    assert.equal(args.length, 14);
    return this.call('set', args, (ret) => this.liftUnitResult(ret));
  }

  ping(): UnitResult {
    return this.call('ping', [], (ret) => this.liftUnitResult(ret));
  }

  raw(name: string): Function {
    return this.#exports[name]!;
  }
}

async function initialised(): Promise<Guest> {
  const guest = await Guest.start();
  assert.deepEqual(guest.init([['any', 'thing']]), { ok: true });
  return guest;
}

describe('state.memory (built .wasm, canonical ABI by hand)', () => {
  test('exports exactly the canonical names and carries its manifest', async () => {
    const module = await compiled;
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    const fns = ['init', 'features', 'get', 'set', 'delete', 'bulk-get', 'bulk-set', 'bulk-delete', 'transact', 'ping'].map((f) => STATE + f);
    fns.push(...['snapshot', 'restore'].map((f) => `tessera:components/snapshot@${ABI_VERSION}#${f}`));
    fns.push(...['snapshot-chunk', 'restore-chunk', 'restore-end'].map((f) => `tessera:components/snapshot-stream@${ABI_VERSION}#${f}`));
    fns.push(`tessera:components/query@${ABI_VERSION}#query`);
    // snapshot-begin returns nothing, so it has no post-return.
    const begin = `tessera:components/snapshot-stream@${ABI_VERSION}#snapshot-begin`;
    assert.deepEqual(exports.sort(), ['_initialize', 'cabi_realloc', 'memory', begin, ...fns, ...fns.map((f) => `cabi_post_${f}`)].sort());
    assert.deepEqual(
      WebAssembly.Module.imports(module).map((i) => `${i.module} ${i.name}`).sort(),
      [`tessera:components/clock@${ABI_VERSION} now-ms`, `tessera:components/log@${ABI_VERSION} log`],
    );
    const [section] = WebAssembly.Module.customSections(module, 'tessera:manifest');
    assert.ok(section);
    const manifest = JSON.parse(new TextDecoder().decode(section));
    assert.deepEqual(
      { ...manifest, description: undefined },
      { kind: 'state-store', type: 'state.memory', version: 'v1', abi: ABI_VERSION, capabilities: ['log', 'clock'], description: undefined },
    );
  });

  test('init accepts any config and logs its keys at debug; features and ping answer', async () => {
    const guest = await initialised();
    assert.deepEqual(guest.logs, [{ level: 1, message: 'state.memory initialised; config keys: [any]' }]);
    assert.deepEqual(guest.features(), ['ETAG', 'TRANSACTIONAL', 'TTL']);
    assert.deepEqual(guest.ping(), { ok: true });
  });

  test('expired items nobody reads again are purged on later writes', async () => {
    const guest = await initialised();
    for (let i = 0; i < 200; i++) guest.set({ key: `s${i}`, value: 'x'.repeat(1000), metadata: [['ttlInSeconds', '1']] });
    const pages = guest.raw('memory') as unknown as WebAssembly.Memory;
    const before = pages.buffer.byteLength;
    // Each round writes 200 KB that expires a second later: 20 MB in all, which would stay
    // without purging. Garbage the incremental GC has yet to reach accounts for the slack.
    for (let round = 0; round < 100; round++) {
      guest.nowMs += 2000;
      for (let i = 0; i < 200; i++) guest.set({ key: `r${round}-${i}`, value: 'x'.repeat(1000), metadata: [['ttlInSeconds', '1']] });
    }
    assert.ok(pages.buffer.byteLength <= before + 4 * 1024 * 1024, `memory grew from ${before} to ${pages.buffer.byteLength} bytes`);
  });

  test('cabi_realloc hands out aligned blocks, and zero-sized ones without allocating', async () => {
    const guest = await Guest.start();
    const realloc = guest.raw('cabi_realloc');
    for (const align of [1, 2, 4, 8]) {
      const ptr = realloc(0, 0, align, 3) as number;
      assert.equal(ptr % align, 0);
      const grown = realloc(ptr, 3, align, 5000) as number;
      assert.equal(grown % align, 0);
      assert.equal(realloc(grown, 5000, align, 0), align);
    }
    assert.equal(realloc(0, 0, 4, 0), 4);
  });

  test('memory stays flat across many calls, and the GC keeps every live value intact', async () => {
    const guest = await initialised();
    const memory = guest.raw('memory') as unknown as WebAssembly.Memory;
    const value = (i: number) => `${i}:`.padEnd(4000, String.fromCharCode(97 + (i % 26)));
    const write = (i: number) => guest.set({ key: `k${i % 20}`, value: value(i), metadata: [['a', `${i}`], ['b', 'c']] });
    for (let i = 0; i < 200; i++) write(i);
    const before = memory.buffer.byteLength;
    for (let i = 200; i < 5200; i++) {
      assert.deepEqual(write(i), { ok: true });
      assert.equal(guest.get(`k${(i * 7) % 20}`)?.value.length, 4000);
    }
    assert.equal(memory.buffer.byteLength, before, 'about 40 MB went through; none of it should stay');
    for (let k = 0; k < 20; k++) assert.equal(guest.get(`k${k}`)?.value, value(5180 + k), `k${k} survived the collections`);
  });

  test('a bad discriminant traps, and the reason reaches the log', async () => {
    const guest = await initialised();
    assert.throws(() => guest.raw(`${STATE}get`)(...guest.string('k'), 7, 1, 0), WebAssembly.RuntimeError);
    assert.match(guest.logs.at(-1)?.message ?? '', /discriminant 7 out of range for consistency/);
    assert.equal(guest.logs.at(-1)?.level, 4);
  });

  test('jco embed + jco new accept it as the snapshotting-state-store world, and jco\'s own lifting agrees', async () => {
    // wit-component checks every core signature against the WIT; jco's generated glue then
    // lifts and lowers by its own reading of the Canonical ABI.
    const witDir = join(ROOT, 'abi', 'wit');
    let wit = `package tessera:components@${ABI_VERSION};\n`;
    for (const file of (await readdir(witDir)).sort()) wit += (await readFile(join(witDir, file), 'utf8')).replace(/^package .*;$/m, '');
    const core = await readFile(WASM);
    const component = await componentNew(await componentEmbed({ binary: core, witSource: wit, world: 'snapshotting-state-store', stringEncoding: 'utf8' }));
    const { files } = await transpile(component, { name: 'memory', instantiation: 'async', noTypescript: true });
    const dir = await mkdtemp(join(tmpdir(), 'tessera-jco-'));
    try {
      for (const [name, bytes] of Object.entries(files)) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), bytes);
      }
      const { instantiate } = await import(pathToFileURL(join(dir, 'memory.js')).href);
      const { state, snapshot } = await instantiate((path: string) => readFile(join(dir, path)).then((b) => WebAssembly.compile(b)), {
        'tessera:components/log': { log() {} },
        'tessera:components/clock': { nowMs: () => BigInt(Date.UTC(2026, 10, 26, 7, 29, 50)), monotonicNs: () => 0n },
        'tessera:components/types': {},
      });
      state.init([]);
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
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

conformanceTests('state-memory.wasm', async () => ({ bytes: new Uint8Array(await readFile(WASM)), source: 'state-memory.wasm' }));
stateMemoryBehaviour('state-memory.wasm', readFile(WASM).then((bytes) => CompiledComponent.compile(new Uint8Array(bytes), { source: 'state-memory.wasm' })));
