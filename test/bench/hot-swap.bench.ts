// Hot swap under load: GET and POST load on `statestore` while its module (padded to
// 100 KB, a different build each time) is written over the running one, half the time in
// place and half renamed into place. Reports failed requests, p99 with and without swaps,
// the time from the file write to the new generation serving and how it splits (the
// registry's log of each swap), and whether seeded keys and their ETags survived.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createLogger } from '../../host/observability/logger.ts';
import { appendCustomSection } from '../../host/sandbox/wasm-binary.ts';
import { benchSidecar, load, percentile, type Load } from './bench-support.ts';

const MODULE = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);
const TARGET_BYTES = 100 * 1024;

/** state.memory padded to 100 KB, with a build number so every write is new bytes. */
function build(base: Uint8Array, n: number): Uint8Array {
  const stamped = appendCustomSection(base, 'tessera:build', new TextEncoder().encode(String(n)));
  const padding = Math.max(0, TARGET_BYTES - stamped.length - 32);
  return appendCustomSection(stamped, 'tessera:padding', new Uint8Array(padding));
}

export interface HotSwapOptions {
  swaps: number;
  /** Clients reading `seed-1` in a loop. */
  readers: number;
  /** Clients writing `hot` in a loop (0: none). */
  writers: number;
}

export async function hotSwapBench(options: HotSwapOptions): Promise<string[]> {
  const base = new Uint8Array(await readFile(MODULE));
  // Each swap's log line: from the scan's plan to the new generation started, then the handover of the data.
  const phases: { startMs: number; handoverMs: number; preparedWithRead: boolean }[] = [];
  const logger = createLogger({
    level: 'info',
    json: true,
    write: (line) => {
      const entry = JSON.parse(line) as { msg: string; startMs?: number; handoverMs?: number; preparedWithRead?: boolean };
      if (entry.msg.includes('swapped to generation') && entry.startMs !== undefined) phases.push({ startMs: entry.startMs, handoverMs: entry.handoverMs ?? 0, preparedWithRead: entry.preparedWithRead === true });
    },
  });
  const side = await benchSidecar((dir) => writeFile(join(dir, 'statestore.wasm'), build(base, 0)), logger);
  const file = join(side.dir, 'statestore.wasm');
  const url = `${side.url}/v1.0/state/statestore`;
  const generation = (): number => side.sidecar.registry.generations('statestore').current.generation;
  try {
    const seeded = Array.from({ length: 1000 }, (_, i) => ({ key: `seed-${i}`, value: { i } }));
    await fetch(url, { method: 'POST', body: JSON.stringify(seeded) });
    const etags = new Map<string, string>();
    for (const { key } of seeded) etags.set(key, (await fetch(`${url}/${key}`)).headers.get('etag') ?? '');

    const body = JSON.stringify([{ key: 'hot', value: { n: 1 } }]);
    const seconds = Math.ceil((options.swaps * 90) / 1000) + 1;
    const none: Load = { rps: 0, p50: 0, p99: 0, errors: 0, total: 0 };
    const both = (): Promise<[Load, Load]> =>
      Promise.all([
        load(`${url}/seed-1`, 'GET', '', seconds, options.readers),
        options.writers > 0 ? load(url, 'POST', body, seconds, options.writers) : Promise.resolve(none),
      ]);

    const quiet = await both();
    const loaded = both();
    await delay(500);
    const latencies: number[] = [];
    for (let n = 1; n <= options.swaps; n++) {
      const before = generation();
      const bytes = build(base, n);
      const started = performance.now();
      if (n % 2 === 0) await writeFile(file, bytes);
      else {
        await writeFile(`${file}.tmp`, bytes);
        await rename(`${file}.tmp`, file);
      }
      while (generation() === before) {
        if (performance.now() - started > 5000) throw new Error(`swap ${n} did not happen within 5 s`);
        await delay(1);
      }
      latencies.push(performance.now() - started);
      await delay(30);
    }
    const swapping = await loaded;

    let kept = 0;
    for (const [key, etag] of etags) {
      const res = await fetch(`${url}/${key}`);
      if (res.status === 200 && res.headers.get('etag') === etag) kept++;
    }
    const starts = phases.map((p) => p.startMs);
    const handovers = phases.map((p) => p.handoverMs);
    const row = (name: string, [get, post]: [Load, Load]): string =>
      `    ${name.padEnd(13)} | ${String(get.total + post.total).padStart(8)} | ${String(get.errors + post.errors).padStart(6)} | ${String(get.p99).padStart(10)} | ${String(post.p99).padStart(11)}`;
    return [
      `Hot swap under load: ${options.swaps} swaps of a ${(TARGET_BYTES / 1024).toFixed(0)} KB state.memory, ${options.readers} GET + ${options.writers} POST connections:`,
      '    phase         | requests | failed | GET p99 ms | POST p99 ms',
      row('without swaps', quiet),
      row('during swaps', swapping),
      `    file write -> new generation serving: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (target p99 < 30 ms)`,
      // The first swap comes after the quiet phase, long enough for the idle load worker to stop: it pays a worker's start.
      `      the first swap after ${seconds} s without one (a load worker starts): ${latencies[0]!.toFixed(1)} ms; the ${latencies.length - 1} after it: p50 ${percentile(latencies.slice(1), 50).toFixed(1)} ms, p99 ${percentile(latencies.slice(1), 99).toFixed(1)} ms`,
      `      of which plan -> started (prepare unless done with the read, instantiate, init): p50 ${percentile(starts, 50)} ms, p99 ${percentile(starts, 99)} ms; handover of the data: p50 ${percentile(handovers, 50)} ms, p99 ${percentile(handovers, 99)} ms; prepared with the read: ${phases.filter((p) => p.preparedWithRead).length}/${phases.length}`,
      `    seeded keys with unchanged ETags after ${options.swaps} swaps: ${kept}/${etags.size}`,
    ];
  } finally {
    await side.stop();
  }
}
