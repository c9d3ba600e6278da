// Benchmark: one `output#invoke` of bindings.redis (create = SET, get = GET of a 64-byte
// value) through the sandbox (LiveComponent, JSPI, the tcp capability), beside the same
// command sent by a Node client straight to the same redis-server (test/support/resp-client.ts),
// one call at a time both ways. Rounds alternate the four loops; the table gives the median
// per-call time over rounds and the binding's cost as a multiple of the direct round trip.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { RedisServer } from '../support/redis-server.ts';
import { RespClient } from '../support/resp-client.ts';
import { alternatingMedians } from './bench-support.ts';

const WASM = new URL('../../components-wasm/bindings-redis/bindings-redis.wasm', import.meta.url);

export async function bindingsRedisBench(calls = 2000, rounds = 5): Promise<string[]> {
  const redis = await RedisServer.start();
  const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(WASM)));
  const live = await LiveComponent.start(compiled, { name: 'bench', config: new Map([['redisHost', redis.address]]), logger: silentLogger, grants: { tcp: [redis.address] } });
  const client = await RespClient.connect(redis.port);
  try {
    const value = new Uint8Array(64).fill(0x61);
    const key = (i: number): string => `bench-${i % 100}`;
    const loops: Record<string, (i: number) => Promise<unknown>> = {
      'invoke create': (i) => live.call('output#invoke', [{ operation: 'create', data: value, metadata: [['key', key(i)]] }]),
      'direct SET': (i) => client.command('SET', key(i), value),
      'invoke get': (i) => live.call('output#invoke', [{ operation: 'get', data: new Uint8Array(), metadata: [['key', key(i)]] }]),
      'direct GET': (i) => client.command('GET', key(i)),
    };
    const us = await alternatingMedians(loops, calls, rounds);
    return [
      `(b) bindings.redis output#invoke through the sandbox vs the same command from Node, ${calls} calls in a row, median of ${rounds} alternating rounds:`,
      `    create: ${us('invoke create').toFixed(1)} µs/call vs SET ${us('direct SET').toFixed(1)} µs (${(us('invoke create') / us('direct SET')).toFixed(2)}x)`,
      `    get:    ${us('invoke get').toFixed(1)} µs/call vs GET ${us('direct GET').toFixed(1)} µs (${(us('invoke get') / us('direct GET')).toFixed(2)}x)`,
    ];
  } finally {
    client.close();
    await live.close();
    await redis.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await bindingsRedisBench()).join('\n'));
