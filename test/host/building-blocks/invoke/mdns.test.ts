// The mDNS name resolver over real multicast, kept on loopback (interface 127.0.0.1, a UDP
// port of this run's own): resolvers in one process find each other, balance two instances
// of one app id, drop one that says goodbye at once and one that vanished at its TTL, ignore
// malformed packets, and give up on an unknown app id after their timeout. Also the
// Configuration fields that choose and tune it.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import makeMdns from 'multicast-dns';
import { pollUntil } from '../../../support/sidecar-process.ts';
import { freeUdpPort } from '../../../support/test-app.ts';
import { chooseResolver } from '../../../../host/building-blocks/invoke/name-resolution/choose-resolver.ts';
import { MdnsResolver, type MdnsOptions } from '../../../../host/building-blocks/invoke/name-resolution/mdns.ts';

const instance = (appId: string, port: number) => ({ appId, namespace: 'default', host: '127.0.0.1', port });

describe('the mDNS name resolver', () => {
  let options: MdnsOptions;
  const open: MdnsResolver[] = [];
  const resolver = (extra: MdnsOptions = {}) => {
    const r = new MdnsResolver({ ...options, ...extra });
    open.push(r);
    return r;
  };
  /** A bare multicast-dns socket on the same group: a foreign responder the test scripts. */
  let raw: makeMdns.MulticastDNS;

  before(async () => {
    options = { interface: '127.0.0.1', port: await freeUdpPort(), resolveTimeoutMs: 300 };
    raw = makeMdns({ interface: '127.0.0.1', bind: '0.0.0.0', port: options.port! });
    await new Promise((resolve) => raw.once('ready', resolve));
  });
  after(async () => {
    await Promise.all(open.map((r) => r.close()));
    await new Promise<void>((resolve) => raw.destroy(() => resolve()));
  });

  it('finds a registered sidecar, balances two instances of one app id round robin, and gives up on an unknown one after its timeout', async () => {
    const one = resolver();
    const two = resolver();
    const caller = resolver();
    await one.register(instance('orders', 1001));
    await two.register(instance('orders', 1002));
    // The first answer is returned at once; the other instance answered the same query a moment later.
    assert.match((await caller.resolve('orders', 'default')) ?? '', /^127\.0\.0\.1:100[12]$/);
    await pollUntil('both instances to be cached', async () => {
      const seen = new Set([await caller.resolve('orders', 'default'), await caller.resolve('orders', 'default')]);
      return seen.size === 2 ? seen : undefined;
    });
    const turns = [];
    for (let i = 0; i < 4; i++) turns.push(await caller.resolve('orders', 'default'));
    assert.notEqual(turns[0], turns[1]);
    assert.equal(turns[0], turns[2]);
    assert.equal(turns[1], turns[3]);
    const started = Date.now();
    assert.equal(await caller.resolve('payments', 'default'), undefined);
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 2000, `an unknown app id is given up after the timeout (waited ${waited} ms)`);
    assert.equal(await caller.resolve('not.one.label', 'default'), undefined, 'an app id that is no DNS label is never asked');
    // A burst of calls to an unknown app id shares one query.
    let queries = 0;
    const count = (packet: makeMdns.QueryPacket) => {
      if (packet.questions.some((q) => q.name === 'burst.local')) queries++;
    };
    raw.on('query', count);
    const answers = await Promise.all(Array.from({ length: 20 }, () => caller.resolve('burst', 'default')));
    raw.off('query', count);
    assert.ok(answers.every((a) => a === undefined));
    assert.equal(queries, 1);
  });

  it('advertises what Dapr\'s resolver does: PTR <app-id>.local, SRV on the internal gRPC port, TXT the app id, A the address', async () => {
    const answers = new Promise<makeMdns.ResponsePacket>((resolve) => {
      raw.on('response', function seen(packet) {
        if (!packet.answers.some((a) => a.type === 'PTR' && a.name === 'inventory.local')) return;
        raw.off('response', seen);
        resolve(packet);
      });
    });
    await resolver({ address: '127.0.0.9' }).register(instance('inventory', 50002));
    const packet = await answers;
    const byType = Object.fromEntries(packet.answers.filter((a) => a.type !== 'PTR' || a.name === 'inventory.local').map((a) => [a.type, a]));
    const ptr = byType.PTR as { data: string };
    assert.match(ptr.data, /^[^.]+:\d+:50002\.inventory\.local$/);
    assert.deepEqual((byType.SRV as { name: string; data: { port: number } }).data.port, 50002);
    assert.equal((byType.SRV as { name: string }).name, ptr.data);
    assert.deepEqual((byType.TXT as { data: Buffer[] }).data.map(String), ['inventory']);
    assert.equal((byType.A as { data: string }).data, '127.0.0.9');
    assert.ok(packet.answers.every((a) => (a as { ttl: number }).ttl === 60), 'the TTL is 60 s, Dapr\'s address TTL');
  });

  it('drops an instance that says goodbye at close, at once, and adds one that announces itself', async () => {
    const one = resolver();
    const two = resolver();
    const caller = resolver();
    await one.register(instance('cart', 2001));
    assert.equal(await caller.resolve('cart', 'default'), '127.0.0.1:2001');
    // Announced unasked: a caller already caching the app id balances over it without asking.
    await two.register(instance('cart', 2002));
    await pollUntil('the announced instance to be balanced', async () => ((await caller.resolve('cart', 'default')) === '127.0.0.1:2002' ? true : undefined));
    await one.close();
    await pollUntil('the goodbye to drop the closed instance', async () => {
      const seen = new Set([await caller.resolve('cart', 'default'), await caller.resolve('cart', 'default')]);
      return seen.size === 1 && seen.has('127.0.0.1:2002') ? true : undefined;
    });
    await two.close();
    await pollUntil('the last instance to be gone', async () => ((await caller.resolve('cart', 'default')) === undefined ? true : undefined));
  });

  it('expires an instance that vanished without a goodbye at its TTL, and forget() drops what is cached', async () => {
    const caller = resolver({ refreshMs: 200 });
    // A responder that answers once with a 1 s TTL and then is never heard again.
    const ghost = (port: number) => [
      { name: 'ghost.local', type: 'PTR' as const, ttl: 1, data: `gone:1:${port}.ghost.local` },
      { name: `gone:1:${port}.ghost.local`, type: 'SRV' as const, ttl: 1, data: { port, target: 'gone.local' } },
      { name: `gone:1:${port}.ghost.local`, type: 'TXT' as const, ttl: 1, data: ['ghost'] },
      { name: 'gone.local', type: 'A' as const, ttl: 1, data: '127.0.0.1' },
    ];
    const answer = () => raw.respond({ answers: ghost(3001) });
    raw.on('query', answer);
    try {
      assert.equal(await caller.resolve('ghost', 'default'), '127.0.0.1:3001');
    } finally {
      raw.off('query', answer);
    }
    const started = Date.now();
    await pollUntil('the vanished instance to expire', async () => ((await caller.resolve('ghost', 'default')) === undefined ? true : undefined), { timeoutMs: 4000 });
    assert.ok(Date.now() - started < 2500, 'gone within its 1 s TTL (plus one resolve timeout)');

    const live = resolver();
    await live.register(instance('kept', 4001));
    assert.equal(await caller.resolve('kept', 'default'), '127.0.0.1:4001');
    caller.forget('kept', 'default');
    assert.equal(await caller.resolve('kept', 'default'), '127.0.0.1:4001', 'asked afresh after forget()');
  });

  it('answers a flood of queries with one answer per 100 ms, not one each', async () => {
    await resolver().register(instance('flooded', 6001));
    let answers = 0;
    const count = (packet: makeMdns.ResponsePacket) => {
      if (packet.answers.some((a) => a.name === 'flooded.local' && (a as { ttl: number }).ttl > 0)) answers++;
    };
    // Past the registration's own first announcement.
    await new Promise((resolve) => raw.once('response', resolve));
    raw.on('response', count);
    const started = Date.now();
    for (let i = 0; i < 50; i++) raw.query({ questions: [{ name: 'flooded.local', type: 'PTR' }] });
    await pollUntil('an answer to the flood', () => (answers > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 150));
    raw.off('response', count);
    const windows = Math.ceil((Date.now() - started) / 100) + 1;
    assert.ok(answers >= 1 && answers <= windows, `${answers} answers in ${windows} windows of 100 ms`);
  });

  it('ignores malformed packets and records that do not add up, and keeps working', async () => {
    const one = resolver();
    const caller = resolver();
    await one.register(instance('sturdy', 5001));
    assert.equal(await caller.resolve('sturdy', 'default'), '127.0.0.1:5001');
    const sender = createSocket('udp4');
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
    sender.setMulticastInterface('127.0.0.1');
    const garbage = [Buffer.from('not dns at all'), Buffer.alloc(12, 0xff), Buffer.from([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c])];
    const undecodable: Error[] = [];
    raw.on('warning', (err: Error) => undecodable.push(err));
    for (const bytes of garbage) await new Promise((resolve) => sender.send(bytes, options.port!, '224.0.0.251', resolve));
    sender.close();
    await pollUntil('the garbage to arrive (the bare socket fails to decode it too)', () => (undecodable.length >= 2 ? true : undefined));
    // Decodable but wrong: port 0, a TXT naming another app id, an address that is no IP, an SRV with no PTR.
    const bad = (label: string, port: number, txt: string, ip: string) => [
      { name: 'sturdy.local', type: 'PTR' as const, ttl: 60, data: `${label}.sturdy.local` },
      { name: `${label}.sturdy.local`, type: 'SRV' as const, ttl: 60, data: { port, target: `${label}.local` } },
      { name: `${label}.sturdy.local`, type: 'TXT' as const, ttl: 60, data: [txt] },
      { name: `${label}.local`, type: 'A' as const, ttl: 60, data: ip },
    ];
    raw.respond({ answers: [...bad('zero', 0, 'sturdy', '127.0.0.2'), ...bad('other', 5003, 'someone-else', '127.0.0.3')] });
    raw.respond({ answers: [{ name: 'orphan.sturdy.local', type: 'SRV', ttl: 60, data: { port: 5004, target: 'x.local' } }] });
    // A packet with more records than are read: the ones past the cap are not looked at.
    raw.respond({ answers: [...Array.from({ length: 70 }, (_, i) => ({ name: `n${i}.local`, type: 'A' as const, ttl: 60, data: '127.0.0.1' })), ...bad('late', 5005, 'sturdy', '127.0.0.5')] });
    // Sent after the rest: once it is seen, the bad ones were seen before it.
    const marker = resolver();
    await marker.register(instance('sturdy', 5002));
    await pollUntil('the good instance announced after the bad packets', async () => ((await caller.resolve('sturdy', 'default')) === '127.0.0.1:5002' ? true : undefined));
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) seen.add(await caller.resolve('sturdy', 'default'));
    assert.deepEqual([...seen].sort(), ['127.0.0.1:5001', '127.0.0.1:5002']);
  });
});

describe('choosing the mDNS resolver', () => {
  it('is `component: mdns`, with Tessera\'s optional interface, address, port and timings', () => {
    const r = chooseResolver({ component: 'mdns', configuration: { interface: '127.0.0.1', address: '::1', port: 5999, ttl: '2s', refreshInterval: '500ms', resolveTimeout: '100ms' } });
    assert.equal(r.name, 'mdns');
    assert.equal(chooseResolver({ component: 'mdns' }).name, 'mdns');
  });

  it('refuses values it cannot use, naming the field', () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ interface: 'eth0' }, /configuration\.interface: "eth0" is not an IPv4 address/],
      [{ address: 'my-host' }, /configuration\.address: "my-host" is not an IP address/],
      [{ port: 70000 }, /configuration\.port: 70000 is not a port/],
      [{ ttl: '100ms' }, /configuration\.ttl: must be at least 1000 ms/],
      [{ refreshInterval: '0s' }, /configuration\.refreshInterval: must be at least 100 ms/],
      [{ resolveTimeout: 'soon' }, /configuration\.resolveTimeout/],
    ];
    for (const [configuration, message] of refused) assert.throws(() => chooseResolver({ component: 'mdns', configuration }, 'c.yaml'), message);
  });
});
