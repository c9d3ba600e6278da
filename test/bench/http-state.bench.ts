// Benchmark (a): state GET and POST through the whole sidecar (HTTP API, state building
// block, sandbox, wasm state.memory) against a bare fastify route over a JS Map, both in
// this process, loaded alternately by autocannon from a child process.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { silentLogger } from '../../host/observability/logger.ts';
import { Sidecar } from '../../host/sidecar.ts';

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  total: number;
}

async function load(url: string, method: 'GET' | 'POST', body: string, seconds: number, connections: number): Promise<Load> {
  const { stdout } = await run(process.execPath, [CLIENT, url, method, body, String(seconds), String(connections)], { timeout: (seconds + 30) * 1000 });
  return JSON.parse(stdout) as Load;
}

async function bareServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const map = new Map<string, string>();
  const app = Fastify({ logger: false });
  app.post('/v1.0/state/:store', async (req, reply) => {
    for (const item of req.body as { key: string; value: unknown }[]) map.set(item.key, JSON.stringify(item.value));
    return reply.code(204).send();
  });
  app.get('/v1.0/state/:store/:key', async (req, reply) => {
    const value = map.get((req.params as { key: string }).key);
    if (value === undefined) return reply.code(204).send();
    return reply.header('content-type', 'application/json').send(value);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
}

export interface HttpBenchOptions {
  seconds: number;
  connections: number;
  rounds: number;
}

export async function httpStateBench(options: HttpBenchOptions): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
  await writeFile(
    join(dir, 'statestore.yaml'),
    'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.memory\n  version: v1\n',
  );
  const sidecar = await Sidecar.start({
    appId: 'bench',
    httpPort: 0,
    listenAddress: '127.0.0.1',
    resourcesPaths: [dir],
    maxBodyBytes: 4 * 1024 * 1024,
    logger: silentLogger,
  });
  const bare = await bareServer();
  const tessera = `http://127.0.0.1:${sidecar.port}`;
  const body = JSON.stringify([{ key: 'k1', value: { name: 'tessera', n: 42 } }]);
  try {
    // Warm both paths (JIT, wasm tier-up) and seed the key the GETs read.
    for (const base of [tessera, bare.url]) {
      await load(`${base}/v1.0/state/statestore`, 'POST', body, 2, options.connections);
      await load(`${base}/v1.0/state/statestore/k1`, 'GET', '', 2, options.connections);
    }
    const results: Record<string, Load[]> = {};
    for (let round = 0; round < options.rounds; round++) {
      for (const [name, base] of [['tessera', tessera], ['bare', bare.url]] as const) {
        (results[`GET ${name}`] ??= []).push(await load(`${base}/v1.0/state/statestore/k1`, 'GET', '', options.seconds, options.connections));
        (results[`POST ${name}`] ??= []).push(await load(`${base}/v1.0/state/statestore`, 'POST', body, options.seconds, options.connections));
      }
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const lines = [`(a) HTTP state API, ${options.connections} connections, ${options.rounds} alternating rounds of ${options.seconds}s, medians:`];
    lines.push('    op    | server  |   req/s | p50 ms | p99 ms | errors');
    for (const op of ['GET', 'POST']) {
      for (const name of ['tessera', 'bare']) {
        const rs = results[`${op} ${name}`]!;
        lines.push(
          `    ${op.padEnd(5)} | ${name.padEnd(7)} | ${median(rs.map((r) => r.rps)).toFixed(0).padStart(7)} | ${median(rs.map((r) => r.p50)).toFixed(0).padStart(6)} | ${median(rs.map((r) => r.p99)).toFixed(0).padStart(6)} | ${rs.reduce((n, r) => n + r.errors, 0)}`,
        );
      }
      const ratio = median(results[`${op} tessera`]!.map((r) => r.rps)) / median(results[`${op} bare`]!.map((r) => r.rps));
      lines.push(`    ${op} throughput ratio tessera/bare: ${ratio.toFixed(2)} (target >= 0.80)`);
    }
    return lines;
  } finally {
    await bare.close();
    await sidecar.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
