// Benchmark: state.memory in each language, and the Component Model path against the
// core-module path. get and set through the whole sandbox (StateStore binding, LiveComponent,
// then either the host's canonical ABI or jco's glue) on the AssemblyScript, C++ and Rust
// builds as core modules, the Rust one wrapped as a component, and state.memory in
// JavaScript (componentize-js), side by side in one run; plus what loading costs.
import { readFile } from 'node:fs/promises';
import type { GetRequest, SetRequest, StateStore } from '../../abi/ts/state.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { appendComponentCustomSection } from '../../host/sandbox/component-binary.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';

const FILES = {
  'AssemblyScript, core module': new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url),
  'C++, core module': new URL('../../components-wasm/state-memory-cpp/state-memory-cpp.wasm', import.meta.url),
  'Rust, core module': new URL('../../components-wasm/state-memory-rust/state-memory-rust.wasm', import.meta.url),
  'Rust, component (jco)': new URL('../../components-wasm/state-memory-rust/state-memory-rust.component.wasm', import.meta.url),
  'JavaScript, component': new URL('../../components-wasm/state-memory-js/state-memory-js.wasm', import.meta.url),
};

/** ns per op of the best of `rounds`, each running `op` for about `roundMs` after a warm-up. */
async function nsPerOp(op: (i: number) => Promise<unknown>, roundMs: number, rounds = 3): Promise<number> {
  let i = 0;
  const warmUntil = performance.now() + roundMs;
  while (performance.now() < warmUntil) await op(i++);
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const until = performance.now() + roundMs;
    while (performance.now() < until) {
      for (let k = 0; k < 64; k++, n++) await op(i++);
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n);
  }
  return best;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await f();
  return [value, performance.now() - start];
}

export async function componentModelBench(roundMs = 400): Promise<string[]> {
  const keys = Array.from({ length: 1000 }, (_, i) => `bench||key-${i}`);
  const value = new TextEncoder().encode('{"name":"tessera","n":42}');
  const setReq = (i: number): SetRequest => ({ key: keys[i % 1000]!, value, concurrency: 'last-write', consistency: 'eventual', metadata: [] });
  const getReq = (i: number): GetRequest => ({ key: keys[i % 1000]!, consistency: 'eventual', metadata: [] });

  const loads: string[] = [];
  const rows: string[] = [];
  for (const [label, url] of Object.entries(FILES)) {
    const bytes = new Uint8Array(await readFile(url));
    // A JavaScript engine inside needs far more fuel per call than the default budget.
    const options = label.startsWith('JavaScript') ? { cpuBudget: 200_000_000 } : {};
    const [compiled, firstMs] = await timed(() => CompiledComponent.compile(bytes, options));
    if (compiled.code.format === 'component-model') {
      // Other bytes (one more custom section), so the transpile cache misses while jco is warm.
      const other = appendComponentCustomSection(bytes, 'bench-nonce', Uint8Array.of(1));
      const [, warmMs] = await timed(() => CompiledComponent.compile(other, options));
      const [, cachedMs] = await timed(() => CompiledComponent.compile(bytes, options));
      const [, unmeteredMs] = await timed(() => CompiledComponent.compile(appendComponentCustomSection(bytes, 'bench-nonce', Uint8Array.of(2)), { cpuBudget: 0 }));
      loads.push(
        `    ${label.padEnd(22)} | ${(bytes.length / 1024).toFixed(0).padStart(7)} KB | first ${firstMs.toFixed(0).padStart(5)} ms | ` +
          `new bytes ${warmMs.toFixed(0).padStart(5)} ms (unmetered ${unmeteredMs.toFixed(0)} ms) | cached ${cachedMs.toFixed(0).padStart(4)} ms`,
      );
    } else {
      loads.push(`    ${label.padEnd(22)} | ${(bytes.length / 1024).toFixed(0).padStart(7)} KB | compile ${firstMs.toFixed(0).padStart(5)} ms (no transpile)`);
    }
    const live = await LiveComponent.start(compiled, { name: 'bench', config: new Map(), logger: silentLogger });
    const store: StateStore = adaptStateStore(live);
    const set = await nsPerOp((i) => store.set(setReq(i)), roundMs);
    const get = await nsPerOp((i) => store.get(getReq(i)), roundMs);
    await live.close();
    rows.push(`    ${label.padEnd(22)} | ${get.toFixed(0).padStart(10)} | ${set.toFixed(0).padStart(10)}`);
  }
  return [
    `(component model) state.memory through the sandbox: core module vs Component Model (jco), best of 3 rounds of ~${roundMs} ms:`,
    '    form                   | get ns/op  | set ns/op',
    ...rows,
    '  loading (CompiledComponent.compile): first in this process (jco cold), other bytes (jco warm), same bytes (transpile cached):',
    ...loads,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await componentModelBench()) console.log(line);
}
