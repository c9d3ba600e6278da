// The method of an invocation is normalised, and a traversal refused in any spelling, before
// any policy, resolver or callee sees it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseMethod } from '../../../../host/building-blocks/invoke/method-path.ts';
import { isTesseraError } from '../../../../host/errors.ts';

describe('normaliseMethod', () => {
  it('drops empty and "." segments, keeps a trailing slash and the encoding as sent', () => {
    assert.equal(normaliseMethod('orders/42'), 'orders/42');
    assert.equal(normaliseMethod('/./orders//42/'), 'orders/42/');
    assert.equal(normaliseMethod('a%20b/c%2Fd'), 'a%20b/c%2Fd');
    assert.equal(normaliseMethod(''), '');
  });

  it('refuses ".." however it is spelled, naming the method', () => {
    for (const method of ['..', 'a/../b', 'a/%2e%2e/b', 'a/%2E./b', '..%2fadmin', 'a/..%5cb', 'x/..\\y']) {
      assert.throws(
        () => normaliseMethod(method),
        (err) => isTesseraError(err, 'ERR_MALFORMED_REQUEST') && /traversal/.test(err.message) && err.message.includes(method.slice(0, 5)),
        method,
      );
    }
  });

  it('refuses control characters and broken percent-encoding', () => {
    assert.throws(() => normaliseMethod('a%00b'), /control character/);
    assert.throws(() => normaliseMethod('a%0d%0aX-Injected: 1'), /control character/);
    assert.throws(() => normaliseMethod('a%zz'), /not valid percent-encoding/);
  });

  it('lets names that merely contain dots through', () => {
    assert.equal(normaliseMethod('v1.0/file..txt/...'), 'v1.0/file..txt/...');
  });
});
