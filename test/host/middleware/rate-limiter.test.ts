// The rate limit's parts on their own: tollbooth's client address lookups and IPv6 /64
// grouping, the token bucket per address and path with its burst and refill, and the bucket
// map's bound (refilled buckets are dropped; a flood of new keys cannot grow it for ever).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress } from '../../../host/middleware/client-ip.ts';
import { middlewareSettings } from '../../../host/middleware/middleware-types.ts';
import { RateLimiter } from '../../../host/middleware/rate-limiter.ts';

describe('the client address a request counts against', () => {
  it('takes the TCP peer first, then X-Forwarded-For (last entry), then X-Real-IP, else 0.0.0.0', () => {
    assert.equal(clientAddress('127.0.0.1', { 'x-forwarded-for': '10.0.0.1' }), '127.0.0.1');
    assert.equal(clientAddress(undefined, { 'x-forwarded-for': '10.0.0.1, 10.0.0.2', 'x-real-ip': '10.0.0.3' }), '10.0.0.2');
    assert.equal(clientAddress(undefined, { 'x-real-ip': ' 10.0.0.3 ' }), '10.0.0.3');
    assert.equal(clientAddress(undefined, {}), '0.0.0.0');
  });

  it('counts an IPv6 address as its /64 and an IPv4-mapped one as IPv4', () => {
    assert.equal(clientAddress('2001:db8:0:1:aaaa::1', {}), '2001:db8:0:1::');
    assert.equal(clientAddress('2001:0db8:0000:0001:ffff:ffff:ffff:ffff', {}), '2001:db8:0:1::');
    assert.equal(clientAddress('::1', {}), '0:0:0:0::');
    assert.equal(clientAddress('::ffff:127.0.0.2', {}), '127.0.0.2');
  });
});

describe('the token bucket per address and path', () => {
  it('lets a burst of maxRequestsPerSecond through, then refills at that rate', () => {
    const limiter = new RateLimiter(2);
    assert.deepEqual([0, 0, 0].map(() => limiter.allow('a', '/p', 1000)), [true, true, false]);
    assert.equal(limiter.allow('b', '/p', 1000), true, 'another address');
    assert.equal(limiter.allow('a', '/q', 1000), true, 'another path');
    assert.equal(limiter.allow('a', '/p', 1500), true, 'half a second refills one of two');
    assert.equal(limiter.allow('a', '/p', 1500), false);
  });

  it('holds at least one request under one a second', () => {
    const limiter = new RateLimiter(0.5);
    assert.equal(limiter.allow('a', '/', 0), true);
    assert.equal(limiter.allow('a', '/', 1000), false);
    assert.equal(limiter.allow('a', '/', 2000), true);
  });

  it('drops buckets that have refilled, so distinct keys do not pile up', () => {
    const limiter = new RateLimiter(10);
    for (let i = 0; i < 50_000; i++) limiter.allow(`10.0.${i >> 8}.${i & 255}`, '/', i);
    // A key's bucket refills in a second: about the last thousand keys are held.
    assert.ok(limiter.size <= 1000 + 1024, `${limiter.size} buckets held`);
  });
});

describe('middleware metadata', () => {
  it("takes components-contrib's default of 100 and refuses what is not a number above 0", () => {
    assert.deepEqual(middlewareSettings('middleware.http.ratelimit', new Map(), 'rl', 'rl.yaml'), { type: 'middleware.http.ratelimit', maxRequestsPerSecond: 100 });
    assert.equal(middlewareSettings('middleware.http.ratelimit', new Map([['maxRequestsPerSecond', '2.5']]), 'rl', 'rl.yaml').maxRequestsPerSecond, 2.5);
    for (const bad of ['-1', '0', '', 'ten', 'Infinity'])
      assert.throws(() => middlewareSettings('middleware.http.ratelimit', new Map([['maxRequestsPerSecond', bad]]), 'rl', 'rl.yaml'), {
        code: 'ERR_COMPONENT_CONFIG',
        message: /^rl\.yaml: component "rl": metadata "maxRequestsPerSecond" must be a number above 0/,
      });
  });
});
