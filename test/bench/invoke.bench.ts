// Benchmark: service invocation. An app calls another through two real `tessera run` sidecars
// (caller sidecar -> internal gRPC -> callee sidecar -> callee app), beside the same call made
// directly to the callee app, in the same run: the latency the two sidecars add at 1000 req/s
// with 1 KB bodies (p50/p90/p99, open loop; Dapr publishes +1.40 ms p90 and +2.10 ms p99 for
// this case), and requests per second at saturation. Alternating rounds, medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { load, median } from './bench-support.ts';

const run = promisify(execFile);
const ECHO_APP = fileURLToPath(new URL('./invoke-echo-app.ts', import.meta.url));
const RATE_CLIENT = fileURLToPath(new URL('./rate-load-client.ts', import.meta.url));
const BODY_BYTES = 1024;

export interface InvokeBenchOptions {
  /** Seconds of each fixed-rate run. */
  seconds: number;
  /** Requests per second of the fixed-rate runs: Dapr's 1000, and lower ones, below where a loaded machine saturates. */
  rates: number[];
  /** Connections of the saturation runs. */
  connections: number;
  rounds: number;
}

interface Latency {
  p50: number;
  p90: number;
  p99: number;
  errors: number;
}

async function rateLoad(url: string, rate: number, seconds: number): Promise<Latency> {
  const { stdout } = await run(process.execPath, [RATE_CLIENT, url, String(rate), String(seconds), String(BODY_BYTES)], { timeout: (seconds + 60) * 1000 });
  return JSON.parse(stdout) as Latency;
}

export async function invokeBench(options: InvokeBenchOptions): Promise<string[]> {
  const registry = mkdtempSync(join(tmpdir(), 'tessera-invoke-bench-'));
  const app = spawn(process.execPath, [ECHO_APP], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sidecars: SidecarProcess[] = [];
  try {
    const [portLine] = await createInterface({ input: app.stdout! })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
    const appPort = Number(portLine);
    const env = { TESSERA_NAME_REGISTRY: registry };
    const callee = await startSidecar({ appId: 'callee', args: ['--app-port', String(appPort)], env, startTimeoutMs: 30_000 });
    sidecars.push(callee);
    const caller = await startSidecar({ appId: 'caller', env, startTimeoutMs: 30_000 });
    sidecars.push(caller);
    const direct = `http://127.0.0.1:${appPort}/echo`;
    const invoked = `${caller.url}/v1.0/invoke/callee/method/echo`;
    await pollUntil('the callee to be reachable', async () => ((await fetch(invoked, { method: 'POST', body: 'x' })).status === 200 ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
    // Warm both paths (JIT, connections).
    await rateLoad(invoked, options.rates[0]!, 2);
    await rateLoad(direct, options.rates[0]!, 1);

    const lines = [`(i) service invocation, app -> caller sidecar -> internal gRPC -> callee sidecar -> app vs the app called directly, ${options.rounds} alternating rounds, medians:`];
    for (const rate of options.rates) {
      const lat: Record<'direct' | 'invoked', Latency[]> = { direct: [], invoked: [] };
      for (let round = 0; round < options.rounds; round++) {
        lat.direct.push(await rateLoad(direct, rate, options.seconds));
        lat.invoked.push(await rateLoad(invoked, rate, options.seconds));
      }
      const pick = (which: 'direct' | 'invoked', p: 'p50' | 'p90' | 'p99'): number => median(lat[which].map((l) => l[p]));
      const added = (p: 'p50' | 'p90' | 'p99'): string => `${p} ${pick('direct', p).toFixed(2)} -> ${pick('invoked', p).toFixed(2)} ms (+${(pick('invoked', p) - pick('direct', p)).toFixed(2)})`;
      const errors = [...lat.direct, ...lat.invoked].reduce((sum, l) => sum + l.errors, 0);
      lines.push(`    latency at ${rate} req/s, ${BODY_BYTES} B bodies, open loop, ${options.seconds}s each: ${added('p50')}, ${added('p90')}, ${added('p99')}; errors ${errors} (Dapr publishes +1.40 ms p90, +2.10 ms p99 at 1000 req/s)`);
    }
    const rps: Record<'direct' | 'invoked', number[]> = { direct: [], invoked: [] };
    const body = 'x'.repeat(BODY_BYTES);
    for (let round = 0; round < options.rounds; round++) {
      rps.direct.push((await load(direct, 'POST', body, options.seconds, options.connections)).rps);
      rps.invoked.push((await load(invoked, 'POST', body, options.seconds, options.connections)).rps);
    }
    const ratios = rps.invoked.map((r, i) => r / rps.direct[i]!);
    lines.push(
      `    saturation, ${options.connections} connections: direct ${median(rps.direct).toFixed(0)} req/s, through two sidecars ${median(rps.invoked).toFixed(0)} req/s: ${median(ratios).toFixed(2)}x (rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')}); load average ${loadavg()[0]!.toFixed(1)}`,
    );
    return lines;
  } finally {
    await Promise.all(sidecars.map((sidecar) => sidecar.stop()));
    app.kill();
    rmSync(registry, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await invokeBench({ seconds: 5, rates: [200, 1000], connections: 10, rounds: 3 })).join('\n'));
