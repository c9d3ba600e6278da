// Benchmark: state GET and POST through the whole sidecar (HTTP API, state building block,
// sandbox, wasm state.redis) against a bare fastify server whose routes call the same
// redis-server with a Node client (test/support/resp-client.ts: one connection, commands
// pipelined as they come, as ioredis and node-redis do), both in this process, loaded
// alternately by autocannon from a child process; medians over rounds, and the process's CPU
// time per request for each server.
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { RedisServer, redisComponentYaml } from '../support/redis-server.ts';
import { RespClient } from '../support/resp-client.ts';
import { benchSidecar, load, median, type Load } from './bench-support.ts';

/** What an app without a sidecar would write: GET is one HGETALL, POST one HSET of `data` per item, keys prefixed as the sidecar does. */
async function bareServer(redis: RedisServer): Promise<{ url: string; close: () => Promise<void> }> {
  const client = await RespClient.connect(redis.port);
  const app = Fastify({ logger: false });
  app.post('/v1.0/state/:store', async (req, reply) => {
    await Promise.all((req.body as { key: string; value: unknown }[]).map((item) => client.command('HSET', `bare||${item.key}`, 'data', JSON.stringify(item.value))));
    return reply.code(204).send();
  });
  app.get('/v1.0/state/:store/:key', async (req, reply) => {
    const fields = (await client.command('HGETALL', `bare||${(req.params as { key: string }).key}`)) as string[];
    const data = fields[fields.indexOf('data') + 1];
    if (data === undefined) return reply.code(204).send();
    return reply.header('content-type', 'application/json').send(data);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: async () => {
      await app.close();
      client.close();
    },
  };
}

export interface StateRedisHttpOptions {
  seconds: number;
  connections: number;
  rounds: number;
}

export async function stateRedisHttpBench(options: StateRedisHttpOptions): Promise<string[]> {
  const redis = await RedisServer.start();
  const side = await benchSidecar((dir) => writeFile(join(dir, 'statestore.yaml'), redisComponentYaml('statestore', 'state.redis', redis.address)));
  const bare = await bareServer(redis);
  const body = JSON.stringify([{ key: 'k1', value: { name: 'tessera', n: 42 } }]);
  const servers = [
    ['tessera', side.url],
    ['bare', bare.url],
  ] as const;
  try {
    // Warm both paths (JIT, wasm tier-up, the store's instances and connections) and seed the key the GETs read.
    for (const [, base] of servers) {
      await load(`${base}/v1.0/state/statestore`, 'POST', body, 2, options.connections);
      await load(`${base}/v1.0/state/statestore/k1`, 'GET', '', 2, options.connections);
    }
    const results: Record<string, Load[]> = {};
    // Both servers share this process (autocannon runs in a child), so its CPU time over a run
    // divided by the requests served is that server's cost per request: a figure that, unlike
    // req/s, holds up when other work shares the machine's cores.
    const cpu: Record<string, number[]> = {};
    const measured = async (key: string, run: () => Promise<Load>): Promise<void> => {
      const before = process.cpuUsage();
      const result = await run();
      const used = process.cpuUsage(before);
      (results[key] ??= []).push(result);
      (cpu[key] ??= []).push((used.user + used.system) / Math.max(1, result.total));
    };
    for (let round = 0; round < options.rounds; round++) {
      for (const [name, base] of servers) {
        await measured(`GET ${name}`, () => load(`${base}/v1.0/state/statestore/k1`, 'GET', '', options.seconds, options.connections));
        await measured(`POST ${name}`, () => load(`${base}/v1.0/state/statestore`, 'POST', body, options.seconds, options.connections));
      }
    }
    const lines = [`(c) HTTP state API on state.redis vs fastify + a Node Redis client, ${options.connections} connections, ${options.rounds} alternating rounds of ${options.seconds}s, medians:`];
    lines.push('    op    | server  |   req/s | p50 ms | p99 ms | CPU µs/req | errors');
    for (const op of ['GET', 'POST']) {
      for (const [name] of servers) {
        const rs = results[`${op} ${name}`]!;
        lines.push(
          `    ${op.padEnd(5)} | ${name.padEnd(7)} | ${median(rs.map((r) => r.rps)).toFixed(0).padStart(7)} | ${median(rs.map((r) => r.p50)).toFixed(0).padStart(6)} | ${median(rs.map((r) => r.p99)).toFixed(0).padStart(6)} | ${median(cpu[`${op} ${name}`]!).toFixed(1).padStart(10)} | ${rs.reduce((n, r) => n + r.errors, 0)}`,
        );
      }
      // Each round's ratio compares runs seconds apart, so drift on a shared machine cancels out.
      const bareRuns = results[`${op} bare`]!;
      const ratios = results[`${op} tessera`]!.map((r, i) => r.rps / bareRuns[i]!.rps);
      lines.push(`    ${op} throughput ratio tessera/bare: median ${median(ratios).toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')}; target >= 0.7)`);
    }
    return lines;
  } finally {
    await bare.close();
    await side.stop();
    await redis.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await stateRedisHttpBench({ seconds: 5, connections: 10, rounds: 3 })).join('\n'));
