// Key prefix strategies as daprd applies them, and the keys they refuse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyPrefixFor } from '../../../../host/building-blocks/state/key-prefix.ts';
import { isTesseraError } from '../../../../host/errors.ts';

const context = { storeName: 'statestore', appId: 'orders' };
const prefixed = (keyPrefix: string | undefined, key = 'k', extra: { namespace?: string } = {}): string => {
  const config = new Map(keyPrefix === undefined ? [] : [['keyPrefix', keyPrefix]]);
  return keyPrefixFor(config, { ...context, ...extra }).apply(key);
};

describe('key prefix', () => {
  it('prefixes with the app id by default and for appid', () => {
    assert.equal(prefixed(undefined), 'orders||k');
    assert.equal(prefixed(''), 'orders||k');
    assert.equal(prefixed('appid'), 'orders||k');
    assert.equal(prefixed('AppID'), 'orders||k');
  });

  it('prefixes with the store name for name, and nothing for none', () => {
    assert.equal(prefixed('name'), 'statestore||k');
    assert.equal(prefixed('none'), 'k');
  });

  it('uses any other value as a literal prefix, lowercased as daprd does', () => {
    assert.equal(prefixed('shared'), 'shared||k');
    assert.equal(prefixed('Shared'), 'shared||k');
  });

  it('prefixes with namespace.appid for namespace, falling back to the app id', () => {
    assert.equal(prefixed('namespace', 'k', { namespace: 'prod' }), 'prod.orders||k');
    assert.equal(prefixed('namespace'), 'orders||k');
  });

  it("refuses a key containing '||', naming it", () => {
    assert.throws(
      () => prefixed(undefined, 'a||b'),
      (err) => isTesseraError(err, 'ERR_MALFORMED_REQUEST') && err.message.includes("'a||b'"),
    );
  });

  it("refuses a keyPrefix setting containing '||' as a configuration error", () => {
    assert.throws(
      () => prefixed('x||y'),
      (err) => isTesseraError(err, 'ERR_COMPONENT_CONFIG') && err.message.includes('statestore'),
    );
  });

  it('strips the prefix to give back the user key', () => {
    const prefix = keyPrefixFor(new Map(), context);
    assert.equal(prefix.strip('orders||k'), 'k');
    assert.equal(prefix.strip('other'), 'other');
    assert.equal(keyPrefixFor(new Map([['keyPrefix', 'none']]), context).strip('a'), 'a');
  });
});
