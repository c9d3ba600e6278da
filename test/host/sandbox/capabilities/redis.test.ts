// The redis capability against a real redis-server: instances of one component share one
// pipelined connection and each call gets its own replies; grants, refused commands, the reply
// cap, a call that times out (a paused server) without upsetting the calls behind it, AUTH
// and SELECT, a server restart, and the connection closing with the last instance.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { redisCapability } from '../../../../host/sandbox/capabilities/redis.ts';
import { encodeCommand } from '../../../../host/sandbox/capabilities/resp-frames.ts';
import { createLogger, silentLogger, type Logger } from '../../../../host/observability/logger.ts';
import { RedisServer } from '../../../support/redis-server.ts';
import { needs } from '../../../support/tools.ts';

type Result<T> = { tag: 'ok'; val: T } | { tag: 'err'; val: { tag: string; val: string } };
interface Instance {
  open(host: string, port: number, username: string, password: string, db: number, timeoutMs: number): Result<number>;
  execute(id: number, commands: Uint8Array, count: number, timeoutMs: number, maxBytes: number): Promise<Result<Uint8Array>> | Result<Uint8Array>;
  close(id: number): void;
  dispose(): void;
}

/** One instance's functions; instances given the same `shared` map are one component's. */
function instance(grants: string[], shared: Map<string, unknown>, memoryLimitBytes = 64 * 1024 * 1024, logger: Logger = silentLogger): Instance {
  const cleanups: (() => void)[] = [];
  const fns = redisCapability.build({ component: 'store', logger, grant: grants, onDispose: (c) => cleanups.push(c), shared, memoryLimitBytes }) as unknown as Instance;
  return { open: fns.open, execute: fns.execute, close: fns.close, dispose: () => cleanups.splice(0).forEach((c) => c()) };
}

const cmds = (...commands: string[][]): Uint8Array => Buffer.concat(commands.map((c) => encodeCommand(c)));
const text = (r: Result<Uint8Array>): string => {
  assert.equal(r.tag, 'ok', r.tag === 'err' ? `${r.val.tag}: ${r.val.val}` : '');
  return Buffer.from((r as { val: Uint8Array }).val).toString();
};
const failure = (r: Result<unknown>): string => {
  assert.equal(r.tag, 'err');
  const { tag, val } = (r as { val: { tag: string; val: string } }).val;
  return `${tag}: ${val}`;
};
const opened = (r: Result<number>): number => {
  assert.equal(r.tag, 'ok', r.tag === 'err' ? r.val.val : '');
  return (r as { val: number }).val;
};
/** The clients connected to the server, other than redis-cli itself. */
const clients = async (redis: RedisServer): Promise<number> => (await redis.cli('CLIENT', 'LIST')).trim().split('\n').filter((l) => !l.includes('cmd=client')).length;

describe('the redis capability against redis-server', needs('redis'), () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.stop();
  });

  test('two instances share one connection, and every call gets its own replies in order', async () => {
    const shared = new Map<string, unknown>();
    const a = instance([redis.address], shared);
    const b = instance([redis.address], shared);
    try {
      const ha = opened(a.open('127.0.0.1', redis.port, '', '', 0, 1000));
      const hb = opened(b.open('127.0.0.1', redis.port, '', '', 0, 1000));
      const calls = [];
      for (let i = 0; i < 50; i++) {
        const [fns, h] = i % 2 === 0 ? [a, ha] : [b, hb];
        calls.push(fns.execute(h, cmds(['SET', `k${i}`, `v${i}`], ['GET', `k${i}`], ['HGETALL', 'none']), 3, 1000, 0));
      }
      const replies = await Promise.all(calls);
      replies.forEach((r, i) => assert.equal(text(r), `+OK\r\n$${`v${i}`.length}\r\nv${i}\r\n*0\r\n`));
      // An error reply is a reply, in its place.
      assert.equal(text(await a.execute(ha, cmds(['INCR', 'k1'], ['PING']), 2, 1000, 0)), '-ERR value is not an integer or out of range\r\n+PONG\r\n');
      assert.equal(await clients(redis), 1);
      // The connection stays while one instance holds a handle, and closes with the last.
      a.dispose();
      assert.equal(text(await b.execute(hb, cmds(['PING']), 1, 1000, 0)), '+PONG\r\n');
      b.dispose();
      for (let i = 0; i < 100 && (await clients(redis)) > 0; i++) await new Promise((r) => setImmediate(r));
      assert.equal(await clients(redis), 0);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test('an instance dropped while its connection is being made leaves no connection behind', async () => {
    const fns = instance([redis.address], new Map());
    const h = opened(fns.open('127.0.0.1', redis.port, '', '', 0, 1000));
    const call = fns.execute(h, cmds(['PING']), 1, 1000, 0);
    fns.dispose();
    assert.match(failure(await call), /^unavailable: the connection to redis at 127\.0\.0\.1:\d+ was closed/);
    // The connection was destroyed as it came up (redis-server may take a moment to see it go).
    for (let i = 0; i < 100 && (await clients(redis)) > 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(await clients(redis), 0);
  });

  test('an address the YAML does not grant, a bad handle, malformed and refused commands are refused, naming them', async () => {
    const fns = instance(['127.0.0.1:1'], new Map());
    assert.match(failure(fns.open('127.0.0.1', redis.port, '', '', 0, 1000)), /^invalid-argument: redis at 127\.0\.0\.1:\d+ is not allowed for component "store": it may connect to 127\.0\.0\.1:1; grant it with the annotation tessera\.dev\/allow-tcp/);
    assert.match(failure(await fns.execute(9, cmds(['PING']), 1, 1000, 0)), /^invalid-argument: redis handle 9 is not open/);
    const ok = instance([redis.address], new Map());
    try {
      const h = opened(ok.open('127.0.0.1', redis.port, '', '', 0, 1000));
      assert.match(failure(await ok.execute(h, cmds(['PING'], ['MULTI']), 2, 1000, 0)), /^invalid-argument: commands for redis at 127\.0\.0\.1:\d+: command 2 \(MULTI\) would change or hold the shared connection/);
      assert.match(failure(await ok.execute(h, cmds(['PING']), 2, 1000, 0)), /holds 1 commands, count says 2/);
      // Nothing of a refused call reached the server: the next call gets its own reply.
      assert.equal(text(await ok.execute(h, cmds(['PING']), 1, 1000, 0)), '+PONG\r\n');
    } finally {
      ok.dispose();
      fns.dispose();
    }
  });

  test('replies over the cap fail that call only; the calls behind it get theirs', async () => {
    const fns = instance([redis.address], new Map());
    try {
      const h = opened(fns.open('127.0.0.1', redis.port, '', '', 0, 1000));
      await fns.execute(h, cmds(['SET', 'big', 'x'.repeat(200_000)]), 1, 1000, 0);
      const [big, next] = await Promise.all([fns.execute(h, cmds(['GET', 'big']), 1, 1000, 100_000), fns.execute(h, cmds(['ECHO', 'after']), 1, 1000, 0)]);
      assert.match(failure(big), /^invalid-argument: the replies from redis at 127\.0\.0\.1:\d+ hold more than 100000 bytes \(max-reply-bytes\)/);
      assert.equal(text(next), '$5\r\nafter\r\n');
      assert.equal(text(await fns.execute(h, cmds(['STRLEN', 'big']), 1, 1000, 0)), ':200000\r\n');
      // The cap is never more than the instance's memory could hold, whatever the call asks.
      const small = instance([redis.address], new Map(), 150_000);
      const hs = opened(small.open('127.0.0.1', redis.port, '', '', 0, 1000));
      assert.match(failure(await small.execute(hs, cmds(['GET', 'big']), 1, 1000, 0)), /hold more than 150000 bytes/);
      small.dispose();
    } finally {
      fns.dispose();
    }
  });

  test('a call that times out (the server paused) fails alone; its late reply is skipped, not given to the next call', async () => {
    const fns = instance([redis.address], new Map());
    try {
      const h = opened(fns.open('127.0.0.1', redis.port, '', '', 0, 1000));
      assert.equal(text(await fns.execute(h, cmds(['SET', 'slow', 'first']), 1, 1000, 0)), '+OK\r\n');
      await redis.cli('CLIENT', 'PAUSE', '400', 'ALL');
      assert.match(failure(await fns.execute(h, cmds(['GET', 'slow']), 1, 50, 0)), /^unavailable: redis at 127\.0\.0\.1:\d+ did not answer within 50 ms/);
      assert.equal(text(await fns.execute(h, cmds(['ECHO', 'mine']), 1, 5000, 0)), '$4\r\nmine\r\n');
    } finally {
      fns.dispose();
    }
  });

  test('connects with AUTH and SELECT; a refused password is an internal error naming the setting', async () => {
    const secured = await RedisServer.start({ args: ['--requirepass', 's3cret'] });
    const fns = instance([secured.address], new Map());
    try {
      const good = opened(fns.open('127.0.0.1', secured.port, '', 's3cret', 3, 1000));
      assert.equal(text(await fns.execute(good, cmds(['SET', 'where', 'db3']), 1, 1000, 0)), '+OK\r\n');
      assert.equal((await secured.cli('-n', '3', 'GET', 'where')).trim(), 'db3');
      const bad = opened(fns.open('127.0.0.1', secured.port, '', 'wrong', 0, 1000));
      assert.match(failure(await fns.execute(bad, cmds(['PING']), 1, 1000, 0)), /^internal: redis at 127\.0\.0\.1:\d+ refused AUTH \(redisUsername, redisPassword\): WRONGPASS.*\(set redisPassword, and redisUsername for an ACL user\)/);
    } finally {
      fns.dispose();
      await secured.stop();
    }
  });

  test('a server that goes away fails the call, naming it; the next call after it is back connects again', async () => {
    const server = await RedisServer.start();
    const lines: string[] = [];
    const fns = instance([server.address], new Map(), undefined, createLogger({ level: 'warn', json: false, write: (line) => lines.push(line) }));
    try {
      const h = opened(fns.open('127.0.0.1', server.port, '', '', 0, 1000));
      assert.equal(text(await fns.execute(h, cmds(['PING']), 1, 1000, 0)), '+PONG\r\n');
      await server.stop();
      assert.match(failure(await fns.execute(h, cmds(['PING']), 1, 1000, 0)), /^unavailable: (redis at 127\.0\.0\.1:\d+ is unreachable|the connection to redis at 127\.0\.0\.1:\d+ broke)/);
      await server.restart();
      assert.equal(text(await fns.execute(h, cmds(['PING']), 1, 1000, 0)), '+PONG\r\n');
      // The log says so once, naming the component and the server.
      assert.equal(lines.filter((l) => /component \\?"store\\?": the connection to redis at 127\.0\.0\.1:\d+ broke: .*; the next call connects again/.test(l)).length, 1, lines.join('\n'));
    } finally {
      fns.dispose();
      await server.stop();
    }
  });
});
