// state.redis swapped while traffic flows, in the real `tessera` process: its instances share
// one connection the host pipelines (the `redis` capability), and a new generation gets a new
// one. No request fails across the swap, every acknowledged write is in Redis, and the old
// generation's connection closes with it (Redis ends with one client from the sidecar).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedisServer, redisComponentYaml } from '../support/redis-server.ts';
import { pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { needs } from '../support/tools.ts';

describe('state.redis swapped under traffic', needs('redis'), () => {
  let redis: RedisServer;
  let sidecar: SidecarProcess;

  before(async () => {
    redis = await RedisServer.start();
    sidecar = await startSidecar({ appId: 'swap-redis', resources: { 'store.yaml': redisComponentYaml('store', 'state.redis', redis.address) } });
  });
  after(async () => {
    await sidecar?.stop();
    await redis?.stop();
  });

  const generation = async (): Promise<number | undefined> => {
    const meta = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { componentStatus: { name: string; generation?: number }[] };
    return meta.componentStatus.find((c) => c.name === 'store')?.generation;
  };
  /** Clients of the Redis server other than redis-cli asking. */
  const clients = async (): Promise<number> => (await redis.cli('CLIENT', 'LIST')).trim().split('\n').filter((l) => !l.includes('cmd=client')).length;

  test('writes and reads running through a swap all succeed, every acknowledged write is in Redis, and one connection is left', async () => {
    let stop = false;
    const failures: string[] = [];
    const acknowledged: string[] = [];
    let done = 0;
    const client = async (id: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const key = `c${id}-${i}`;
        const saved = await sidecar.fetch('/v1.0/state/store', { method: 'POST', body: JSON.stringify([{ key, value: { id, i } }]) });
        if (saved.status !== 204) failures.push(`POST ${key}: ${saved.status} ${await saved.text()}`);
        else acknowledged.push(key);
        const got = await sidecar.fetch(`/v1.0/state/store/${key}`);
        const body = await got.text();
        if (got.status !== 200 || body !== JSON.stringify({ id, i })) failures.push(`GET ${key}: ${got.status} ${body}`);
        done++;
      }
    };
    const running = Array.from({ length: 8 }, (_, id) => client(id));
    await pollUntil('some traffic', () => (done > 100 ? true : undefined), { timeoutMs: 15_000, intervalMs: 5 });
    // A changed YAML is a new generation: a new pool, with a connection of its own.
    await sidecar.writeResource('store.yaml', redisComponentYaml('store', 'state.redis', redis.address, { redisMaxRetries: '2' }));
    await pollUntil(() => `generation 2 of store; log:\n${sidecar.logText()}`, async () => ((await generation()) === 2 ? true : undefined), { timeoutMs: 15_000, intervalMs: 10 });
    const swappedAt = done;
    await pollUntil('traffic on the new generation', () => (done > swappedAt + 100 ? true : undefined), { timeoutMs: 15_000, intervalMs: 5 });
    stop = true;
    await Promise.all(running);
    assert.deepEqual(failures, [], `${failures.length} of ${done} rounds failed`);
    const stored = Number((await redis.cli('DBSIZE')).trim());
    assert.equal(stored, acknowledged.length, 'one hash in Redis per acknowledged write');
    for (const key of acknowledged.filter((_, i) => i % 25 === 0)) assert.match(await redis.cli('HGET', `swap-redis||${key}`, 'data'), /^\{"id":\d+,"i":\d+\}/);
    let left = 0;
    await pollUntil(() => `one client left, not ${left}`, async () => ((left = await clients()) === 1 ? true : undefined), { timeoutMs: 10_000, intervalMs: 20 });
  });
});
