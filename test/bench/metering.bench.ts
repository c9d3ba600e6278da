// Benchmark: what CPU metering costs. The same compute-heavy module runs metered and
// unmetered in one process, interleaved, best of several rounds; plus the time to meter the
// bundled state-memory component at load.
import { readFile } from 'node:fs/promises';
import { FUEL_EXPORT, FUEL_HOOKS_MODULE, instrumentFuel } from '../../host/sandbox/metering.ts';
import { wat } from '../support/wat.ts';

const STATE_MEMORY = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);

/**
 * - `mix`: murmur3-style mixing, a loop of 27 instructions (multiplies, rotates, xors): the
 *   compute-heavy case the metering targets (at most 25% overhead).
 * - `sum`: a 12-instruction loop that V8 runs in about one cycle an iteration; the worst case
 *   for a charge at every loop header.
 * - `fib`: naive recursion, a call every few instructions; the worst case for the charge at
 *   function entry.
 */
const WORKLOADS = wat(`(module
  (func (export "mix") (param $n i32) (result i32) (local $i i32) (local $h i32) (local $k i32)
    (local.set $h (i32.const 0x811c9dc5))
    (loop $l
      (local.set $k (i32.mul (i32.rotl (i32.mul (local.get $i) (i32.const 0xcc9e2d51)) (i32.const 15)) (i32.const 0x1b873593)))
      (local.set $h (i32.xor (local.get $h) (local.get $k)))
      (local.set $h (i32.add (i32.mul (i32.rotl (local.get $h) (i32.const 13)) (i32.const 5)) (i32.const 0xe6546b64)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $h))
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $i))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i32.wrap_i64 (local.get $s)))
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2))))))))`);

/** Each case runs 100 ms or more: thread CPU time is only steady over intervals that long. */
const CASES: [name: string, arg: number, warmup: number][] = [
  ['mix', 200_000_000, 2_000_000],
  ['sum', 600_000_000, 2_000_000],
  ['fib', 38, 25],
];

/** CPU time of this thread in ms: steadier than wall time on a shared machine. */
function cpuMs(run: () => unknown): number {
  const start = process.threadCpuUsage();
  run();
  const used = process.threadCpuUsage(start);
  return (used.user + used.system) / 1000;
}

export async function meteringBench(rounds = 5): Promise<string[]> {
  const plain = (await WebAssembly.instantiate(WORKLOADS)).instance.exports as Record<string, (n: number) => number>;
  // The budget below never runs out, so the hooks are never called.
  const outOfFuel = (): never => {
    throw new Error('the benchmark ran out of fuel');
  };
  const meteredInstance = (await WebAssembly.instantiate(instrumentFuel(WORKLOADS), { [FUEL_HOOKS_MODULE]: { refuel: outOfFuel, yield: outOfFuel } })).instance;
  const metered = meteredInstance.exports as Record<string, (n: number) => number>;
  const fuel = meteredInstance.exports[FUEL_EXPORT] as WebAssembly.Global;
  const budget = 1n << 62n;

  const lines = [`(m) CPU metering: same module unmetered vs metered, thread CPU time, best of ${rounds} rounds:`, '    case |   plain ms | metered ms | overhead |   fuel used | fuel/µs'];
  for (const [name, arg, warmup] of CASES) {
    // Enough calls for V8 to move both versions to its optimising tier before timing.
    for (let i = 0; i < 5; i++) {
      fuel.value = budget;
      if (plain[name]!(warmup) !== metered[name]!(warmup)) throw new Error(`${name} differs metered`);
    }
    let best = [Infinity, Infinity];
    let used = 0n;
    for (let round = 0; round < rounds; round++) {
      const p = cpuMs(() => plain[name]!(arg));
      fuel.value = budget;
      const m = cpuMs(() => metered[name]!(arg));
      used = budget - (fuel.value as bigint);
      best = [Math.min(best[0]!, p), Math.min(best[1]!, m)];
    }
    const [p, m] = best as [number, number];
    lines.push(
      `    ${name.padEnd(4)} | ${p.toFixed(1).padStart(10)} | ${m.toFixed(1).padStart(10)} | ${`${(((m - p) / p) * 100).toFixed(1)}%`.padStart(8)} | ${used.toString().padStart(11)} | ${(Number(used) / m / 1000).toFixed(0).padStart(7)}`,
    );
  }

  const component = new Uint8Array(await readFile(STATE_MEMORY));
  const meterMs = Array.from({ length: 20 }, () => {
    const start = performance.now();
    instrumentFuel(component);
    return performance.now() - start;
  });
  lines.push(`    metering state-memory.wasm (${(component.length / 1024).toFixed(0)} KiB) at load: ${meterMs[0]!.toFixed(1)} ms cold, ${Math.min(...meterMs).toFixed(1)} ms warm`);
  lines.push('    target: mix overhead <= 25%; sum and fib are the worst cases (tight loop, call-bound)');
  return lines;
}
