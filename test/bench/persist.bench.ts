// tessera.dev/persist on a full store: state.memory filled to 90% of a 64 MiB memory limit;
// its snapshot alone (what a hot swap hands over) beside the snapshot written to a file
// (snapshot-file.ts: chunked async writes, fsync, rename), alternated, with the longest the
// event loop was held meanwhile; then reading the file back and restoring it into a fresh
// instance (a start). Medians.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readSnapshotFile, writeSnapshotFile } from '../../host/components/snapshot-file.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { dataTarget, fillStateStore, sizeOf } from '../support/snapshot-fill.ts';
import { percentile } from './bench-support.ts';

const MODULE = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);
const LIMIT = 64 * 1024 * 1024;

/** How long `work` takes, and the longest the event loop waited meanwhile (ms). */
async function timed(work: () => Promise<unknown>): Promise<{ ms: number; heldMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  delay.disable();
  return { ms, heldMs: delay.max / 1e6 };
}

export async function persistBench(rounds: number): Promise<string[]> {
  const wasm = new Uint8Array(await readFile(MODULE));
  const compiled = await CompiledComponent.compile(wasm, { memoryLimitBytes: LIMIT });
  const start = (): Promise<LiveComponent> => LiveComponent.start(compiled, { name: 'bench', config: new Map(), logger: silentLogger });
  const live = await start();
  await fillStateStore(live, dataTarget(wasm, LIMIT));
  const dir = await mkdtemp(join(tmpdir(), 'tessera-persist-bench-'));
  const path = join(dir, 'store.snap');
  const snap: { ms: number; heldMs: number }[] = [];
  const write: { ms: number; heldMs: number }[] = [];
  const read: number[] = [];
  const restore: number[] = [];
  let bytes = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      snap.push(await timed(() => live.snapshot()));
      write.push(
        await timed(async () => {
          const data = (await live.snapshot())!;
          bytes = sizeOf(data);
          await writeSnapshotFile(path, 'state.memory', data);
        }),
      );
      let started = performance.now();
      const data = (await readSnapshotFile(path, 'state.memory', 2 * LIMIT))!;
      read.push(performance.now() - started);
      const fresh = await start();
      started = performance.now();
      await fresh.restore(data);
      restore.push(performance.now() - started);
      await fresh.close();
    }
  } finally {
    await live.close();
    await rm(dir, { recursive: true, force: true });
  }
  const p50 = (xs: number[]): string => percentile(xs, 50).toFixed(0);
  return [
    `tessera.dev/persist: state.memory holding ${(bytes / 1e6).toFixed(0)} MB (90% of a 64 MiB limit), ${rounds} alternating rounds, medians:`,
    `    snapshot alone ${p50(snap.map((s) => s.ms))} ms (event loop held at most ${p50(snap.map((s) => s.heldMs))} ms); snapshot + file write (fsync, rename) ${p50(write.map((s) => s.ms))} ms (held at most ${p50(write.map((s) => s.heldMs))} ms)`,
    `    at start: read + check the file ${p50(read)} ms, restore ${p50(restore)} ms`,
  ];
}
