// Run by test/host/sandbox/retired-generations.test.ts in a child process with --expose-gc:
// hot-swaps the jco-wrapped Rust state store 200 times and prints, as one JSON line, the
// process's RSS after GC once the first swap is done and after the last (in MiB), and the
// value the last generation serves (its data crossed every swap).
//   registry: each generation a new build in the resources folder (its bytes differ, its
//             glue is the same), loaded by the registry on its load worker and swapped in.
//   glue:     each generation with glue of its own (jco's glue and a line naming the build,
//             as a rebuild that changes jco's output gives), started and swapped by hand.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ComponentRegistry } from '../../host/components/registry.ts';
import { LoadWorkers, loadWorkers } from '../../host/components/load-worker.ts';
import { scanResources } from '../../host/components/resources-loader.ts';
import { loadBundledTypes } from '../../host/components/type-catalog.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent, prepareComponent } from '../../host/sandbox/compiled-component.ts';
import { appendComponentCustomSection } from '../../host/sandbox/component-binary.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';
import { tempDir } from './temp-dir.ts';

const SWAPS = 200;
const RUST_COMPONENT = new URL('../../components-wasm/state-memory-rust/state-memory-rust.component.wasm', import.meta.url);
const gc = (globalThis as { gc?: () => void }).gc!;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const setReq = (value: string) => ({ key: 'k', value: utf8(value), concurrency: 'last-write' as const, consistency: 'eventual' as const, metadata: [] });
const getReq = { key: 'k', consistency: 'eventual' as const, metadata: [] };

/**
 * RSS once collection has settled: V8 frees retired wasm code and returns pages on background
 * threads some time after a GC, later on a loaded machine, so collect until RSS stops falling
 * (three rounds in a row within 1 MiB of the lowest seen), at most 40 rounds.
 */
async function rssAfterGc(): Promise<number> {
  let lowest = Infinity;
  let steady = 0;
  for (let i = 0; i < 40 && steady < 3; i++) {
    gc();
    await delay(25);
    const rss = process.memoryUsage().rss / 2 ** 20;
    steady = rss > lowest - 1 ? steady + 1 : 0;
    lowest = Math.min(lowest, rss);
  }
  return lowest;
}

/** Generation 1 loads, then `SWAPS` swaps; `measure` runs after the first swap and after the last. */
async function run(swap: (generation: number) => Promise<string | undefined>, measure: () => Promise<number>): Promise<void> {
  let first = 0;
  let value: string | undefined;
  for (let generation = 1; generation <= SWAPS + 1; generation++) {
    value = await swap(generation);
    if (generation === 2) first = await measure();
  }
  console.log(JSON.stringify({ first, last: await measure(), value }));
}

async function viaRegistry(): Promise<void> {
  const bytes = new Uint8Array(await readFile(RUST_COMPONENT));
  const dir = await tempDir();
  const bundled = await loadBundledTypes();
  const workers = new LoadWorkers({ maxWorkers: 1 });
  const registry = new ComponentRegistry({ logger: silentLogger, workers });
  await run(
    async (generation) => {
      await writeFile(join(dir.path, 'memory.wasm'), appendComponentCustomSection(bytes, 'build', utf8(String(generation))));
      await registry.apply(await scanResources([dir.path], bundled, 'app'));
      const store = registry.getStateStore('memory')!.store;
      const before = await store.get(getReq);
      await store.set(setReq(`written by generation ${generation}`));
      return before && new TextDecoder().decode(before.value);
    },
    // Idle load workers stop by themselves after a while: the sidecar at rest has none (the
    // shared pool's too, which read the catalog of bundled types).
    async () => (await Promise.all([workers.close(), loadWorkers.close()]), rssAfterGc()),
  );
  await registry.close();
  await dir.remove();
}

async function withOwnGlue(): Promise<void> {
  const prepared = await prepareComponent(new Uint8Array(await readFile(RUST_COMPONENT)));
  const posted = prepared.code;
  if (posted.format !== 'component-model') throw new Error('not a Component Model component');
  let live: LiveComponent | undefined;
  await run(async (generation) => {
    const code = { ...posted, glue: `${posted.glue}\n// build ${generation}\n` };
    const next = await LiveComponent.start(CompiledComponent.fromPrepared({ ...prepared, code }), { name: 'memory', config: new Map(), logger: silentLogger });
    if (live !== undefined) {
      await next.restore((await live.snapshot())!);
      await live.close();
    }
    live = next;
    const store = adaptStateStore(live);
    const before = await store.get(getReq as never);
    await store.set(setReq(`written by generation ${generation}`) as never);
    return before && new TextDecoder().decode(before.value);
  }, rssAfterGc);
  await live?.close();
}

await (process.argv[2] === 'glue' ? withOwnGlue() : viaRegistry());
