// Benchmark: many sidecars, one Redis. Three `tessera run` processes of one app on state.redis
// against one redis-server, each loaded by an autocannon process of its own, beside one of
// them alone under the same three autocannon processes (so the offered load and the load
// generators are the same, and only the number of sidecars differs): aggregate state GET and
// POST requests per second, alternating rounds, medians.
import { fileURLToPath } from 'node:url';
import { RedisServer, redisComponentYaml } from '../support/redis-server.ts';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { load, median } from './bench-support.ts';

export interface ManySidecarsOptions {
  seconds: number;
  /** Connections of each of the three load generators. */
  connections: number;
  rounds: number;
}

const SIDECARS = 3;

export async function manySidecarsBench(options: ManySidecarsOptions): Promise<string[]> {
  const redis = await RedisServer.start();
  const resources = { 'statestore.yaml': redisComponentYaml('statestore', 'state.redis', redis.address) };
  const sidecars: SidecarProcess[] = [];
  try {
    for (let i = 0; i < SIDECARS; i++) sidecars.push(await startSidecar({ appId: 'bench', resources, startTimeoutMs: 30_000 }));
    const body = JSON.stringify([{ key: 'k1', value: { name: 'tessera', n: 42 } }]);
    const url = (sidecar: SidecarProcess, op: 'GET' | 'POST'): string => `${sidecar.url}/v1.0/state/statestore${op === 'GET' ? '/k1' : ''}`;
    /** Requests per second of three load generators at once, each on `targets[i]`. */
    const aggregate = async (op: 'GET' | 'POST', targets: SidecarProcess[], seconds: number): Promise<number> => {
      const runs = await Promise.all(targets.map((sidecar) => load(url(sidecar, op), op, op === 'GET' ? '' : body, seconds, options.connections)));
      return runs.reduce((sum, run) => sum + run.rps, 0);
    };
    const alone = Array.from({ length: SIDECARS }, () => sidecars[0]!);
    // Warm every sidecar (JIT, wasm tier-up, the store's instances and connections) and seed the key.
    for (const op of ['POST', 'GET'] as const) await aggregate(op, sidecars, 2);

    const results: Record<string, number[]> = {};
    for (let round = 0; round < options.rounds; round++) {
      for (const op of ['GET', 'POST'] as const) {
        (results[`${op} one`] ??= []).push(await aggregate(op, alone, options.seconds));
        (results[`${op} three`] ??= []).push(await aggregate(op, sidecars, options.seconds));
      }
    }
    const lines = [`(d) ${SIDECARS} sidecars of one app on one Redis (state.redis) vs one, ${SIDECARS} load generators of ${options.connections} connections either way, ${options.rounds} alternating rounds of ${options.seconds}s, medians:`];
    for (const op of ['GET', 'POST']) {
      const one = results[`${op} one`]!;
      const three = results[`${op} three`]!;
      const ratios = three.map((rps, i) => rps / one[i]!);
      lines.push(
        `    ${op.padEnd(4)} one sidecar ${median(one).toFixed(0)} req/s, three ${median(three).toFixed(0)} req/s in all: ${median(ratios).toFixed(2)}x (rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')})`,
      );
    }
    return lines;
  } finally {
    await Promise.all(sidecars.map((sidecar) => sidecar.stop()));
    await redis.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await manySidecarsBench({ seconds: 5, connections: 10, rounds: 3 })).join('\n'));
