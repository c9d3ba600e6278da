// Wake from hibernation: state.memory holding some keys gives up its instance (snapshot
// kept), and the next get boots a fresh instance, restores the snapshot and answers.
import { readFile } from 'node:fs/promises';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';
import { percentile } from './bench-support.ts';

const MODULE = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);

export async function hibernationBench(rounds: number, keys: number): Promise<string[]> {
  const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(MODULE)));
  const live = await LiveComponent.start(compiled, { name: 'bench', config: new Map(), logger: silentLogger });
  const store = adaptStateStore(live);
  const value = new TextEncoder().encode(JSON.stringify({ payload: 'x'.repeat(80) }));
  for (let i = 0; i < keys; i++) await store.set({ key: `k${i}`, value, concurrency: 'last-write', consistency: 'eventual', metadata: [] });
  const wakes: number[] = [];
  const hot: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await live.hibernate();
    let started = performance.now();
    await store.get({ key: `k${r % keys}`, consistency: 'eventual', metadata: [] });
    wakes.push(performance.now() - started);
    started = performance.now();
    await store.get({ key: `k${r % keys}`, consistency: 'eventual', metadata: [] });
    hot.push(performance.now() - started);
  }
  await live.close();
  return [
    `Wake from hibernation: state.memory with ${keys} keys of ~90 bytes, ${rounds} rounds (hibernate, then time the first get):`,
    `    wake + get: p50 ${percentile(wakes, 50).toFixed(2)} ms, p99 ${percentile(wakes, 99).toFixed(2)} ms (target < 5 ms); a warm get: p50 ${(percentile(hot, 50) * 1000).toFixed(0)} µs`,
  ];
}
