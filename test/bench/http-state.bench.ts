// Benchmark (a): state GET and POST through the whole sidecar (HTTP API, state building
// block, sandbox, wasm state.memory) against a bare fastify route over a JS Map, both in
// this process, loaded alternately by autocannon from a child process.
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Fastify from 'fastify';
import { STATESTORE_YAML, benchSidecar, load, median, type Load } from './bench-support.ts';

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
  const side = await benchSidecar((dir) => writeFile(join(dir, 'statestore.yaml'), STATESTORE_YAML));
  const bare = await bareServer();
  const tessera = side.url;
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
    const lines = [`(a) HTTP state API, ${options.connections} connections, ${options.rounds} alternating rounds of ${options.seconds}s, medians:`];
    lines.push('    op    | server  |   req/s | p50 ms | p99 ms | errors');
    for (const op of ['GET', 'POST']) {
      for (const name of ['tessera', 'bare']) {
        const rs = results[`${op} ${name}`]!;
        lines.push(
          `    ${op.padEnd(5)} | ${name.padEnd(7)} | ${median(rs.map((r) => r.rps)).toFixed(0).padStart(7)} | ${median(rs.map((r) => r.p50)).toFixed(0).padStart(6)} | ${median(rs.map((r) => r.p99)).toFixed(0).padStart(6)} | ${rs.reduce((n, r) => n + r.errors, 0)}`,
        );
      }
      // Each round's ratio compares runs seconds apart, so drift on a shared machine cancels out.
      const bare = results[`${op} bare`]!;
      const ratios = results[`${op} tessera`]!.map((r, i) => r.rps / bare[i]!.rps);
      lines.push(
        `    ${op} throughput ratio tessera/bare: median ${median(ratios).toFixed(2)}, best ${Math.max(...ratios).toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')}; target >= 0.85)`,
      );
    }
    return lines;
  } finally {
    await bare.close();
    await side.stop();
  }
}
