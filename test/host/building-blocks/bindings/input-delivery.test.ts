// Input bindings delivered to a real HTTP app on loopback, over a queue-like binding double:
// daprd's OPTIONS probe, the route, the event as body and headers, and the app's verdict
// reported to the binding, which delivers a failed event again.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { AppChannel } from '../../../../host/app-channel/app-channel.ts';
import { InputBindings } from '../../../../host/building-blocks/bindings/input-bindings.ts';
import { INPUT_TIMINGS } from '../../../../host/building-blocks/bindings/input-delivery.ts';
import { createLogger } from '../../../../host/observability/logger.ts';
import { FakeComponents } from '../../../support/fake-components.ts';
import { MemoryBinding } from '../../../support/memory-binding.ts';
import { pollUntil } from '../../../support/sidecar-process.ts';
import { TestApp, freePort } from '../../../support/test-app.ts';

const TIMINGS = { ...INPUT_TIMINGS, errorMinMs: 5, errorMaxMs: 20, idleMaxMs: 5 };

describe('input bindings, delivered to the app', () => {
  let app: TestApp;
  let channel: AppChannel;
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', json: false, write: (line) => logs.push(line) });
  let inputs: InputBindings | undefined;

  before(async () => {
    app = await new TestApp().listen();
    channel = new AppChannel({ port: app.port });
  });
  afterEach(async () => {
    await inputs?.stop();
    inputs = undefined;
  });
  after(async () => {
    channel.close();
    await app.close();
  });

  const start = (components: FakeComponents, over: AppChannel = channel): InputBindings => {
    inputs = new InputBindings({ components, channel: over, logger, timings: TIMINGS });
    inputs.reconcile();
    return inputs;
  };
  const posts = (path: string) => app.at(path).filter((d) => d.method === 'POST');

  test('asks OPTIONS /{name} first, then POSTs each event with its data, content type and metadata as headers', async () => {
    const timer = new MemoryBinding('ticks', { input: true });
    timer.emit('{"n":1}', [['readTimeUTC', '2026-12-03 10:00:00 +0000 UTC'], ['bad\nname', 'x']]);
    timer.emit('plain', [], 'text/plain');
    start(new FakeComponents().addBinding('ticks', timer));
    await pollUntil('two events acknowledged', () => (timer.acks.length >= 2 ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
    const [first, second] = posts('/ticks');
    assert.equal(app.at('/ticks')[0]!.method, 'OPTIONS', 'the probe comes first');
    assert.equal(first!.body, '{"n":1}');
    assert.equal(first!.headers['content-type'], 'application/json', 'JSON when the event names no type');
    assert.equal(first!.headers.readtimeutc, '2026-12-03 10:00:00 +0000 UTC');
    assert.equal(second!.headers['content-type'], 'text/plain');
    assert.deepEqual(timer.acks, [{ id: 'e1', outcome: 'success' }, { id: 'e2', outcome: 'success' }]);
  });

  test('`route` metadata names the path; `direction: input` skips the probe', async () => {
    const q = new MemoryBinding('q', { input: true });
    q.emit('1');
    start(new FakeComponents().addBinding('q', q, { route: '/jobs/in', direction: 'input, output' }));
    await app.waitFor('/jobs/in');
    assert.deepEqual(app.at('/jobs/in').map((d) => d.method), ['POST']);
  });

  test('an app that answers OPTIONS with 404 gets nothing; the binding keeps its events', async () => {
    const quiet = new MemoryBinding('quiet', { input: true });
    quiet.emit('1');
    app.on('/quiet', (d) => ({ status: d.method === 'OPTIONS' ? 404 : 200 }));
    start(new FakeComponents().addBinding('quiet', quiet));
    await pollUntil('the log says why', () => logs.find((l) => l.includes('input binding quiet is not delivered: the app answered OPTIONS /quiet with 404')), { timeoutMs: 5000, intervalMs: 5 });
    assert.equal(posts('/quiet').length, 0);
    assert.equal(quiet.pending, 1);
  });

  test('an answer other than 200 is a failure: the binding hands the event out again, and it is delivered once the app takes it', async () => {
    const orders = new MemoryBinding('orders', { input: true });
    orders.emit('a');
    orders.emit('b');
    // nth counts the probe too: the first two POSTs are refused.
    app.on('/orders', (d, nth) => ({ status: d.method === 'POST' && nth <= 3 ? 500 : 200 }));
    start(new FakeComponents().addBinding('orders', orders));
    await pollUntil('both events delivered', () => (orders.pending === 0 && orders.acks.filter((a) => a.outcome === 'success').length === 2 ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
    const bodies = posts('/orders').map((d) => d.body);
    assert.equal(bodies.length, 4, 'two refused, then each taken once');
    assert.deepEqual(bodies.slice(2).sort(), ['a', 'b']);
    assert.ok(orders.acks.some((a) => a.id === 'e1' && a.outcome === 'failure'));
    assert.ok(logs.some((l) => /the app answered event e1 on POST \/orders with 500: reported to the binding as a failure/.test(l)));
  });

  test('an app that is not up yet is asked until it answers; a sidecar with no app port delivers nothing and says so', async () => {
    const port = await freePort();
    const late = new TestApp();
    const lateChannel = new AppChannel({ port });
    const b = new MemoryBinding('late', { input: true });
    b.emit('x');
    start(new FakeComponents().addBinding('late', b), lateChannel);
    await pollUntil('a probe refused', () => logs.find((l) => l.includes('input binding late: the app did not answer OPTIONS /late')), { timeoutMs: 5000, intervalMs: 5 });
    await late.listen(port);
    await late.waitFor('/late', 2);
    await inputs!.stop();
    lateChannel.close();
    await late.close();

    const none = new InputBindings({ components: new FakeComponents().addBinding('late', b), channel: undefined, logger, timings: TIMINGS });
    none.reconcile();
    assert.ok(logs.some((l) => l.includes('input binding late is not delivered: the sidecar has no app port (--app-port)')));
    await none.stop();
  });

  test('a binding that goes away stops being read; one that comes back starts again', async () => {
    const components = new FakeComponents();
    const b = new MemoryBinding('comes', { input: true });
    components.addBinding('comes', b, { direction: 'input' });
    const manager = start(components);
    b.emit('1');
    await app.waitFor('/comes', 1);
    components.removeBinding('comes');
    manager.reconcile();
    assert.deepEqual(manager.list(), []);
    b.emit('2');
    components.addBinding('comes', b, { direction: 'input' });
    manager.reconcile();
    await app.waitFor('/comes', 2);
    assert.equal(b.readers, 2);
  });
});
