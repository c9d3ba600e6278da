// The metering's hot-path shapes: small functions paid for at their call sites
// (metering-fold.ts) and loops whose refuel is out of the loop (metering-plan.ts). They must
// charge what the plain scheme charges, stop what it stops, and compute what the module does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUEL_EXPORT, FUEL_HOOKS_MODULE, fuelExhausted, instrumentFuel } from '../../../host/sandbox/metering.ts';
import { wat } from '../../support/wat.ts';

const STOP = {
  [FUEL_HOOKS_MODULE]: {
    refuel() {
      throw new WebAssembly.RuntimeError('out of fuel');
    },
    yield() {
      throw new WebAssembly.RuntimeError('out of fuel');
    },
  },
};

async function metered(bytes: Uint8Array) {
  const { instance } = await WebAssembly.instantiate(instrumentFuel(bytes), STOP);
  const fuel = instance.exports[FUEL_EXPORT] as WebAssembly.Global;
  const exports = instance.exports as Record<string, (...a: number[]) => number>;
  return {
    exports,
    fuel,
    used(name: string, ...args: number[]): bigint {
      fuel.value = 1n << 40n;
      exports[name]!(...args);
      return (1n << 40n) - (fuel.value as bigint);
    },
    exhausts(name: string, budget: bigint, ...args: number[]): void {
      fuel.value = budget;
      assert.throws(() => exports[name]!(...args), /out of fuel/);
      assert.ok(fuelExhausted(fuel));
    },
  };
}

/** A helper of 6 instructions called once an iteration; `exported` makes it an entry point (charged at its own entry). */
const helperLoop = (exported: boolean): Uint8Array =>
  wat(`(module (global $g (mut i32) (i32.const 0))
    (func $h ${exported ? '(export "h")' : ''} (param $x i32)
      (global.set $g (i32.add (global.get $g) (i32.mul (local.get $x) (i32.const 3)))))
    (func (export "run") (param $n i32)
      (loop $l
        (call $h (local.get $n))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
    (func (export "g") (result i32) (global.get $g)))`);

test('a small function is paid for at its call exactly as it would pay at its own entry', async () => {
  const folded = await metered(helperLoop(false));
  const entryCharged = await metered(helperLoop(true));
  const perIteration = (m: Awaited<ReturnType<typeof metered>>): bigint => (m.used('run', 2000) - m.used('run', 1000)) / 1000n;
  assert.equal(perIteration(folded), perIteration(entryCharged));
  // 6 for the helper (global.get, local.get, i32.const, i32.mul, i32.add, global.set) and 7 for the loop.
  assert.equal(perIteration(folded), 13n);
  // Both ran `run` over the same counts the same number of times: the helper did its work.
  assert.equal(folded.exports.g!(), 2 * entryCharged.exports.g!());
  assert.equal(entryCharged.exports.g!(), 3 * ((2000 * 2001) / 2 + (1000 * 1001) / 2));
  folded.exhausts('run', 10_000n, 1e9);
});

test('a switch in a loop pays for the case that runs, not for every case it could take', async () => {
  const body = (n: number): string => Array.from({ length: n }, () => '(global.set $g (i32.add (global.get $g) (i32.const 1)))').join(' ');
  const switchLoop = wat(`(module (global $g (mut i32) (i32.const 0))
    (func $a ${body(100)}) (func $b ${body(100)}) (func $c ${body(100)})
    (func (export "run") (param $n i32)
      (loop $l
        (block $done (block $cc (block $bb (block $aa
          (br_table $aa $bb $cc (i32.rem_u (local.get $n) (i32.const 3))))
          (call $a) (br $done))
          (call $b) (br $done))
          (call $c))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`);
  const m = await metered(switchLoop);
  const perIteration = (m.used('run', 3000) - m.used('run', 1500)) / 1500n;
  // Each helper is 400 units (100 x 4 instructions); all three would be 1200.
  assert.ok(perIteration >= 400n && perIteration < 450n, `${perIteration} units an iteration`);
});

test('recursion through small functions without loops still runs out of fuel', async () => {
  const mutual = wat(`(module
    (func $a (export "a") (param $n i32) (call $b (i32.add (local.get $n) (i32.const 1))))
    (func $b (param $n i32) (call $c (local.get $n)))
    (func $c (param $n i32) (call $a (local.get $n))))`);
  const m = await metered(mutual);
  m.exhausts('a', 1000n, 0);
  const viaTable = wat(`(module (type $t (func))
    (table 1 funcref) (elem (i32.const 0) $f)
    (func $f (call_indirect (type $t) (i32.const 0)))
    (func (export "run") (call $f)))`);
  (await metered(viaTable)).exhausts('run', 1000n);
});

test('loops with results, nested loops and branches out of them compute the same metered', async () => {
  const nested = wat(`(module
    ;; a loop that yields a value, leaving the function from inside two loops
    (func (export "find") (param $n i32) (result i32) (local $i i32) (local $j i32)
      (loop $outer (result i32)
        (local.set $j (i32.const 0))
        (loop $inner
          (if (i32.eq (i32.mul (local.get $i) (local.get $j)) (local.get $n)) (then (return (i32.add (i32.mul (local.get $i) (i32.const 1000)) (local.get $j)))))
          (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 50))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $outer (i32.lt_u (local.get $i) (i32.const 50)))
        (i32.const -1)))
    ;; a br_table whose targets are inside the loop, the loop itself and outside it
    (func (export "walk") (param $n i32) (result i32) (local $acc i32)
      (block $out
        (loop $l
          (block $skip
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br_table $skip $l $out (i32.rem_u (local.get $n) (i32.const 3))))
          (local.set $acc (i32.add (local.get $acc) (local.get $n)))
          (br_if $l (local.get $n))))
      (local.get $acc)))`);
  const plain = (await WebAssembly.instantiate(nested)).instance.exports as Record<string, (n: number) => number>;
  const m = await metered(nested);
  for (const n of [0, 7, 12, 49 * 49, 2401, 5000]) {
    m.fuel.value = 1n << 40n;
    assert.equal(m.exports.find!(n), plain.find!(n), `find(${n})`);
  }
  for (const n of [1, 2, 3, 10, 99, 1000]) {
    m.fuel.value = 1n << 40n;
    assert.equal(m.exports.walk!(n), plain.walk!(n), `walk(${n})`);
  }
  m.exhausts('find', 500n, 2400);
});
