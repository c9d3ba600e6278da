// Benchmark (#9): a state store whose `get` awaits `sleep` for 10 ms, with 16 clients calling
// it in a loop: requests per second pooled (max-instances 8) against one instance, and how
// long one burst of 16 concurrent gets takes. In-process, through the whole sandbox.
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import type { GuestComponent } from '../../host/sandbox/guest-component.ts';
import { startGuest } from '../../host/sandbox/start-guest.ts';
import { hostImportWat, stateStoreModule } from '../support/state-store-wat.ts';

const SLEEP_MS = 10;
const CLIENTS = 16;

const sleeper = stateStoreModule({
  manifest: { capabilities: ['sleep'] },
  imports: [hostImportWat('sleep', 'sleep-ms').replace('(func', '(func $sleep')],
  bodies: { get: `(call $sleep (i32.const ${SLEEP_MS})) (i32.const 16)` },
});
const getArgs = [{ key: 'k', consistency: 'eventual', metadata: [] }];

async function rps(guest: GuestComponent, seconds: number): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < until) {
        await guest.call('get', getArgs);
        done++;
      }
    }),
  );
  return done / seconds;
}

async function burstMs(guest: GuestComponent): Promise<number> {
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, () => guest.call('get', getArgs)));
  return performance.now() - start;
}

export async function instancePoolBench(seconds = 3): Promise<string[]> {
  const compiled = await CompiledComponent.compile(sleeper, { source: 'sleeper.wasm' });
  const start = (max: number) => startGuest(compiled, { name: `pool-${max}`, config: new Map(), logger: silentLogger }, 'inline', max);
  const pooled = await start(8);
  const single = await start(1);
  // Warm both (the pool starts its instances on the first overlapping calls).
  await burstMs(pooled);
  await burstMs(single);
  const bursts = { pooled: [] as number[], single: [] as number[] };
  for (let i = 0; i < 5; i++) {
    bursts.pooled.push(await burstMs(pooled));
    bursts.single.push(await burstMs(single));
  }
  const pooledRps = await rps(pooled, seconds);
  const singleRps = await rps(single, seconds);
  await Promise.all([pooled.close(), single.close()]);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return [
    `Instance pool (#9): a store whose get sleeps ${SLEEP_MS} ms, ${CLIENTS} clients in a loop for ${seconds} s each, in-process:`,
    '    instances | req/s  | one burst of 16 gets (median of 5)',
    `    8 (pool)  | ${pooledRps.toFixed(0).padStart(6)} | ${median(bursts.pooled).toFixed(1)} ms`,
    `    1         | ${singleRps.toFixed(0).padStart(6)} | ${median(bursts.single).toFixed(1)} ms`,
    `    pooled / one instance: ${(pooledRps / singleRps).toFixed(1)}x (target: at least 6x)`,
  ];
}
