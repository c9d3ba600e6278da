// The timezone capability: offsets from the host's time-zone database, daylight saving time
// included, and an unknown zone refused by name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../../host/observability/logger.ts';
import { timezoneCapability } from '../../../../host/sandbox/capabilities/timezone.ts';

const fns = timezoneCapability.build({ component: 'cron', logger: silentLogger, grant: undefined, onDispose: () => {}, shared: new Map(), memoryLimitBytes: 64 * 1024 * 1024 });
const offset = fns['utc-offset-minutes'] as (zone: string, utcMs: bigint) => unknown;
const at = (iso: string): bigint => BigInt(Date.parse(iso));

test('Europe/Paris is UTC+2 in summer and UTC+1 in winter, switching at the hour the law says', () => {
  assert.deepEqual(offset('Europe/Paris', at('2026-07-14T12:00:00Z')), { tag: 'ok', val: 120 });
  assert.deepEqual(offset('Europe/Paris', at('2026-01-15T12:00:00Z')), { tag: 'ok', val: 60 });
  // Summer time ends on the last Sunday of October at 01:00 UTC.
  assert.deepEqual(offset('Europe/Paris', at('2026-10-25T00:59:59Z')), { tag: 'ok', val: 120 });
  assert.deepEqual(offset('Europe/Paris', at('2026-10-25T01:00:00Z')), { tag: 'ok', val: 60 });
});

test('UTC is 0, zones west of it are negative, and half-hour zones keep their minutes', () => {
  assert.deepEqual(offset('UTC', at('2026-07-14T12:00:00Z')), { tag: 'ok', val: 0 });
  assert.deepEqual(offset('America/New_York', at('2026-01-15T12:00:00Z')), { tag: 'ok', val: -300 });
  assert.deepEqual(offset('Asia/Kolkata', at('2026-01-15T12:00:00Z')), { tag: 'ok', val: 330 });
});

test('an unknown zone is refused as invalid-argument, naming it', () => {
  assert.deepEqual(offset('Mars/Olympus_Mons', at('2026-07-14T12:00:00Z')), {
    tag: 'err',
    val: { tag: 'invalid-argument', val: 'time zone "Mars/Olympus_Mons" is not one the host knows (use an IANA name such as Europe/Paris)' },
  });
  assert.equal((offset('x'.repeat(10_000), 0n) as { tag: string }).tag, 'err', 'a long name is refused without being looked up');
});
