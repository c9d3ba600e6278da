// Benchmark: state.redis `get` (HGETALL + PTTL in one pipeline) and `set` (EVALSHA of its
// write script) through the sandbox (LiveComponent, JSPI, the redis capability), beside one
// command from a Node client straight to the same redis-server (HGETALL; HSET of the data
// field), one call at a time both ways: the store's cost as a multiple of one round trip.
// Rounds alternate the four loops; the table gives medians over rounds.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { RedisServer } from '../support/redis-server.ts';
import { RespClient } from '../support/resp-client.ts';
import { alternatingMedians } from './bench-support.ts';

const WASM = new URL('../../components-wasm/state-redis/state-redis.wasm', import.meta.url);

export async function stateRedisBench(calls = 2000, rounds = 5): Promise<string[]> {
  const redis = await RedisServer.start();
  const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(WASM)));
  const live = await LiveComponent.start(compiled, { name: 'bench', config: new Map([['redisHost', redis.address]]), logger: silentLogger, grants: { tcp: [redis.address] } });
  const store = adaptStateStore(live);
  const client = await RespClient.connect(redis.port);
  try {
    const value = new Uint8Array(64).fill(0x61);
    const key = (i: number): string => `bench||${i % 100}`;
    const loops: Record<string, (i: number) => Promise<unknown>> = {
      'store set': (i) => store.set({ key: key(i), value, concurrency: 'last-write', consistency: 'eventual', metadata: [] }),
      'direct HSET': (i) => client.command('HSET', key(i), 'data', value),
      'store get': (i) => store.get({ key: key(i), consistency: 'eventual', metadata: [] }),
      'direct HGETALL': (i) => client.command('HGETALL', key(i)),
    };
    const us = await alternatingMedians(loops, calls, rounds);
    const row = (label: string, mine: string, direct: string): string =>
      `    ${label} ${us(mine).toFixed(1)} µs/call vs ${direct.replace('direct ', '')} ${us(direct).toFixed(1)} µs (${(us(mine) / us(direct)).toFixed(2)}x)`;
    return [
      `(b) state.redis through the sandbox vs one command from Node, ${calls} calls in a row, median of ${rounds} alternating rounds:`,
      row('set (EVALSHA):', 'store set', 'direct HSET'),
      row('get (HGETALL+PTTL):', 'store get', 'direct HGETALL'),
    ];
  } finally {
    client.close();
    await live.close();
    await redis.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await stateRedisBench()).join('\n'));
