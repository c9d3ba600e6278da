// The tcp capability against a real loopback server: grants, reads with timeouts and
// buffering, writes, the peer closing, and cleanup when the instance is dropped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tcpCapability } from '../../../../host/sandbox/capabilities/tcp.ts';
import { silentLogger } from '../../../../host/observability/logger.ts';

let server: Server;
let port: number;
const peers: Socket[] = [];

before(async () => {
  server = createServer((socket) => {
    peers.push(socket);
    socket.on('data', (data) => {
      if (data.toString() === 'bye') socket.end();
      else socket.write(Buffer.concat([Buffer.from('echo:'), data]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  for (const peer of peers) peer.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function tcp(grants: string[]) {
  const cleanups: (() => void)[] = [];
  const fns = tcpCapability.build({ component: 'redis', logger: silentLogger, grant: grants, onDispose: (c) => cleanups.push(c), shared: new Map(), memoryLimitBytes: 64 * 1024 * 1024 });
  return { fns: fns as Record<string, (...a: any[]) => any>, dispose: () => cleanups.forEach((c) => c()) };
}

/** The server side of the connection numbered `index`, once the server has accepted it. */
async function peerAt(list: Socket[], index: number): Promise<Socket> {
  for (let i = 0; list.length <= index; i++) {
    assert.ok(i < 200, 'the server saw the connection');
    await new Promise((r) => setTimeout(r, 5));
  }
  return list[index]!;
}

test('connects only to granted host:port pairs, naming the refusal', async () => {
  const { fns } = tcp([]);
  assert.deepEqual(await fns.connect!('127.0.0.1', port, 1000), {
    tag: 'err',
    val: { tag: 'invalid-argument', val: `tcp connect to 127.0.0.1:${port} is not allowed for component "redis": it has no tcp grant; grant it with the annotation tessera.dev/allow-tcp` },
  });
  const other = tcp(['127.0.0.1:1']);
  const refused = await other.fns.connect!('127.0.0.1', port, 1000);
  assert.match(refused.val.val, /it may connect to 127\.0\.0\.1:1/);
});

test('writes, reads what arrives, times out to an empty read, and reports the peer closing', async () => {
  const { fns, dispose } = tcp([`127.0.0.1:${port}`]);
  const conn = await fns.connect!('127.0.0.1', port, 1000);
  assert.equal(conn.tag, 'ok');
  const id = conn.val as number;
  const started = Date.now();
  assert.deepEqual(await fns.read!(id, 100, 50), { tag: 'ok', val: new Uint8Array(0) });
  assert.ok(Date.now() - started >= 45, 'an idle read waits for its timeout');
  assert.deepEqual(await fns.write!(id, new TextEncoder().encode('hello')), { tag: 'ok', val: undefined });
  const first = await fns.read!(id, 7, 1000);
  assert.equal(new TextDecoder().decode(first.val), 'echo:he', 'a read returns at most max-bytes');
  const rest = await fns.read!(id, 100, 1000);
  assert.equal(new TextDecoder().decode(rest.val), 'llo', 'the rest stays buffered for the next read');
  await fns.write!(id, new TextEncoder().encode('bye'));
  const closed = await fns.read!(id, 100, 1000);
  assert.equal(closed.tag, 'err');
  assert.match(closed.val.val, /closed by the peer/);
  fns.close!(id);
  assert.equal((await fns.read!(id, 1, 10)).val.tag, 'invalid-argument');
  dispose();
});

test('an unreachable address fails as unavailable; dropping the instance closes its sockets', async () => {
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const deadPort = (free.address() as AddressInfo).port;
  await new Promise<void>((resolve) => free.close(() => resolve()));
  const { fns, dispose } = tcp([`127.0.0.1:${deadPort}`, `127.0.0.1:${port}`]);
  const failed = await fns.connect!('127.0.0.1', deadPort, 1000);
  assert.equal(failed.val.tag, 'unavailable');
  assert.match(failed.val.val, /ECONNREFUSED/);
  const before = peers.length;
  const open = await fns.connect!('127.0.0.1', port, 1000);
  assert.equal(open.tag, 'ok');
  const peer = await peerAt(peers, before);
  const closed = new Promise((resolve) => peer.once('close', resolve));
  dispose();
  await closed;
});

/** A server whose sockets read nothing until told: its connections fill up. */
async function stalledServer(): Promise<{ port: number; peers: Socket[]; close: () => Promise<void> }> {
  const stalled: Socket[] = [];
  const srv = createServer((socket) => {
    socket.pause();
    stalled.push(socket);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    peers: stalled,
    close: async () => {
      for (const s of stalled) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}


test('a write the socket takes answers at once; one past its buffer waits until the peer reads', async () => {
  const stalled = await stalledServer();
  const { fns, dispose } = tcp([`127.0.0.1:${stalled.port}`]);
  try {
    const id = (await fns.connect!('127.0.0.1', stalled.port, 1000)).val as number;
    assert.deepEqual(fns.write!(id, new Uint8Array(10)), { tag: 'ok', val: undefined }, 'no promise: the component is not suspended');
    // More than the kernel's buffers and the socket's high-water mark hold.
    const pending = fns.write!(id, new Uint8Array(32 * 1024 * 1024));
    assert.ok(pending instanceof Promise, 'a full buffer suspends the writer');
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, 'it waits while the peer reads nothing');
    const peer = await peerAt(stalled.peers, 0);
    peer.on('data', () => {});
    peer.resume();
    assert.deepEqual(await pending, { tag: 'ok', val: undefined });
  } finally {
    dispose();
    await stalled.close();
  }
});

test('a write waiting on a full buffer fails (no hang) when the connection is lost, and so does the next', async () => {
  const stalled = await stalledServer();
  const { fns, dispose } = tcp([`127.0.0.1:${stalled.port}`]);
  try {
    const id = (await fns.connect!('127.0.0.1', stalled.port, 1000)).val as number;
    const pending = fns.write!(id, new Uint8Array(32 * 1024 * 1024));
    assert.ok(pending instanceof Promise);
    (await peerAt(stalled.peers, 0)).destroy();
    const failed = await pending;
    assert.equal(failed.tag, 'err');
    assert.equal(failed.val.tag, 'unavailable');
    const next = await fns.write!(id, new Uint8Array(1));
    assert.equal(next.val.tag, 'unavailable', 'a write on the lost connection');
    const read = await fns.read!(id, 10, 1000);
    assert.equal(read.val.tag, 'unavailable', 'a read on the lost connection');
  } finally {
    dispose();
    await stalled.close();
  }
});
