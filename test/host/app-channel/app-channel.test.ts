// The HTTP app channel against a real app on loopback: a call's deadline, and calls aborted by
// their signal — on the app, waiting for a socket, or aborted before they start — while calls
// under another signal go on.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AppChannel } from '../../../host/app-channel/app-channel.ts';

let server: Server;
let port: number;
/** Requests the app holds without answering, until the test ends. */
const held: ServerResponse[] = [];
let arrived: string[] = [];

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    arrived.push(req.url!);
    req.resume();
    if (req.url!.startsWith('/hang')) held.push(res);
    else req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Resolves once the app has seen `n` requests to `prefix`. */
async function arrivals(prefix: string, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (arrived.filter((u) => u.startsWith(prefix)).length < n) {
    if (Date.now() > deadline) throw new Error(`the app saw ${arrived.length} requests, not ${n} to ${prefix}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('the HTTP app channel', () => {
  it('answers a call, and fails one the app does not answer within its deadline, naming the call', async () => {
    const channel = new AppChannel({ port });
    try {
      const res = await channel.request({ method: 'POST', path: 'ok', body: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), '{"ok":true}');
      const started = performance.now();
      await assert.rejects(channel.request({ method: 'GET', path: '/hang/deadline', timeoutMs: 150 }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_APP_CHANNEL');
        assert.match(err.message, new RegExp(`GET http://127.0.0.1:${port}/hang/deadline: no answer within 150 ms`));
        return true;
      });
      assert.ok(performance.now() - started < 2000);
    } finally {
      channel.close();
    }
  });

  it('aborts the calls of a signal, on the app and waiting for a socket, and leaves the others going', async () => {
    arrived = [];
    const channel = new AppChannel({ port, maxSockets: 2 });
    try {
      const stopping = new AbortController();
      const other = new AbortController();
      // Two on the app (the agent's two sockets), one waiting for a socket.
      const onApp = [1, 2].map((i) => channel.request({ method: 'GET', path: `/hang/a${i}`, signal: stopping.signal }));
      const waiting = channel.request({ method: 'GET', path: '/hang/a3', signal: stopping.signal });
      await arrivals('/hang/a', 2);
      stopping.abort(new Error('the sidecar stops'));
      for (const call of [...onApp, waiting]) await assert.rejects(call, /ERR_APP_CHANNEL|aborted/);
      await assert.rejects(onApp[0]!, (err: Error) => /the call was aborted/.test(err.message));
      // The sockets went with their calls: a call under another signal gets through.
      const res = await channel.request({ method: 'GET', path: '/ok/after', signal: other.signal });
      assert.equal(res.status, 200);
      assert.equal(arrived.filter((u) => u === '/hang/a3').length, 0, 'the waiting call never reached the app');
    } finally {
      channel.close();
    }
  });

  it('fails a call whose signal aborted before it started, without calling the app', async () => {
    arrived = [];
    const channel = new AppChannel({ port });
    try {
      const aborted = AbortSignal.abort(new Error('gone'));
      await assert.rejects(channel.request({ method: 'GET', path: '/ok/never', signal: aborted }), /ERR_APP_CHANNEL|aborted/);
      await channel.request({ method: 'GET', path: '/ok/probe' });
      assert.deepEqual(arrived, ['/ok/probe']);
    } finally {
      channel.close();
    }
  });
});
