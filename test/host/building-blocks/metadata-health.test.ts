// The metadata and health building blocks below any transport: what GET /v1.0/metadata
// and the health checks answer (and the gRPC API will), called directly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBuildingBlocks } from '../../../host/building-blocks/building-blocks.ts';
import { isTesseraError } from '../../../host/errors.ts';
import { FakeComponents } from '../../support/fake-components.ts';
import { MemoryStateStore } from '../../support/memory-state-store.ts';

function blocks(options: { ready?: () => boolean } = {}) {
  const sick = new MemoryStateStore();
  const components = new FakeComponents().addStateStore('statestore', new MemoryStateStore()).addStateStore('cache', sick);
  const subscriptions = { list: () => [{ pubsubname: 'pubsub', topic: 'orders' }], problems: () => [{ topic: 'bad', error: 'no route' }] };
  return { sick, ...createBuildingBlocks({ appId: 'orders', runtimeVersion: '1.2.3', components, subscriptions, isReady: options.ready ?? (() => true) }) };
}

describe('metadata building block', () => {
  it("builds daprd's document with the app's attributes and Tessera's statuses", () => {
    const { metadata } = blocks();
    metadata.setExtended('team', 'payments');
    metadata.setExtended('', 'ignored');
    const doc = metadata.document();
    assert.deepEqual(Object.keys(doc), [
      'id', 'runtimeVersion', 'enabledFeatures', 'actors', 'components', 'extended', 'subscriptions',
      'httpEndpoints', 'appConnectionProperties', 'actorRuntime', 'componentStatus', 'subscriptionStatus',
    ]);
    assert.equal(doc.id, 'orders');
    assert.deepEqual(doc.components.map((c) => c.name), ['statestore', 'cache']);
    assert.deepEqual(doc.extended, { team: 'payments', daprRuntimeVersion: '1.2.3' });
    assert.deepEqual(doc.subscriptions, [{ pubsubname: 'pubsub', topic: 'orders' }]);
    assert.deepEqual(doc.subscriptionStatus, [{ topic: 'bad', error: 'no route' }]);
  });
});

describe('health building block', () => {
  it('is ready once the sidecar is, for its own app id only', () => {
    let ready = false;
    const { health } = blocks({ ready: () => ready });
    assert.throws(() => health.checkReady(), (err) => isTesseraError(err, 'ERR_HEALTH_NOT_READY'));
    ready = true;
    health.checkReady();
    health.checkReady('orders');
    assert.throws(() => health.checkReady('billing'), (err) => isTesseraError(err, 'ERR_HEALTH_APPID_NOT_MATCH'));
  });

  it('names the components that do not answer their ping', async () => {
    const { health, sick } = blocks();
    await health.checkOutbound();
    sick.unhealthy = true;
    await assert.rejects(health.checkOutbound(), (err) => isTesseraError(err, 'ERR_OUTBOUND_HEALTH_NOT_READY') && /: cache$/.test(err.message));
  });
});
