// Shared pieces of the benchmarks: autocannon in a child process, a sidecar over a temporary
// resources folder, and small statistics.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { silentLogger, type Logger } from '../../host/observability/logger.ts';
import { Sidecar, type SidecarOptions } from '../../host/sidecar.ts';

// As `tessera run` has it (host/cli/tessera.ts): the module compile cache on, so a load
// worker that starts mid-run (after its idle stop, at a hot swap) finds the host's code
// stripped and compiled on disk instead of stripping it again (about 100 ms of its start).
module.enableCompileCache();

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));

export interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  total: number;
}

/** One autocannon run from a child process, so it does not share the servers' event loop. */
export async function load(url: string, method: 'GET' | 'POST', body: string, seconds: number, connections: number): Promise<Load> {
  const { stdout } = await run(process.execPath, [CLIENT, url, method, body, String(seconds), String(connections)], { timeout: (seconds + 30) * 1000 });
  return JSON.parse(stdout) as Load;
}

export interface BenchSidecar {
  sidecar: Sidecar;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * A sidecar in this process over a fresh resources folder that `prepare` fills; its logs go
 * to `logger` (none by default); `extra` sets more options (`grpcPort: 0` serves the gRPC API).
 */
export async function benchSidecar(prepare: (dir: string) => Promise<void>, logger: Logger = silentLogger, extra: Partial<SidecarOptions> = {}): Promise<BenchSidecar> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
  await prepare(dir);
  const sidecar = await Sidecar.start({
    appId: 'bench',
    httpPort: 0,
    listenAddress: '127.0.0.1',
    resourcesPaths: [dir],
    maxBodyBytes: 4 * 1024 * 1024,
    logger,
    ...extra,
  });
  // The API listens first; the benchmarks call the components at once.
  await sidecar.loaded;
  return {
    sidecar,
    url: `http://127.0.0.1:${sidecar.port}`,
    dir,
    stop: async () => {
      await sidecar.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Microseconds per call of `once`, over `calls` calls in a row. */
export async function perCallUs(calls: number, once: (i: number) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await once(i);
  return Number(process.hrtime.bigint() - start) / 1000 / calls;
}

/**
 * The median microseconds per call of each loop, by name: a warm-up (JIT, wasm tier-up,
 * connections), then `rounds` rounds that each run every loop `calls` times in turn, so a
 * slower stretch of a noisy machine falls on all of them alike.
 */
export async function alternatingMedians(loops: Record<string, (i: number) => Promise<unknown>>, calls: number, rounds: number): Promise<(name: string) => number> {
  for (const loop of Object.values(loops)) await perCallUs(Math.min(calls, 500), loop);
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(loops).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, loop] of Object.entries(loops)) times[name]!.push(await perCallUs(calls, loop));
  }
  return (name) => median(times[name]!);
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const STATESTORE_YAML = 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.memory\n  version: v1\n';
