// Dapr SPIFFE ids: parsed only in their one form, and found among a certificate's subject
// alternative names as Node lists them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSpiffeId, parseSpiffeId, spiffeIdOf } from '../../../host/security/spiffe.ts';

describe('SPIFFE ids', () => {
  it('parses spiffe://<trust-domain>/ns/<namespace>/<app-id> and formats it back', () => {
    const id = parseSpiffeId('spiffe://cluster.local/ns/prod/orders');
    assert.deepEqual(id, { trustDomain: 'cluster.local', namespace: 'prod', appId: 'orders' });
    assert.equal(formatSpiffeId(id!), 'spiffe://cluster.local/ns/prod/orders');
  });

  it('refuses anything else', () => {
    for (const uri of [
      'https://cluster.local/ns/prod/orders',
      'spiffe://cluster.local/prod/orders',
      'spiffe://cluster.local/ns/prod',
      'spiffe://cluster.local/ns/prod/orders/extra',
      'spiffe:///ns/prod/orders',
      'spiffe://cluster.local/ns//orders',
      'spiffe://cluster.local/ns/prod/or ders',
      'spiffe://cluster.local/ns/prod/a,b',
    ]) {
      assert.equal(parseSpiffeId(uri), undefined, uri);
    }
  });

  it('finds the id among subject alternative names, skipping other names and quoted values', () => {
    assert.deepEqual(spiffeIdOf('DNS:localhost, URI:https://example.com, URI:spiffe://public/ns/default/a'), { trustDomain: 'public', namespace: 'default', appId: 'a' });
    assert.equal(spiffeIdOf('DNS:localhost'), undefined);
    assert.equal(spiffeIdOf('URI:"spiffe://public/ns/default/a, b"'), undefined);
    assert.equal(spiffeIdOf(undefined), undefined);
  });
});
