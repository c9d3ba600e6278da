// The hostile corpus: modules a hostile or careless component author could drop into a
// resources folder, each named, with what it does and what a user must see. Most are the
// state-store skeleton (test/support/state-store-wat.ts) with one thing broken, so each
// gets past every check but the one it aims at; the rest are raw bytes.
//
// Modules that misbehave at call time do so only for the key TRIGGER_KEY, so the same
// function answers again for any other key once the host has rebuilt the instance. The
// module sees keys prefixed by the app id (`<app id>||<key>`), so it tells the keys apart
// by length: TRIGGER_LEN against BENIGN_KEY's.
//
// Nothing here starts a sidecar: test/hostile/hostile.test.ts drops each entry into a real
// one. An entry's `expect` is what a user must see; `harm` bounds what the call may cost
// the rest of the sidecar; `todo` marks a host weakness the entry exposes today.
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { concat, encodeU32, Reader, SECTION, sections } from '../../host/sandbox/wasm-binary.ts';
import {
  hostImportWat,
  SKELETON_MANIFEST,
  stateStoreModule,
  stateStoreWat,
  withManifest,
  type SkeletonModuleOptions,
} from '../support/state-store-wat.ts';
import { wat } from '../support/wat.ts';
/** The ABI version as a regular expression's text, for messages that name it. */
const ABI = ABI_VERSION.replaceAll('.', '\\.');

/** The app id the sidecar runs with; the module sees keys as `hostile||<key>`. */
export const HOSTILE_APP_ID = 'hostile';
/** The key that makes a module misbehave. */
export const TRIGGER_KEY = 'boom';
/** A key every module serves normally (`ok(none)`: 204 on a read). */
export const BENIGN_KEY = 'fine-key';
const TRIGGER_LEN = `${HOSTILE_APP_ID}||${TRIGGER_KEY}`.length;

/** Limits that keep a runaway call short (a sync loop blocks the event loop until its fuel is gone). */
export const TIGHT_LIMITS: Readonly<Record<string, string>> = { 'tessera.dev/cpu-budget': '20M', 'tessera.dev/memory-limit': '4Mi' };

/** The request that shows the misbehaviour; `get` and `save` use TRIGGER_KEY. */
export type HostileRequest = 'get' | 'save' | 'get-with-metadata';

export type Expectation =
  /** The file is refused: `/v1.0/metadata` reports it as failed, naming the file and each reason. */
  | { at: 'load'; reasons: RegExp[] }
  /**
   * The module loads, and `request` fails with HTTP 500 ERR_COMPONENT_TRAP naming the component
   * and the function (`fn`), with each reason. Then the same request with BENIGN_KEY succeeds
   * (the instance was rebuilt), unless `crashLoopAfter` traps put the component in a crash loop:
   * then the next call fails fast with 503 ERR_COMPONENT_UNHEALTHY.
   */
  | { at: 'call'; request: HostileRequest; fn: string; reasons: RegExp[]; crashLoopAfter?: number }
  /** The module loads and `request` is answered with `status`; `body` checks what came back. */
  | {
      at: 'answer';
      request: HostileRequest;
      status: number;
      body?: (bytes: Uint8Array) => void;
      headers?: (headers: Headers) => void;
      logs?: (messages: string[]) => void;
    };

/** What the misbehaving call may cost everyone else. */
export interface Harm {
  /**
   * The call must be answered within this many ms (its CPU budget is meant to bound it). Wall
   * time, seen by the client: on a loaded 2-core CI machine it includes scheduling, so a bound
   * sits well above the CPU the budget allows, and far below the seconds an unbounded call runs.
   */
  wallMs?: number;
  /** At most this many log lines may come from the component for one call. */
  logLines?: number;
  /** No log line may come from the component once this many ms passed after its call failed. */
  quietAfterMs?: number;
  /** A host weakness: why the bounds do not hold today (the check runs as a `todo`). */
  todo?: string;
}

export interface HostileModule {
  /** File stem and component name. */
  name: string;
  /** What the module does. */
  does: string;
  /** The `.wasm` bytes. Large ones are built only when called, at test time. */
  build: () => Uint8Array;
  /**
   * `tessera.dev/*` annotations for a Component YAML beside the module (TIGHT_LIMITS merged
   * under them); `false`: the `.wasm` is dropped alone, as a file no YAML claims.
   */
  limits?: Record<string, string> | false;
  /**
   * Give the file an mtime in the past: an empty or truncated file modified just now is taken
   * for a copy in progress and only reported once it settles (2 s), which another test covers.
   */
  settled?: boolean;
  expect: Expectation;
  harm?: Harm;
  /** A host weakness: why `expect` does not hold today (the check runs as a `todo`). */
  todo?: string;
}

// ---------------------------------------------------------------------------------------
// Building blocks.

/** The skeleton with the manifest of a skeleton asking for `capabilities`. */
const skeleton = (options: SkeletonModuleOptions = {}, capabilities: string[] = []): Uint8Array =>
  stateStoreModule({ ...options, manifest: { capabilities, ...options.manifest } });

/** WAT: runs `hostile` when the key is TRIGGER_KEY (local 1 is the key's length in get, set and delete). */
const onTrigger = (hostile: string): string => `(if (i32.eq (local.get 1) (i32.const ${TRIGGER_LEN})) (then ${hostile}))`;

/** A `get` or `set` body: `hostile` on the trigger key, then the skeleton's answer (`ok`). */
const misbehave = (hostile: string): string => `${onTrigger(hostile)} (i32.const 16)`;

/** A body that returns `ptr` (after running `setup`) on the trigger key, else the skeleton's `ok`. */
const returnOnTrigger = (setup: string, ptr: string): string =>
  `(if (result i32) (i32.eq (local.get 1) (i32.const ${TRIGGER_LEN})) (then ${setup} ${ptr}) (else (i32.const 16)))`;

/**
 * The body of a function `(param i32) (result i32)` that adds `step` (0-63) to its parameter
 * `repeats` times and returns it: 7 bytes of code a repeat, so megabytes of code that WAT text
 * would take tens of megabytes to spell.
 */
export function largeFunctionBody(repeats: number, step = 1): Uint8Array {
  const body = new Uint8Array(1 + repeats * 7 + 3); // no locals besides the parameter
  for (let i = 0, at = 1; i < repeats; i++, at += 7) body.set([0x20, 0, 0x41, step & 0x3f, 0x6a, 0x21, 0], at); // local.get 0, i32.const step, i32.add, local.set 0
  body.set([0x20, 0, 0x0b], body.length - 3); // local.get 0, end
  return body;
}

/** The module with the body of its last defined function replaced by `largeFunctionBody(repeats)`. */
function withLargeLastFunction(bytes: Uint8Array, repeats: number): Uint8Array {
  const body = largeFunctionBody(repeats);
  const code = sections(bytes).find((section) => section.id === SECTION.code);
  if (code === undefined) throw new Error('the module has no code section');
  const entries = new Reader(bytes, code.payload, code.end);
  const count = entries.u32();
  let last = entries.pos;
  for (let i = 0; i < count; i++) {
    last = entries.pos;
    const length = entries.u32();
    entries.pos += length;
  }
  const section = concat([bytes.subarray(code.payload, last), Uint8Array.from(encodeU32(body.length)), body]);
  return concat([bytes.subarray(0, code.start), Uint8Array.of(SECTION.code, ...encodeU32(section.length)), section, bytes.subarray(code.end)]);
}

/** An allocator that hands out the same 64 KiB block every time, so a loop of host calls returning lists never runs out of memory. */
const reusedBlock = {
  omitRealloc: true,
  memory: '3',
  fields: ['(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 65536))'],
} as const satisfies SkeletonModuleOptions;

const store8 = (addr: number, value: number): string => `(i32.store8 (i32.const ${addr}) (i32.const ${value}))`;
const store32 = (addr: number, value: number | string): string =>
  `(i32.store (i32.const ${addr}) ${typeof value === 'number' ? `(i32.const ${value >>> 0})` : value})`;

/**
 * Where a hostile `get` builds its answer, a `result<option<get-response>, error>`:
 * +0 result case, +4 option case, +8/+12 value (ptr, len), +16 etag case, +20/+24 etag,
 * +28 content-type case, +32/+36 content-type, +40/+44 metadata (ptr, len).
 */
const AREA = 256;
const GET = {
  result: AREA,
  option: AREA + 4,
  valuePtr: AREA + 8,
  valueLen: AREA + 12,
  etag: AREA + 16,
  etagPtr: AREA + 20,
  etagLen: AREA + 24,
  metaPtr: AREA + 40,
  metaLen: AREA + 44,
};
/** `ok(some(get-response))` with everything empty, to fill in. */
const someResponse = `${store8(GET.result, 0)} ${store8(GET.option, 1)}`;

/** Grows memory a page at a time until `memory.grow` refuses. */
const growUntilRefused = '(block $refused (loop $grow (br_if $refused (i32.eq (memory.grow (i32.const 1)) (i32.const -1))) (br $grow)))';

/** A custom `cabi_realloc` that answers `hostile` when `when` holds, else the skeleton's bump allocator. */
const realloc = (when: string, hostile: string): string =>
  `(func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (if (result i32) ${when}
      (then ${hostile})
      (else (call $realloc (local.get $old) (local.get $old_size) (local.get $align) (local.get $size)))))`;

/** A body check: a Dapr error (`errorCode`, `message`) whose message names the component. */
const daprErrorNaming =
  (component: string) =>
  (bytes: Uint8Array): void => {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { errorCode?: unknown; message?: unknown };
    if (typeof body.errorCode !== 'string' || typeof body.message !== 'string' || !body.message.includes(`"${component}"`)) {
      throw new Error(`not a Dapr error naming component "${component}": ${JSON.stringify(body)}`);
    }
  };

/** Random bytes that cannot pass for a module (no `\0asm` magic). */
function garbage(size: number): Uint8Array {
  const bytes = randomBytes(size);
  bytes[0] = 0xff;
  return bytes;
}

/** A module header and one zero-filled custom section, `size` bytes in all (size >= 2 MiB: a 4-byte size field). */
function paddedModule(size: number): Uint8Array {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const name = new TextEncoder().encode('padding');
  const payload = size - header.length - 1 - 4;
  const out = new Uint8Array(size);
  out.set([...header, 0, ...encodeU32(payload), ...encodeU32(name.length), ...name]);
  return out;
}

/** Appends a data section (id 11, after the code section) with one active segment of `size` bytes at `offset`. */
function withDataSegment(bytes: Uint8Array, offset: number, size: number): Uint8Array {
  const segment = [1, 0x00, 0x41, ...encodeSigned(offset), 0x0b, ...encodeU32(size)];
  const payloadSize = segment.length + size;
  const head = Uint8Array.from([11, ...encodeU32(payloadSize), ...segment]);
  const out = new Uint8Array(bytes.length + head.length + size);
  out.set(bytes, 0);
  out.set(head, bytes.length);
  out.fill(0x2a, bytes.length + head.length);
  return out;
}

function encodeSigned(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (b & 0x40) === 0) || (value === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const STATE_MEMORY_WASM = fileURLToPath(new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url));

// ---------------------------------------------------------------------------------------
// The corpus.

/** A runaway call ends at its budget, or at the longest a call that cannot pause may hold the event loop, whichever comes first. */
const OUT_OF_FUEL = /ran out of its CPU budget of 20000000 units|held the event loop for \d+ ms without a pause/;

export const HOSTILE_CORPUS: readonly HostileModule[] = [
  // --- Files that are not a usable module -------------------------------------------------
  {
    name: 'random-bytes',
    does: '4 KiB of random bytes named .wasm',
    build: () => garbage(4096),
    limits: false,
    expect: { at: 'load', reasons: [/malformed WebAssembly binary/, /magic/] },
  },
  {
    name: 'empty-file',
    does: 'an empty .wasm',
    build: () => new Uint8Array(0),
    limits: false,
    settled: true,
    expect: { at: 'load', reasons: [/malformed WebAssembly binary/, /the file is empty/] },
  },
  {
    name: 'truncated-module',
    does: 'the first 60% of the bundled state.memory module',
    build: () => {
      const bytes = readFileSync(STATE_MEMORY_WASM);
      return bytes.subarray(0, Math.floor(bytes.length * 0.6));
    },
    limits: false,
    settled: true,
    expect: { at: 'load', reasons: [/malformed WebAssembly binary/, /runs past the end of the file \(truncated\?\)/] },
  },
  {
    name: 'fifty-megabytes',
    does: 'a 50 MB file: a module header and one giant custom section (built at test time, never committed)',
    build: () => paddedModule(50 * 1024 * 1024),
    limits: false,
    expect: { at: 'load', reasons: [/the file is 50\.0 MiB, over the 32 MiB module limit/] },
  },
  {
    name: 'no-manifest',
    does: 'the skeleton without its tessera:manifest section',
    build: () => stateStoreModule({ manifest: null }),
    limits: false,
    expect: { at: 'load', reasons: [/no tessera:manifest custom section/] },
  },
  {
    name: 'two-manifests',
    does: 'two tessera:manifest sections, hoping the host reads a different one than a scanner',
    build: () => withManifest(skeleton(), { ...SKELETON_MANIFEST, type: 'state.other' }),
    limits: false,
    expect: { at: 'load', reasons: [/2 tessera:manifest sections: a module carries exactly one/] },
  },
  {
    name: 'wrong-abi-version',
    does: 'a manifest naming ABI 9.9.9',
    build: () => skeleton({ manifest: { abi: '9.9.9' } }),
    expect: { at: 'load', reasons: [/ABI 9\.9\.9/, /supports 0\.1\.0/] },
  },
  {
    name: 'empty-component',
    does: 'a Component Model header (layer 1) with nothing after it',
    build: () => Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00),
    limits: false,
    // Refused as a component either way: while only core modules load, or for carrying no manifest.
    expect: { at: 'load', reasons: [/Component Model component, not a core module|no tessera:manifest/] },
  },

  // --- Imports and exports the world does not allow ---------------------------------------
  {
    name: 'unknown-import',
    does: 'imports env.abort and wasi fd_write, which no world offers',
    build: () =>
      skeleton({
        imports: [
          '(import "env" "abort" (func (param i32 i32 i32 i32)))',
          '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))',
        ],
      }),
    expect: { at: 'load', reasons: [/import "env" "abort" is not offered by world "state-store"/, /import "wasi_snapshot_preview1" "fd_write" is not offered/] },
  },
  {
    name: 'ungranted-capability',
    does: 'imports log without asking for it in its manifest',
    build: () => skeleton({ imports: [hostImportWat('log', 'log')] }),
    expect: { at: 'load', reasons: [new RegExp(String.raw`import "tessera:components\/log@${ABI}" "log" needs capability "log", which the manifest does not request`)] },
  },
  {
    name: 'wrong-import-signature',
    does: 'imports log.log with one i32 instead of three, to read the host stack',
    build: () => skeleton({ imports: [hostImportWat('log', 'log', { params: ['i32'], results: [] })] }, ['log']),
    expect: { at: 'load', reasons: [new RegExp(String.raw`import "tessera:components\/log@${ABI}" "log" has type \(i32\) -> \(\), the ABI says \(i32, i32, i32\) -> \(\)`)] },
  },
  {
    name: 'imports-memory',
    does: 'imports a memory from the host instead of defining its own',
    build: () => skeleton({ imports: ['(import "env" "memory" (memory 1))'], omitMemoryExport: true, fields: ['(export "memory" (memory 0))'] }),
    expect: { at: 'load', reasons: [/import "env" "memory" is a memory: a component defines its own memory/] },
  },
  {
    name: 'missing-export',
    does: 'leaves out get',
    build: () => skeleton({ omit: ['get'] }),
    expect: { at: 'load', reasons: [new RegExp(String.raw`missing export "tessera:components\/state@${ABI}#get"`)] },
  },
  {
    name: 'export-wrong-signature',
    does: 'exports get taking no parameters',
    build: () => skeleton({ signatures: { get: { params: [], results: ['i32'] } }, bodies: { get: '(i32.const 16)' } }),
    expect: { at: 'load', reasons: [new RegExp(String.raw`export "tessera:components\/state@${ABI}#get" has type \(\) -> \(i32\), the ABI says \(i32, i32, i32, i32, i32\) -> \(i32\)`)] },
  },

  // --- Cheating the metering ----------------------------------------------------------------
  {
    name: 'exports-fuel-global',
    does: 'exports its own mutable i64 global as "tessera:fuel", hoping the host sets that one',
    build: () => skeleton({ fields: ['(global $fake (export "tessera:fuel") (mut i64) (i64.const 0))'] }),
    expect: { at: 'load', reasons: [/already exports "tessera:fuel"/] },
  },
  {
    name: 'refuels-through-global',
    does:
      'loops forever in get, each iteration calling a function that sets global 1, which does not exist in the ' +
      'module as written but is the fuel global once the host has metered it',
    build: () =>
      skeleton({
        bodies: { get: misbehave('(loop $spin (call $refuel) (br $spin))') },
        fields: ['(func $refuel (global.set 1 (i64.const 0x7fffffffffffffff)))'],
      }),
    expect: { at: 'load', reasons: [/invalid WebAssembly/, /global/] },
  },
  {
    name: 'refuels-through-local',
    does: 'loops forever in get, each iteration setting local 5, which get does not declare but the metering adds as its fuel counter',
    build: () => skeleton({ bodies: { get: misbehave('(loop $spin (local.set 5 (i64.const 0x7fffffffffffffff)) (br $spin))') } }),
    expect: { at: 'load', reasons: [/invalid WebAssembly/, /local/] },
  },

  // --- Memory -------------------------------------------------------------------------------
  {
    name: 'memory-over-cap',
    does: 'declares 100 pages (6.25 MiB) of initial memory against a 4 MiB limit',
    build: () => skeleton({ memory: '100' }),
    expect: { at: 'load', reasons: [/memory starts at 100 pages \(6400 KiB\), over the limit of 64 pages \(4096 KiB\)/] },
  },
  {
    name: 'huge-data-segment',
    does: 'a 30 MB active data segment into a 1-page memory capped at 4 MiB',
    build: () => withManifest(withDataSegment(wat(stateStoreWat(), { bulk_memory: true }), 0, 30 * 1024 * 1024), SKELETON_MANIFEST),
    expect: { at: 'load', reasons: [/failed to start/, /data segment/, /out of bounds/] },
  },
  {
    name: 'shared-memory',
    does: 'a shared memory (threads), which the host cannot cap safely',
    build: () => withManifest(wat(stateStoreWat({ memory: '1 1 shared' }), { bulk_memory: true, threads: true }), SKELETON_MANIFEST),
    expect: { at: 'load', reasons: [/shared memories are not supported/] },
  },
  {
    name: 'memory-grow-bomb',
    does: 'on get, grows memory a page at a time until refused, tries 10,000 more times, then writes one byte past the end',
    // Each memory.grow costs 1,000 units (a call into V8): 20,000 of them need more than the tight budget.
    limits: { 'tessera.dev/cpu-budget': '100M' },
    build: () =>
      skeleton({
        bodies: {
          get: `(local $i i32) ${misbehave(`${growUntilRefused}
            (local.set $i (i32.const 10000))
            (loop $again
              (drop (memory.grow (i32.const 1)))
              (drop (memory.grow (i32.const 65536)))
              (br_if $again (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
            (i32.store8 (i32.mul (memory.size) (i32.const 65536)) (i32.const 1))`)}`,
        },
      }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/memory access out of bounds/] },
  },
  {
    name: 'declares-65536-max-pages',
    does: 'declares memory (1 65536), grows until refused, and answers a value as long as its memory has pages',
    build: () =>
      skeleton({
        memory: '1 65536',
        bodies: { get: returnOnTrigger(`${growUntilRefused} ${someResponse} ${store32(GET.valueLen, '(memory.size)')}`, `(i32.const ${AREA})`) },
      }),
    expect: {
      at: 'answer',
      request: 'get',
      status: 200,
      body: (bytes) => {
        if (bytes.length !== 64) throw new Error(`the module grew to ${bytes.length} pages; the 4Mi limit allows 64`);
      },
    },
  },
  {
    name: 'table-over-cap',
    does: 'declares a table of 200,000 funcref slots (1.6 MB of slots at the least) under a 1 MiB memory limit',
    limits: { 'tessera.dev/memory-limit': '1Mi' },
    build: () => skeleton({ fields: ['(table 200000 funcref)'] }),
    expect: { at: 'load', reasons: [/a table starts at 200000 elements, over the limit of 100000/] },
  },

  // --- Traps and runaway code in calls ------------------------------------------------------
  {
    name: 'init-infinite-loop',
    does: 'loops forever in init',
    build: () => skeleton({ bodies: { init: '(loop $spin (br $spin)) (i32.const 16)' } }),
    expect: { at: 'load', reasons: [/component "init-infinite-loop" failed to start/, /trapped in init/, OUT_OF_FUEL] },
  },
  {
    name: 'start-function-loop',
    does: 'a start function that loops forever, run when the instance is created',
    build: () => skeleton({ fields: ['(func $start (loop $spin (br $spin)))', '(start $start)'] }),
    expect: { at: 'load', reasons: [/the module has a start function, which would run outside any call and its limits/] },
  },
  {
    name: 'initialize-loop',
    does: 'a reactor initialiser (_initialize) that loops forever',
    build: () => skeleton({ fields: ['(func (export "_initialize") (loop $spin (br $spin)))'] }),
    expect: { at: 'load', reasons: [/component "initialize-loop" failed to start/, /_initialize/, OUT_OF_FUEL] },
  },
  {
    name: 'get-infinite-loop',
    does: 'loops forever in get',
    build: () => skeleton({ bodies: { get: misbehave('(loop $spin (br $spin))') } }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [OUT_OF_FUEL] },
  },
  {
    name: 'unbounded-recursion',
    does: 'recurses without end in get',
    build: () => skeleton({ bodies: { get: misbehave('(call $down (i32.const 0))') }, fields: ['(func $down (param i32) (call $down (i32.add (local.get 0) (i32.const 1))))'] }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/stack overflow/] },
  },
  {
    name: 'unreachable-in-set',
    does: 'executes unreachable in set',
    build: () => skeleton({ bodies: { set: misbehave('unreachable') } }),
    expect: { at: 'call', request: 'save', fn: 'set', reasons: [/trap: unreachable/] },
  },
  {
    name: 'traps-in-post-return',
    does: 'answers get, then traps in its cabi_post_ function',
    build: () =>
      skeleton({
        // On the trigger key get answers from another (also all-zero) area, which tells post-return to trap.
        bodies: { get: returnOnTrigger('', `(i32.const ${AREA})`) },
        fields: [`(func (export "cabi_post_tessera:components/state@${ABI_VERSION}#get") (param i32) (if (i32.eq (local.get 0) (i32.const ${AREA})) (then unreachable)))`],
      }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/post-return/, /unreachable/] },
  },
  {
    name: 'crash-loop',
    does: 'traps on every get, whatever the key',
    limits: { 'tessera.dev/crash-loop-traps': '3', 'tessera.dev/crash-loop-window': '1m' },
    build: () => skeleton({ bodies: { get: 'unreachable' } }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/trap: unreachable/], crashLoopAfter: 3 },
  },

  // --- Lying to the canonical ABI -----------------------------------------------------------
  {
    name: 'result-pointer-outside-memory',
    does: 'get returns a result pointer 2 GiB into a 64 KiB memory',
    build: () => skeleton({ bodies: { get: returnOnTrigger('', '(i32.const 0x7ffffff0)') } }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/the returned pointer 0x7ffffff0 of \d+ bytes runs past the end of guest memory \(65536 bytes\)/] },
  },
  {
    name: 'result-pointer-misaligned',
    does: 'get returns a result pointer that is not 4-aligned',
    build: () => skeleton({ bodies: { get: returnOnTrigger('', '(i32.const 17)') } }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/the returned pointer 0x11 is not aligned to 4/] },
  },
  {
    name: 'result-length-outside-memory',
    does: 'get returns a value list at 0x400 that claims 2^31-1 bytes',
    build: () => skeleton({ bodies: { get: returnOnTrigger(`${someResponse} ${store32(GET.valuePtr, 0x400)} ${store32(GET.valueLen, 0x7fffffff)}`, `(i32.const ${AREA})`) } }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/list<u8> at 0x400 with 2147483647 elements runs past the end of guest memory/] },
  },
  {
    name: 'string-wraps-address-space',
    does: 'get returns an etag string at 0xffffff00 of 512 bytes, whose end wraps around 32 bits',
    build: () =>
      skeleton({
        bodies: { get: returnOnTrigger(`${someResponse} ${store8(GET.etag, 1)} ${store32(GET.etagPtr, 0xffffff00)} ${store32(GET.etagLen, 512)}`, `(i32.const ${AREA})`) },
      }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/string at 0xffffff00 of 512 bytes runs past the end of guest memory/] },
  },
  {
    name: 'invalid-utf8',
    does: 'get returns an etag string of bytes ff fe fd',
    build: () =>
      skeleton({
        fields: ['(data (i32.const 512) "\\ff\\fe\\fd")'],
        bodies: { get: returnOnTrigger(`${someResponse} ${store8(GET.etag, 1)} ${store32(GET.etagPtr, 512)} ${store32(GET.etagLen, 3)}`, `(i32.const ${AREA})`) },
      }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/string at 0x200 of 3 bytes is not valid UTF-8/] },
  },
  {
    name: 'bad-result-discriminant',
    does: 'get returns a result whose case is 7 (a result has 2)',
    build: () => skeleton({ bodies: { get: returnOnTrigger(store8(GET.result, 7), `(i32.const ${AREA})`) } }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/discriminant 7 is out of range for result<.*>, which has 2 cases/] },
  },
  {
    name: 'bad-error-variant',
    does: 'set fails with error case 9 (the error variant has 6)',
    build: () => skeleton({ bodies: { set: returnOnTrigger(`${store8(AREA, 1)} ${store8(AREA + 4, 9)}`, `(i32.const ${AREA})`) } }),
    expect: { at: 'call', request: 'save', fn: 'set', reasons: [/discriminant 9 is out of range for error, which has 6 cases/] },
  },
  {
    name: 'features-invalid-utf8',
    does: 'features() lists one feature whose bytes are not UTF-8',
    build: () =>
      skeleton({
        fields: ['(data (i32.const 512) "\\c3\\28")', `(data (i32.const 520) "\\00\\02\\00\\00\\02\\00\\00\\00")`],
        bodies: { features: `${store32(AREA, 520)} ${store32(AREA + 4, 1)} (i32.const ${AREA})` },
      }),
    expect: { at: 'load', reasons: [/failed to start/, /trapped in features/, /not valid UTF-8/] },
  },
  {
    name: 'realloc-out-of-range',
    does: 'cabi_realloc answers 0xfffffff0 when the host asks room for the trigger key',
    build: () => skeleton({ omitRealloc: true, fields: [realloc(`(i32.eq (local.get $size) (i32.const ${TRIGGER_LEN}))`, '(i32.const 0xfffffff0)')] }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [new RegExp(`cabi_realloc returned 0xfffffff0 for ${TRIGGER_LEN} bytes, past the end of guest memory`)] },
  },
  {
    name: 'realloc-misaligned',
    does: 'cabi_realloc answers an odd address whenever the host asks for a non-empty 4-aligned block (a metadata list)',
    build: () =>
      skeleton({
        omitRealloc: true,
        fields: [realloc('(i32.and (i32.eq (local.get $align) (i32.const 4)) (i32.ne (local.get $size) (i32.const 0)))', '(i32.or (call $realloc (local.get $old) (local.get $old_size) (local.get $align) (local.get $size)) (i32.const 1))')],
      }),
    expect: { at: 'call', request: 'get-with-metadata', fn: 'get', reasons: [/cabi_realloc returned 0x[0-9a-f]+, which is not aligned to 4/] },
  },
  {
    name: 'realloc-infinite-loop',
    does: 'cabi_realloc loops forever when the host asks room for the trigger key',
    build: () => skeleton({ omitRealloc: true, fields: [realloc(`(i32.eq (local.get $size) (i32.const ${TRIGGER_LEN}))`, '(loop $spin (br $spin)) (i32.const 0)')] }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [OUT_OF_FUEL] },
  },
  {
    name: 'lift-amplification',
    does: 'get grows to its 16 MiB limit and answers ~1,000,000 metadata entries of empty strings, 16 bytes each, for the host to build (a call may lift twice its memory limit)',
    limits: { 'tessera.dev/memory-limit': '16Mi' },
    build: () =>
      skeleton({
        bodies: {
          get: returnOnTrigger(
            `(drop (memory.grow (i32.const 255))) ${someResponse} ${store32(GET.metaPtr, 65536)} ${store32(GET.metaLen, (16 * 1048576 - 65536) / 16)}`,
            `(i32.const ${AREA})`,
          ),
        },
      }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/the result is larger than the 32 MiB a call may return/] },
    harm: { wallMs: 1000 },
  },

  {
    name: 'etag-header-injection',
    does: 'get answers the value 1 with the etag "1\\r\\nSet-Cookie: pwned=1", to split the HTTP response',
    build: () =>
      skeleton({
        fields: ['(data (i32.const 512) "1")', '(data (i32.const 520) "1\\0d\\0aSet-Cookie: pwned=1")'],
        bodies: {
          get: returnOnTrigger(
            `${someResponse} ${store32(GET.valuePtr, 512)} ${store32(GET.valueLen, 1)} ${store8(GET.etag, 1)} ${store32(GET.etagPtr, 520)} ${store32(GET.etagLen, 22)}`,
            `(i32.const ${AREA})`,
          ),
        },
      }),
    expect: {
      at: 'answer',
      request: 'get',
      status: 500,
      headers: (h) => {
        if (h.has('set-cookie')) throw new Error('the etag split the response');
      },
      body: daprErrorNaming('etag-header-injection'),
    },
  },
  {
    name: 'metadata-header-injection',
    does: 'get answers metadata named "x\\r\\nSet-Cookie: pwned=1", which the API turns into a metadata.* header',
    build: () =>
      skeleton({
        fields: ['(data (i32.const 512) "1")', '(data (i32.const 520) "x\\0d\\0aSet-Cookie: pwned=1")', '(data (i32.const 560) "\\08\\02\\00\\00\\16\\00\\00\\00\\00\\02\\00\\00\\01\\00\\00\\00")'],
        bodies: {
          get: returnOnTrigger(`${someResponse} ${store32(GET.valuePtr, 512)} ${store32(GET.valueLen, 1)} ${store32(GET.metaPtr, 560)} ${store32(GET.metaLen, 1)}`, `(i32.const ${AREA})`),
        },
      }),
    expect: {
      at: 'answer',
      request: 'get',
      status: 500,
      headers: (h) => {
        if (h.has('set-cookie')) throw new Error('the metadata split the response');
      },
      body: daprErrorNaming('metadata-header-injection'),
    },
  },

  // --- Abusing host imports -----------------------------------------------------------------
  {
    name: 'random-one-gigabyte',
    does: 'asks random.get-random-bytes for 1 GiB',
    build: () => skeleton({ imports: [hostImportWat('random', 'get-random-bytes')], bodies: { get: misbehave(`(call 0 (i32.const 0x40000000) (i32.const ${AREA}))`) } }, ['random']),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/asked random for 1073741824 bytes; at most 65536 per call/] },
  },
  {
    name: 'log-ten-megabytes',
    does: 'fills 10 MB of its memory with "a" and logs it as one message',
    limits: { 'tessera.dev/memory-limit': '16Mi' },
    build: () =>
      skeleton(
        {
          imports: [hostImportWat('log', 'log')],
          bodies: {
            get: misbehave(
              '(drop (memory.grow (i32.const 160))) (memory.fill (i32.const 65536) (i32.const 0x61) (i32.const 10000000)) (call 0 (i32.const 2) (i32.const 65536) (i32.const 10000000))',
            ),
          },
        },
        ['log'],
      ),
    expect: {
      at: 'answer',
      request: 'get',
      status: 204,
      logs: (messages) => {
        const line = messages.find((m) => m.startsWith('aaaaaaaa'));
        if (line === undefined) throw new Error('the 10 MB message was not logged at all');
        if (line.length > 8300) throw new Error(`a log line of ${line.length} characters went into the sidecar log`);
        if (!/… \(\d+ more characters\)$/.test(line)) throw new Error('the log line does not say it was truncated');
      },
    },
  },
  {
    name: 'large-function',
    does: 'runs, in get, a function of 3.4 MB of code (V8 compiles a function at its first call unless the host compiled it ahead)',
    build: () =>
      withManifest(
        withLargeLastFunction(
          wat(stateStoreWat({ bodies: { get: '(drop (call $large (local.get 1))) (i32.const 16)' }, fields: ['(func $large (param i32) (result i32) (local.get 0))'] }), { bulk_memory: true }),
          485_000,
        ),
        SKELETON_MANIFEST,
      ),
    expect: { at: 'answer', request: 'get', status: 204 },
  },
  {
    name: 'log-past-end-of-memory',
    does: 'logs a message at 0x400 that claims 2^31-1 bytes',
    build: () => skeleton({ imports: [hostImportWat('log', 'log')], bodies: { get: misbehave('(call 0 (i32.const 2) (i32.const 0x400) (i32.const 0x7fffffff))') } }, ['log']),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/string at 0x400 of 2147483647 bytes runs past the end of guest memory/] },
  },
  {
    name: 'log-bad-level',
    does: 'logs at level 42 (the level enum has 5 cases)',
    build: () =>
      skeleton({ imports: [hostImportWat('log', 'log')], fields: ['(data (i32.const 512) "spam")'], bodies: { get: misbehave('(call 0 (i32.const 42) (i32.const 512) (i32.const 4))') } }, ['log']),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/discriminant 42 is out of range for level, which has 5 cases/] },
  },
  {
    name: 'clock-tight-loop',
    does: 'calls clock.now-ms in an endless loop (CPU budget 2M)',
    limits: { 'tessera.dev/cpu-budget': '2M' },
    build: () => skeleton({ imports: [hostImportWat('clock', 'now-ms')], bodies: { get: misbehave('(loop $spin (drop (call 0)) (br $spin))') } }, ['clock']),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/ran out of its CPU budget of 2000000 units/] },
    harm: { wallMs: 250 },
  },
  {
    name: 'log-tight-loop',
    does: 'logs "spam" in an endless loop (CPU budget 50k)',
    limits: { 'tessera.dev/cpu-budget': '50k' },
    build: () =>
      skeleton({ imports: [hostImportWat('log', 'log')], fields: ['(data (i32.const 512) "spam")'], bodies: { get: misbehave('(loop $spin (call 0 (i32.const 2) (i32.const 512) (i32.const 4)) (br $spin))') } }, ['log']),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/ran out of its CPU budget of 50000 units/] },
    harm: { logLines: 1000 },
  },
  {
    name: 'memory-fill-loop',
    does: 'memory.fill over its whole 16 MiB memory in an endless loop (CPU budget 500)',
    limits: { 'tessera.dev/cpu-budget': '500', 'tessera.dev/memory-limit': '16Mi' },
    build: () =>
      skeleton({ bodies: { get: misbehave('(drop (memory.grow (i32.const 255))) (loop $spin (memory.fill (i32.const 0) (i32.const 0) (i32.const 0x1000000)) (br $spin))') } }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/ran out of its CPU budget of 500 units/] },
    harm: { wallMs: 250 },
  },
  {
    name: 'table-grow-bomb',
    does: 'grows a table by 20,000 funcref slots at a time, 10 times or until refused (1 MiB limit), answering one value byte per growth allowed',
    limits: { 'tessera.dev/memory-limit': '1Mi' },
    build: () =>
      skeleton({
        fields: ['(table $t 0 funcref)'],
        bodies: {
          get: `(local $grown i32) ${returnOnTrigger(
            `(block $refused (loop $grow
               (br_if $refused (i32.eq (table.grow $t (ref.null func) (i32.const 20000)) (i32.const -1)))
               (local.set $grown (i32.add (local.get $grown) (i32.const 1)))
               (br_if $grow (i32.lt_u (local.get $grown) (i32.const 10)))))
             ${someResponse} ${store32(GET.valueLen, '(local.get $grown)')}`,
            `(i32.const ${AREA})`,
          )}`,
        },
      }),
    expect: {
      at: 'answer',
      request: 'get',
      status: 200,
      body: (bytes) => {
        // 8 bytes a slot at the least: 1 MiB holds 131,072 slots, six growths.
        if (bytes.length > 6) throw new Error(`the host let the table grow to ${bytes.length * 20_000} slots (${bytes.length * 160} KB at the least) under a 1Mi memory limit`);
      },
    },
  },
  {
    name: 'sleep-forever',
    does: 'sleeps 2,000,000,000 ms (23 days) in get (call timeout 300 ms)',
    limits: { 'tessera.dev/call-timeout': '300ms' },
    build: () => skeleton({ imports: [hostImportWat('sleep', 'sleep-ms')], bodies: { get: misbehave('(call 0 (i32.const 2000000000))') } }, ['sleep']),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/get did not finish within its call timeout of 300 ms/] },
  },
  {
    name: 'sleep-loop-zombie',
    does: 'sleeps 1 ms and logs "tick" in an endless loop (call timeout 200 ms, CPU budget 2M)',
    limits: { 'tessera.dev/call-timeout': '200ms', 'tessera.dev/cpu-budget': '2M' },
    build: () =>
      skeleton(
        {
          imports: [hostImportWat('sleep', 'sleep-ms'), hostImportWat('log', 'log')],
          fields: ['(data (i32.const 512) "tick")'],
          bodies: { get: misbehave('(loop $spin (call 0 (i32.const 1)) (call 1 (i32.const 2) (i32.const 512) (i32.const 4)) (br $spin))') },
        },
        ['sleep', 'log'],
      ),
    // Whichever ends it first: the deadline, or the budget its host calls are charged to by their time.
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/get did not finish within its call timeout of 200 ms|ran out of its CPU budget of 2000000 units/] },
    harm: { quietAfterMs: 300 },
  },

  // --- Isolation: every class of harm, bounded -----------------------------------------------
  {
    name: 'sleep-in-realloc',
    does: 'asks to sleep inside cabi_realloc, which the host calls outside any JSPI call (while lowering the key)',
    build: () =>
      skeleton(
        {
          imports: [`(import "tessera:components/sleep@${ABI_VERSION}" "sleep-ms" (func $sleep (param i32)))`],
          omitRealloc: true,
          // Only for the trigger key's bytes, so the next (benign) call is served.
          fields: [`(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (if (i32.eq (local.get 3) (i32.const ${TRIGGER_LEN})) (then (call $sleep (i32.const 5)))) (i32.const 2048))`],
        },
        ['sleep'],
      ),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/cabi_realloc/, /suspend/] },
  },
  {
    name: 'sleep-in-post-return',
    does: 'answers get, then asks to sleep in its cabi_post_ function',
    build: () =>
      skeleton(
        {
          imports: [`(import "tessera:components/sleep@${ABI_VERSION}" "sleep-ms" (func $sleep (param i32)))`],
          bodies: { get: returnOnTrigger('', `(i32.const ${AREA})`) },
          fields: [`(func (export "cabi_post_tessera:components/state@${ABI_VERSION}#get") (param i32) (if (i32.eq (local.get 0) (i32.const ${AREA})) (then (call $sleep (i32.const 5)))))`],
        },
        ['sleep'],
      ),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/post-return/, /suspend/] },
  },
  {
    name: 'init-sleeps-forever',
    does: 'sleeps 2,000,000,000 ms in init (call timeout 300 ms): the load fails at its deadline',
    limits: { 'tessera.dev/call-timeout': '300ms' },
    build: () => skeleton({ imports: [hostImportWat('sleep', 'sleep-ms')], bodies: { init: '(call 0 (i32.const 2000000000)) (i32.const 16)' } }, ['sleep']),
    expect: { at: 'load', reasons: [/component "init-sleeps-forever" failed to start/, /init did not finish within its call timeout of 300 ms/] },
  },
  {
    name: 'sleep-past-timer-range',
    does: 'sleeps 4,294,967,295 ms, past the range of Node\'s timers (call timeout 300 ms)',
    limits: { 'tessera.dev/call-timeout': '300ms' },
    build: () => skeleton({ imports: [hostImportWat('sleep', 'sleep-ms')], bodies: { get: misbehave('(call 0 (i32.const -1))') } }, ['sleep']),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/get did not finish within its call timeout of 300 ms/] },
  },
  {
    name: 'forty-one-memories',
    does: 'defines 41 memories of 4 pages each under a 16 MiB limit (641 MiB if each were capped alone)',
    limits: { 'tessera.dev/memory-limit': '16Mi' },
    build: () =>
      withManifest(
        wat(stateStoreWat({ fields: Array.from({ length: 40 }, (_, i) => `(memory $extra${i} 4)`) }), { bulk_memory: true, multi_memory: true }),
        SKELETON_MANIFEST,
      ),
    expect: { at: 'load', reasons: [/more than one memory/] },
  },
  {
    name: 'three-hundred-tables',
    does: 'defines 300 tables of 3,000 slots each under a 1 MiB limit',
    limits: { 'tessera.dev/memory-limit': '1Mi' },
    build: () => skeleton({ fields: Array.from({ length: 300 }, () => '(table 3000 funcref)') }),
    expect: { at: 'load', reasons: [/defines 300 tables/] },
  },
  {
    name: 'tables-add-up',
    does: 'defines 50 tables of 3,000 slots each: each under the cap, together over it',
    build: () => skeleton({ fields: Array.from({ length: 50 }, () => '(table 3000 funcref)') }),
    expect: { at: 'load', reasons: [/the module's 50 tables start at 150000 elements together, over the limit of 100000/] },
  },
  {
    name: 'random-64k-loop',
    does: 'reads 64 KiB of random bytes in an endless loop (default CPU budget): host calls are charged by their time',
    limits: { 'tessera.dev/cpu-budget': '200M', 'tessera.dev/memory-limit': '1Mi' },
    build: () =>
      skeleton(
        { imports: [hostImportWat('random', 'get-random-bytes')], ...reusedBlock, bodies: { get: misbehave(`(loop $spin (call 0 (i32.const 65536) (i32.const ${AREA})) (br $spin))`) } },
        ['random'],
      ),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/CPU budget of 200000000 units|held the event loop/] },
    harm: { wallMs: 1500 },
  },
  {
    name: 'random-through-call-indirect',
    does: 'reads random bytes in an endless loop through call_indirect, which no call-site charge would see',
    limits: { 'tessera.dev/cpu-budget': '20M' },
    build: () =>
      skeleton(
        {
          imports: [`(import "tessera:components/random@${ABI_VERSION}" "get-random-bytes" (func $random (param i32 i32)))`],
          ...reusedBlock,
          fields: [...reusedBlock.fields, '(table 1 funcref)', '(elem (i32.const 0) $random)', '(type $rnd (func (param i32 i32)))'],
          bodies: { get: misbehave(`(loop $spin (call_indirect (type $rnd) (i32.const 65536) (i32.const ${AREA}) (i32.const 0)) (br $spin))`) },
        },
        ['random'],
      ),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/CPU budget of 20000000 units|held the event loop/] },
    harm: { wallMs: 300 },
  },
  {
    name: 'memory-grow-zero-loop',
    does: 'calls memory.grow 0 in an endless loop (each one a call into V8, ~660 ns) with the default budget',
    limits: { 'tessera.dev/cpu-budget': '200M' },
    build: () => skeleton({ bodies: { get: misbehave('(loop $spin (drop (memory.grow (i32.const 0))) (br $spin))') } }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/CPU budget of 200000000 units|held the event loop/] },
    harm: { wallMs: 1500 },
  },
  {
    name: 'default-budget-runaway',
    does: 'loops forever in get with the default CPU budget: stopped at its slice, then paused and resumed',
    limits: { 'tessera.dev/cpu-budget': '200M' },
    build: () => skeleton({ bodies: { get: misbehave('(loop $spin (br $spin))') } }),
    expect: { at: 'call', request: 'get', fn: 'get', reasons: [/CPU budget of 200000000 units|held the event loop/] },
    harm: { wallMs: 1500 },
  },
  {
    name: 'error-of-twenty-megabytes',
    does: 'answers get with an internal error whose message is 20 MiB of "a"',
    limits: { 'tessera.dev/memory-limit': '32Mi' },
    build: () =>
      skeleton({
        bodies: {
          get: returnOnTrigger(
            `(drop (memory.grow (i32.const 330))) (memory.fill (i32.const 65536) (i32.const 0x61) (i32.const 0x1400000)) ${store8(AREA, 1)} ${store8(AREA + 4, 5)} ${store32(AREA + 8, 65536)} ${store32(AREA + 12, 0x1400000)}`,
            `(i32.const ${AREA})`,
          ),
        },
      }),
    expect: {
      at: 'answer',
      request: 'get',
      status: 500,
      body: (bytes) => {
        if (bytes.length > 6000) throw new Error(`a ${bytes.length}-byte error body went out`);
        const { message } = JSON.parse(new TextDecoder().decode(bytes)) as { message: string };
        if (!/… \(\d+ more characters\)$/.test(message)) throw new Error(`the message does not say it was cut: ${message.slice(-100)}`);
      },
    },
  },
];
