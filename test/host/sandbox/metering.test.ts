import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MANIFEST_SECTION } from '../../../abi/ts/manifest.ts';
import { FUEL_EXPORT, FUEL_HOOKS_MODULE, fuelExhausted, instrumentFuel } from '../../../host/sandbox/metering.ts';
import { readCustomSections, readModuleShape } from '../../../host/sandbox/wasm-binary.ts';
import { wat } from '../../support/wat.ts';

const STATE_MEMORY = new URL('../../../components-wasm/state-memory/state-memory.wasm', import.meta.url);

/** Hooks that never refuel: the metered code traps as soon as its fuel runs out (call-meter.ts is the real host). */
const NO_REFUEL = {
  [FUEL_HOOKS_MODULE]: {
    refuel() {
      throw new WebAssembly.RuntimeError('unreachable');
    },
    yield() {
      throw new WebAssembly.RuntimeError('unreachable');
    },
  },
};
const HOOK_IMPORTS = [
  { module: FUEL_HOOKS_MODULE, name: 'refuel', kind: 'function' },
  { module: FUEL_HOOKS_MODULE, name: 'yield', kind: 'function' },
];

interface Metered {
  fuel: WebAssembly.Global;
  /** Calls an export with a budget; returns its result and the fuel it used. */
  run(name: string, budget: bigint, ...args: unknown[]): { result: unknown; used: bigint };
}

async function metered(bytes: Uint8Array, imports: WebAssembly.Imports = {}): Promise<Metered> {
  const { instance } = await WebAssembly.instantiate(instrumentFuel(bytes), { ...NO_REFUEL, ...imports });
  const exports = instance.exports as Record<string, Function>;
  const fuel = instance.exports[FUEL_EXPORT] as WebAssembly.Global;
  return {
    fuel,
    run(name, budget, ...args) {
      fuel.value = budget;
      const result = exports[name]!(...args);
      return { result, used: budget - (fuel.value as bigint) };
    },
  };
}

async function plain(bytes: Uint8Array, imports: WebAssembly.Imports = {}): Promise<Record<string, Function>> {
  return (await WebAssembly.instantiate(bytes, imports)).instance.exports as Record<string, Function>;
}

/** Runs a call that must run out of fuel; returns how long it took. */
function exhaust(m: Metered, name: string, budget: bigint, ...args: unknown[]): number {
  const start = performance.now();
  assert.throws(() => m.run(name, budget, ...args), (err: Error) => err instanceof WebAssembly.RuntimeError && /unreachable/.test(err.message));
  assert.ok(fuelExhausted(m.fuel), `fuel left: ${m.fuel.value}`);
  return performance.now() - start;
}

const loops = wat(`(module
  (func (export "spin") (loop $l (br $l)))
  (func $recurse (export "recurse") (call $recurse))
  (func $down (export "down") (param $n i32) (result i32)
    (if (result i32) (local.get $n)
      (then (call $down (i32.sub (local.get $n) (i32.const 1))))
      (else (i32.const 0))))
  ;; 5 instructions an iteration
  (func (export "count") (param $n i32)
    (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  ;; 5 + 12 instructions an iteration
  (func (export "count-big") (param $n i32) (local $x i32)
    (loop $l
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (local.set $x (i32.mul (local.get $x) (i32.const 3)))
      (local.set $x (i32.xor (local.get $x) (i32.const 7)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`);

test('an endless loop traps within milliseconds once its fuel runs out', async () => {
  const m = await metered(loops);
  const ms = exhaust(m, 'spin', 1_000_000n);
  assert.ok(ms < 250, `took ${ms} ms`);
});

test('a loop pays each iteration for the instructions of its body', async () => {
  const m = await metered(loops);
  const perIteration = (name: string): bigint => (m.run(name, 1n << 40n, 2000).used - m.run(name, 1n << 40n, 1000).used) / 1000n;
  assert.equal(perIteration('count'), 5n);
  assert.equal(perIteration('count-big'), 17n);
});

test('a large if arm is charged only when it runs; a small one always', async () => {
  const repeat = (n: number, text: string): string => Array.from({ length: n }, () => text).join(' ');
  const arms = wat(`(module (global $g (mut i32) (i32.const 0))
    (func (export "large") (param $p i32)
      (if (local.get $p) (then ${repeat(10, '(global.set $g (i32.const 1))')})))
    (func (export "small") (param $p i32)
      (if (local.get $p) (then (global.set $g (i32.const 1))))))`);
  const m = await metered(arms);
  const used = (name: string, p: number): bigint => m.run(name, 1000n, p).used;
  assert.equal(used('large', 1) - used('large', 0), 20n);
  assert.equal(used('small', 1), used('small', 0));
});

test('unbounded recursion is charged at function entry and runs out of fuel, not stack', async () => {
  const m = await metered(loops);
  exhaust(m, 'recurse', 1000n);
  const depth = (n: number): bigint => m.run('down', 1n << 40n, n).used;
  assert.equal(depth(200) - depth(100), 100n * (depth(1) - depth(0)));
  assert.ok(depth(1) > depth(0));
});

test('a big computation gives the same result metered and costs fuel in proportion to the work', async () => {
  const sum = wat(`(module
    (func (export "sum") (param $n i32) (result i64) (local $i i32) (local $s i64)
      (loop $l
        (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $i))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (local.get $s)))`);
  const m = await metered(sum);
  const reference = await plain(sum);
  const small = m.run('sum', 1n << 40n, 1e6);
  const big = m.run('sum', 1n << 40n, 1e7);
  assert.equal(big.result, reference.sum!(1e7));
  assert.equal(big.result, 49999995000000n);
  // 12 instructions an iteration, plus the function's own `local.get $s`.
  assert.equal(small.used, 1n + 12n * 1_000_000n);
  assert.equal(big.used, 1n + 12n * 10_000_000n);
  exhaust(m, 'sum', small.used * 5n, 1e7);
});

test('fuel used in loops is paid through calls, returns and branches out of the function', async () => {
  const nested = wat(`(module
    ;; a loop that leaves the function by branching to its outermost label
    (func $inner (param $n i32) (result i32)
      (loop $l
        (br_if 1 (local.get $n) (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))
      (i32.const -1))
    ;; one that leaves with a return
    (func $inner2 (param $n i32) (result i32)
      (loop $l
        (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))
      (i32.const -1))
    (func (export "outer") (param $times i32) (result i32) (local $acc i32)
      (loop $l
        (local.set $acc (i32.add (local.get $acc) (call $inner (i32.const 100))))
        (local.set $acc (i32.add (local.get $acc) (call $inner2 (i32.const 100))))
        (br_if $l (local.tee $times (i32.sub (local.get $times) (i32.const 1)))))
      (local.get $acc)))`);
  const m = await metered(nested);
  const once = m.run('outer', 1n << 40n, 1).used;
  const tenTimes = m.run('outer', 1n << 40n, 10).used;
  assert.ok(once > 2n * 100n * 5n, `two calls of 100 iterations used ${once}`);
  assert.ok(tenTimes > 9n * once, `ten calls used ${tenTimes}, one ${once}`);
  exhaust(m, 'outer', once * 5n, 10);
});

test('SIMD, bulk memory, multi-value blocks and tail calls run identically metered', async () => {
  const bytes = wat(
    `(module (memory (export "memory") 1) (data $d "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10")
      (global $g (mut i32) (i32.const 5)) (export "g" (global $g))
      (type $pair (func (param i32) (result i32 i32)))
      (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
      (func $acc (param $n i32) (param $a i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n)) (then (local.get $a))
          (else (return_call $acc (i32.sub (local.get $n) (i32.const 1)) (i32.add (local.get $a) (local.get $n))))))
      (func (export "run") (param $n i32) (result i32) (local $v v128) (local $i i32)
        (memory.init $d (i32.const 0) (i32.const 0) (i32.const 16))
        (memory.fill (i32.const 16) (i32.const 7) (i32.const 16))
        (memory.copy (i32.const 32) (i32.const 0) (i32.const 32))
        (local.set $i (i32.const 8))
        (v128.load (i32.const 32))
        (loop $l (param v128) (result v128)
          (local.set $v)
          (i32x4.add (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 (local.get $v) (local.get $v)) (v128.load (i32.const 48)))
          (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
        (local.set $v)
        (local.get $n)
        (block $b (type $pair) (local.get $n) (call $swap))
        (i32.sub)
        (i32.add (i32x4.extract_lane 3 (local.get $v)))
        (i32.add (call $acc (local.get $n) (i32.const 0)))
        (i32.add (global.get $g))))`,
    { tail_call: true },
  );
  const m = await metered(bytes);
  const reference = await plain(bytes);
  for (const n of [0, 10, 1000]) assert.equal(m.run('run', 1n << 40n, n).result, reference.run!(n));
});

test('a tail call out of a function with a loop calls its renumbered callee, the loop paid for first', async () => {
  // A loop keeps the fuel in a local: it goes to the global before the tail call leaves. That
  // store once went after the callee's renumbering, which put the old index back: an invalid
  // module, or (had the types matched) a call of another function.
  const bytes = wat(
    `(module
      (func $seven (param i32) (result i32) (i32.add (local.get 0) (i32.const 7)))
      (func (export "tail") (param $n i32) (result i32) (local $i i32)
        (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (return_call $seven (local.get $i))))`,
    { tail_call: true },
  );
  const m = await metered(bytes);
  const short = m.run('tail', 1_000_000n, 5);
  const long = m.run('tail', 1_000_000n, 500);
  assert.equal(short.result, 12);
  assert.equal(long.result, 507);
  assert.ok(long.used > short.used + 100n * 5n, `500 iterations used ${long.used}, 5 used ${short.used}`);
});

test('every way out of a function, in both fuel modes and to every kind of callee, runs as it does unmetered and pays its loop', async () => {
  // The writer puts syncs, spends and renumbered indices at the same offsets; an order slip
  // there broke `return_call` once. Each exit below, after a loop (the fuel in a local) or
  // without one (charged on the global), calling a callee its callers pay for, one that calls
  // the host, and one with a loop of its own (charged at its entry).
  const callees = {
    folded: '(func $g (param i32) (result i32) (i32.add (local.get 0) (i32.const 7)))',
    host: '(func $g (param i32) (result i32) (i32.add (call $host (local.get 0)) (i32.const 7)))',
    looping: '(func $g (param $x i32) (result i32) (local $k i32) (loop $l (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 3)))) (i32.add (local.get $x) (i32.const 7)))',
  };
  const exits = {
    return: '(return (call $g (local.get $i)))',
    'return_call': '(return_call $g (local.get $i))',
    'return_call_indirect': '(return_call_indirect (type $t) (local.get $i) (i32.const 0))',
    'call_indirect, then end': '(call_indirect (type $t) (local.get $i) (i32.const 0))',
    'br to the function': '(br 0 (call $g (local.get $i)))',
    'br_if to the function': '(drop (br_if 0 (call $g (local.get $i)) (i32.const 1))) (i32.const -1)',
    'br_table to the function': '(br_table 0 0 (call $g (local.get $i)) (local.get $i))',
    'call, then end': '(call $g (local.get $i))',
  };
  const loop = '(loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))';
  for (const [calleeKind, callee] of Object.entries(callees)) {
    for (const [exitKind, exit] of Object.entries(exits)) {
      for (const looped of [false, true]) {
        const bytes = wat(
          `(module
            (type $t (func (param i32) (result i32)))
            (import "env" "host" (func $host (param i32) (result i32)))
            (table 1 funcref) (elem (i32.const 0) $g)
            ${callee}
            (func (export "f") (param $n i32) (result i32) (local $i i32)
              ${looped ? loop : '(local.set $i (local.get $n))'}
              ${exit}))`,
          { tail_call: true },
        );
        const env = { env: { host: (x: number) => x * 2 } };
        const m = await metered(bytes, env);
        const reference = await plain(bytes, env);
        const what = `${exitKind} to a ${calleeKind} callee, ${looped ? 'after a loop' : 'no loop'}`;
        for (const n of [1, 50]) assert.equal(m.run('f', 1n << 40n, n).result, reference.f!(n), what);
        if (looped) {
          const few = m.run('f', 1n << 40n, 10).used;
          const many = m.run('f', 1n << 40n, 1000).used;
          assert.ok(many > few + 990n * 2n, `${what}: 1000 iterations used ${many}, 10 used ${few}`);
        }
      }
    }
  }
});

test('indices, custom sections and existing globals are kept', async () => {
  const bytes = wat(`(module
    (import "env" "base" (global $base i32))
    (import "env" "f" (func $f (param i32) (result i32)))
    (global $count (mut i32) (global.get $base)) (export "count" (global $count))
    (func (export "bump") (param $by i32) (result i32) (local $t i32)
      (local.set $t (call $f (local.get $by)))
      (global.set $count (i32.add (global.get $count) (local.get $t)))
      (global.get $count)))`);
  const withManifest = new Uint8Array([...bytes, 0, 18, 16, ...new TextEncoder().encode(MANIFEST_SECTION), 123]);
  const out = instrumentFuel(withManifest, 2000);
  const shape = readModuleShape(out);
  assert.deepEqual(shape.imports.slice(0, -2), readModuleShape(withManifest).imports, 'the module\'s own imports come first, unchanged');
  assert.deepEqual(shape.imports.slice(-2).map((i) => `${i.module}.${i.name}`), [`${FUEL_HOOKS_MODULE}.refuel`, `${FUEL_HOOKS_MODULE}.yield`]);
  assert.deepEqual(shape.exports.map((e) => e.name), ['count', 'bump', FUEL_EXPORT]);
  assert.deepEqual(readCustomSections(out, MANIFEST_SECTION), [Uint8Array.of(123)]);
  const imports = { env: { base: 40, f: (x: number) => x * 2 }, ...NO_REFUEL };
  const { instance } = await WebAssembly.instantiate(out, imports);
  assert.equal((instance.exports.bump as Function)(1), 42);
  assert.equal((instance.exports.count as WebAssembly.Global).value, 42);
  // `bump` has 8 instructions and no loop: one charge at entry, from the initial fuel. (The
  // host call's own cost is charged by the host, in call-meter.ts.)
  assert.equal((instance.exports[FUEL_EXPORT] as WebAssembly.Global).value, 2000n - 8n);
});

test('a start function runs with the initial fuel', async () => {
  const bytes = wat('(module (func $s (local i32) (local.set 0 (i32.const 1))) (start $s))');
  await assert.rejects(WebAssembly.instantiate(instrumentFuel(bytes), NO_REFUEL), /unreachable/);
  await WebAssembly.instantiate(instrumentFuel(bytes, 100), NO_REFUEL);
  assert.throws(() => instrumentFuel(bytes, -1), /non-negative integer/);
});

test('a module is metered once; a second pass is refused', () => {
  assert.throws(() => instrumentFuel(instrumentFuel(wat('(module)'))), { code: 'ERR_COMPONENT_LOAD', message: /already exports "tessera:fuel"/ });
});

test('the state-memory component still validates when metered and exposes its fuel', () => {
  const bytes = new Uint8Array(readFileSync(STATE_MEMORY));
  const out = instrumentFuel(bytes);
  assert.ok(WebAssembly.validate(out));
  const module = new WebAssembly.Module(out);
  assert.deepEqual(WebAssembly.Module.exports(module).at(-1), { name: FUEL_EXPORT, kind: 'global' });
  assert.deepEqual(WebAssembly.Module.imports(module), [...WebAssembly.Module.imports(new WebAssembly.Module(bytes)), ...HOOK_IMPORTS]);
  assert.deepEqual(readCustomSections(out, MANIFEST_SECTION), readCustomSections(bytes, MANIFEST_SECTION));
  assert.deepEqual(readModuleShape(out).exports.slice(0, -1), readModuleShape(bytes).exports);
});

test('bulk memory operations pay for their length, so a fill loop runs out of fuel after a few fills', async () => {
  const bytes = wat(`(module (memory 16) (global $fills (export "fills") (mut i32) (i32.const 0))
    (func (export "spin")
      (loop $l
        (memory.fill (i32.const 0) (i32.const 7) (i32.const 0x100000))
        (global.set $fills (i32.add (global.get $fills) (i32.const 1)))
        (br $l))))`);
  const { instance } = await WebAssembly.instantiate(instrumentFuel(bytes, 1_000_000), NO_REFUEL);
  assert.throws(() => (instance.exports.spin as Function)(), /unreachable/);
  const fills = (instance.exports.fills as WebAssembly.Global).value as number;
  // 1 MiB at one unit per 16 bytes is 65,536 units a fill: a million units buy about 15.
  assert.ok(fills >= 10 && fills <= 16, `the budget bought ${fills} fills of 1 MiB`);
  assert.ok(fuelExhausted(instance.exports[FUEL_EXPORT] as WebAssembly.Global));
});

test('metering renumbers every reference to a function: calls, ref.func, element segments, globals, exports, start', async () => {
  // Two imports before the module's own functions: the hooks go after them, so every defined
  // function moves up by two and each place naming one must follow.
  const bytes = wat(
    `(module
      (import "env" "one" (func $one (result i32)))
      (import "env" "two" (func $two (result i32)))
      (type $t (func (result i32)))
      (table 4 funcref)
      (elem (i32.const 0) $seven $eight)
      (elem declare func $nine)
      (global $g funcref (ref.func $eight))
      (global $hits (mut i32) (i32.const 0))
      (func $seven (result i32) (i32.const 7))
      (func $eight (result i32) (i32.const 8))
      (func $nine (result i32) (i32.const 9))
      (func $start (global.set $hits (i32.add (global.get $hits) (i32.const 1))))
      (start $start)
      (func (export "viaTable") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))
      (func (export "viaRef") (result i32) (table.set (i32.const 2) (ref.func $nine)) (call_indirect (type $t) (i32.const 2)))
      (func (export "viaGlobal") (result i32) (table.set (i32.const 3) (global.get $g)) (call_indirect (type $t) (i32.const 3)))
      (func (export "imports") (result i32) (i32.add (call $one) (call $two)))
      (func (export "tail") (result i32) (return_call $seven))
      (export "hits" (global $hits))
      (export "nine" (func $nine)))`,
    { tail_call: true },
  );
  const imports = { env: { one: () => 100, two: () => 200 }, ...NO_REFUEL };
  const { instance } = await WebAssembly.instantiate(instrumentFuel(bytes, 1_000_000), imports);
  const e = instance.exports as Record<string, Function> & { hits: WebAssembly.Global };
  (instance.exports[FUEL_EXPORT] as WebAssembly.Global).value = 1_000_000n;
  assert.equal(e.hits.value, 1, 'the start function ran once');
  assert.equal(e.viaTable!(0), 7);
  assert.equal(e.viaTable!(1), 8);
  assert.equal(e.viaRef!(), 9);
  assert.equal(e.viaGlobal!(), 8);
  assert.equal(e.imports!(), 300);
  assert.equal(e.tail!(), 7);
  assert.equal(e.nine!(), 9);
});

test('out of fuel, metered code asks the host: refuel hands out more, 0 asks it to yield, a throw stops it', async () => {
  const bytes = wat('(module (global $n (export "n") (mut i32) (i32.const 0)) (func (export "spin") (param i32) (loop $l (global.set $n (i32.add (global.get $n) (i32.const 1))) (br_if $l (i32.lt_u (global.get $n) (local.get 0))))))');
  const calls: string[] = [];
  let refuels = 0;
  const hooks = {
    [FUEL_HOOKS_MODULE]: {
      refuel(fuel: bigint) {
        calls.push(`refuel(${fuel < 0n ? 'negative' : fuel})`);
        refuels++;
        if (refuels > 3) throw new Error('stopped');
        return refuels === 2 ? 0n : 1000n;
      },
      yield: new WebAssembly.Suspending(async () => {
        calls.push('yield');
        await new Promise((resolve) => setImmediate(resolve));
        return 1000n;
      }) as unknown as Function,
    },
  };
  const { instance } = await WebAssembly.instantiate(instrumentFuel(bytes), hooks);
  const fuel = instance.exports[FUEL_EXPORT] as WebAssembly.Global;
  const spin = WebAssembly.promising(instance.exports.spin as Function);
  fuel.value = 1000n;
  await assert.rejects(spin(1_000_000), /stopped/);
  assert.deepEqual(calls, ['refuel(negative)', 'refuel(negative)', 'yield', 'refuel(negative)', 'refuel(negative)']);
  assert.ok(fuelExhausted(fuel), 'the fuel the code ran out at is in the global when the host stops it');
  const n = (instance.exports.n as WebAssembly.Global).value as number;
  assert.ok(n > 300 && n < 1000, `it ran ${n} iterations of 8 units on 4 slices of 1000 units`);
});
