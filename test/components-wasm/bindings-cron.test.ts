// bindings.cron (components-wasm/bindings-cron, AssemblyScript on sdk/assemblyscript) through the
// real host: Dapr's schedule syntax (good ones start, bad ones fail init quoting the schedule
// and saying why), ticks that never come early and never twice, local time in a CRON_TZ zone
// through the host's `timezone` capability, the metadata Dapr's cron binding sends, reads that
// time out empty, and missed ticks that are not queued up; then the conformance kit's binding
// suite. Timings are asserted one way only ("not before"), never as lateness: the machine is
// shared and noisy.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import type { Event } from '../../abi/ts/wit/input.ts';
import type { WitResult } from '../../abi/ts/wit/abi.ts';
import { isTesseraError } from '../../host/errors.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { conformanceTests } from '../support/conformance.ts';

const WASM = new URL('../../components-wasm/bindings-cron/bindings-cron.wasm', import.meta.url);
const wasmBytes = readFile(WASM).then((bytes) => new Uint8Array(bytes));
const compiled = wasmBytes.then((bytes) => CompiledComponent.compile(bytes, { source: 'bindings-cron.wasm' }));
/** Long enough for any tick a test waits for; a read answers as soon as its tick fires. */
const READ_TIMEOUT_MS = 10_000;
/** Go's `time.Time.String()` in UTC: the fraction loses its trailing zeros, and goes when zero. */
const GO_UTC = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? \+0000 UTC$/;

const live = new Set<LiveComponent>();
after(async () => {
  for (const component of live) await component.close();
});

async function start(schedule: string): Promise<LiveComponent> {
  const component = await LiveComponent.start(await compiled, { name: 'cron', config: new Map([['schedule', schedule]]), logger: silentLogger });
  live.add(component);
  return component;
}

async function stop(component: LiveComponent): Promise<void> {
  live.delete(component);
  await component.close();
}

/** The WIT error a start failed with. */
async function startError(schedule: string): Promise<{ tag: string; val: string }> {
  try {
    await stop(await start(schedule));
  } catch (err) {
    if (isTesseraError(err) && err.componentError) return err.componentError as { tag: string; val: string };
    throw err;
  }
  assert.fail(`schedule "${schedule}" was accepted`);
}

async function read(component: LiveComponent, maxEvents = 1, timeoutMs = READ_TIMEOUT_MS): Promise<Event[]> {
  const result = (await component.call('input#read', [maxEvents, timeoutMs])) as WitResult<Event[], unknown>;
  assert.equal(result.tag, 'ok', JSON.stringify(result));
  return result.val as Event[];
}

const metadata = (event: Event): Record<string, string> => Object.fromEntries(event.metadata);

/** `readTimeUTC` back in ms since the epoch (to the ms the component's clock has). */
function readTime(event: Event): number {
  const text = metadata(event).readTimeUTC ?? '';
  const m = GO_UTC.exec(text);
  assert.ok(m, `readTimeUTC "${text}" is Go's time.Time.String() in UTC`);
  const [, y, mo, d, h, mi, s, fraction = ''] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(fraction.padEnd(3, '0').slice(0, 3)));
}

/** The scheduled instant of a tick: its id. */
const tickOf = (event: Event): number => Number(event.id);

/** Reads `count` ticks one by one, checking each came no earlier than its schedule. */
async function ticks(component: LiveComponent, count: number): Promise<Event[]> {
  const events: Event[] = [];
  for (let i = 0; i < count; i++) {
    const [event, ...more] = await read(component, 10);
    assert.ok(event, 'a tick within the timeout');
    assert.equal(more.length, 0, 'one tick per read');
    assert.ok(readTime(event) >= tickOf(event), `tick ${event.id} fired at ${metadata(event).readTimeUTC}: not early`);
    assert.ok(Date.now() >= tickOf(event));
    events.push(event);
  }
  return events;
}

/** The local wall-clock fields of `ms` in `zone`, by the host's own ICU. */
function localFields(ms: number, zone: string): { second: number; minute: number; hour: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(ms);
  const field = (type: string): number => Number(parts.find((p) => p.type === type)!.value);
  return { second: field('second'), minute: field('minute'), hour: field('hour') };
}

describe('schedules', () => {
  const good = [
    '* * * * *',
    '* * * * * *',
    '*/15 * * * * *',
    '0 30 * * * *',
    '1-5 * * * *',
    '5/10 * * * * *',
    '0 0 1,15 * *',
    '0 0 1-7/2,20 * *',
    '0 9 * JAN-MAR MON-FRI',
    '0 9 * jan,Jul sun',
    '0 0 ? * SUN',
    '0 0 12 1 * ?',
    '0 0 30 2 *',
    '@yearly',
    '@annually',
    '@monthly',
    '@weekly',
    '@daily',
    '@midnight',
    '@hourly',
    '@every 100ms',
    '@every 1h30m',
    '@every 1.5s',
    '@every 0s',
    'CRON_TZ=America/New_York 0 9 * * *',
    'TZ=Europe/Paris @daily',
    'CRON_TZ=Asia/Kolkata @every 1m',
    'TZ=UTC 0 0 * * *',
    'TZ=Local 0 0 * * *',
  ];
  for (const schedule of good) {
    test(`"${schedule}" starts`, async () => {
      await stop(await start(schedule));
    });
  }

  const bad: [string, RegExp][] = [
    ['* * * *', /expected 5 to 6 fields, found 4/],
    ['* * * * * * *', /expected 5 to 6 fields, found 7/],
    ['60 * * * * *', /end of range \(60\) above maximum \(59\)/],
    ['0 24 * * *', /end of range \(24\) above maximum \(23\)/],
    ['0 0 0 * *', /beginning of range \(0\) below minimum \(1\)/],
    ['0 0 32 * *', /end of range \(32\) above maximum \(31\)/],
    ['0 0 * 13 *', /end of range \(13\) above maximum \(12\)/],
    ['0 0 * * 7', /end of range \(7\) above maximum \(6\)/],
    ['5-1 * * * *', /beginning of range \(5\) beyond end of range \(1\)/],
    ['*/0 * * * *', /step of range should be a positive number/],
    ['1-2-3 * * * *', /too many hyphens: 1-2-3/],
    ['*/2/3 * * * *', /too many slashes: \*\/2\/3/],
    ['x * * * *', /failed to parse int from x/],
    ['0 0 * FOO *', /failed to parse int from FOO/],
    ['*/-5 * * * *', /negative number \(-5\) not allowed/],
    ['@fortnightly', /unrecognized descriptor: @fortnightly/],
    ['@Daily', /unrecognized descriptor: @Daily/],
    ['@every', /unrecognized descriptor: @every/],
    ['@every 10', /time: missing unit in duration "10"/],
    ['@every 1x', /time: unknown unit "x" in duration "1x"/],
    ['@every .s', /time: invalid duration "\.s"/],
    ['@every 99999999999h', /time: invalid duration "99999999999h"/],
    ['CRON_TZ=Mars/Olympus_Mons * * * * *', /provided bad location Mars\/Olympus_Mons/],
    ['CRON_TZ=UTC', /timezone prefix CRON_TZ=UTC is not followed by a schedule/],
    ['TZ=UTC  ', /expected 5 to 6 fields, found 0/],
  ];
  for (const [schedule, reason] of bad) {
    test(`"${schedule}" fails init with invalid-argument, quoting it and saying why`, async () => {
      const error = await startError(schedule);
      assert.equal(error.tag, 'invalid-argument');
      assert.ok(error.val.includes(`invalid schedule "${schedule}"`), error.val);
      assert.match(error.val, reason);
    });
  }

  test('a missing or empty schedule fails init naming the metadata', async () => {
    const error = await startError('');
    assert.equal(error.tag, 'invalid-argument');
    assert.match(error.val, /metadata "schedule" is not set/);
    await assert.rejects(LiveComponent.start(await compiled, { name: 'cron', config: new Map(), logger: silentLogger }), /metadata "schedule" is not set/);
  });

  test('the metadata key is matched without case, as Dapr decodes it', async () => {
    const component = await LiveComponent.start(await compiled, { name: 'cron', config: new Map([['Schedule', '@every 50ms']]), logger: silentLogger });
    live.add(component);
    assert.equal((await ticks(component, 1)).length, 1);
    await stop(component);
  });
});

describe('ticks', () => {
  test('@every 100ms ticks in order, at least 100 ms apart, never early and never twice', async () => {
    const component = await start('@every 100ms');
    const events = await ticks(component, 5);
    const ids = events.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    for (let i = 1; i < events.length; i++) {
      assert.ok(tickOf(events[i]!) >= tickOf(events[i - 1]!) + 100, `tick ${i} is 100 ms or more after the one before`);
      assert.ok(readTime(events[i]!) >= readTime(events[i - 1]!) + 100);
    }
    for (const event of events) {
      assert.deepEqual(event.data, new Uint8Array(0));
      assert.equal(event.contentType, undefined);
      assert.equal(metadata(event).timeZone, 'UTC');
    }
    await stop(component);
  });

  test('a 6-field schedule fires every second, on the second', async () => {
    const component = await start('* * * * * *');
    const events = await ticks(component, 3);
    for (const event of events) assert.equal(tickOf(event) % 1000, 0, `${event.id} is a whole second`);
    assert.equal(tickOf(events[1]!) - tickOf(events[0]!), 1000);
    assert.equal(tickOf(events[2]!) - tickOf(events[1]!), 1000);
    await stop(component);
  });

  test('*/2 seconds fires on even seconds only', async () => {
    const component = await start('*/2 * * * * *');
    for (const event of await ticks(component, 2)) assert.equal((tickOf(event) / 1000) % 2, 0, event.id);
    await stop(component);
  });

  test('metadata: timeZone and readTimeUTC as Dapr sends them', async () => {
    const component = await start('TZ=Local @every 20ms');
    const before = Date.now();
    const [event] = await ticks(component, 1);
    const after = Date.now();
    const fired = readTime(event!);
    assert.equal(metadata(event!).timeZone, 'UTC', 'Local is UTC for a component');
    assert.ok(fired >= before - 1 && fired <= after + 1, `readTimeUTC ${metadata(event!).readTimeUTC} is when the tick fired`);
    assert.deepEqual(
      event!.metadata.map(([key]) => key),
      ['timeZone', 'readTimeUTC'],
    );
    await stop(component);
  });

  test('a read whose timeout ends before the next tick answers no event, after the whole timeout', async () => {
    const component = await start('@every 1h');
    const began = performance.now();
    assert.deepEqual(await read(component, 10, 150), []);
    assert.ok(performance.now() - began >= 149, 'it waited the timeout');
    assert.deepEqual(await read(component, 0, 150), [], 'a read for no event answers none');
    await stop(component);
  });

  test('a schedule that never matches reads empty', async () => {
    const component = await start('0 0 30 2 *');
    assert.deepEqual(await read(component, 1, 50), []);
    await stop(component);
  });

  test('ticks missed while the host was slow are not queued up: the one due fires once, then the schedule goes on from then', async () => {
    const component = await start('@every 100ms');
    const [first] = await ticks(component, 1);
    // The host does not read for a while, as a slow app would make it.
    await new Promise((resolve) => setTimeout(resolve, 450));
    const readAt = Date.now();
    const late = await read(component, 10);
    assert.equal(late.length, 1, 'one event, not a backlog');
    assert.equal(tickOf(late[0]!), readTime(first!) + 100, 'the tick that was due: 100 ms after the first fired');
    const [next] = await ticks(component, 1);
    assert.ok(tickOf(next!) >= readAt + 100, 'the next tick counts from when the late one fired');
    await stop(component);
  });

  test('ack is accepted and ignored: a timer cannot deliver again', async () => {
    const component = await start('@every 10ms');
    const [event] = await ticks(component, 1);
    assert.deepEqual(await component.call('input#ack', [event!.id, 'failure']), { tag: 'ok', val: undefined });
    assert.deepEqual(await component.call('input#ack', [event!.id, 'success']), { tag: 'ok', val: undefined });
    const [next] = await ticks(component, 1);
    assert.notEqual(next!.id, event!.id);
    await stop(component);
  });
});

describe('CRON_TZ: local time in a zone, from the host', () => {
  /** A schedule for the whole second about two seconds from now, written in `zone`'s local time. */
  function soonIn(zone: string, prefix = 'CRON_TZ'): { schedule: string; at: number } {
    const at = Math.ceil((Date.now() + 2000) / 1000) * 1000;
    const { second, minute, hour } = localFields(at, zone);
    return { schedule: `${prefix}=${zone} ${second} ${minute} ${hour} * * *`, at };
  }

  const zones: [zone: string, prefix: string][] = [
    ['America/New_York', 'CRON_TZ'],
    ['Asia/Kolkata', 'TZ'],
    ['Australia/Lord_Howe', 'CRON_TZ'],
  ];
  for (const [zone, prefix] of zones) {
    test(`${prefix}=${zone}: a time of day in local time fires at the right UTC instant`, async () => {
      const { schedule, at } = soonIn(zone, prefix);
      const component = await start(schedule);
      const [event] = await ticks(component, 1);
      assert.equal(tickOf(event!), at, `${schedule} fired at ${new Date(tickOf(event!)).toISOString()}, not ${new Date(at).toISOString()}`);
      assert.equal(metadata(event!).timeZone, zone);
      assert.equal(new Date(readTime(event!)).getUTCHours(), new Date(at).getUTCHours());
      if (zone === 'America/New_York') {
        const behind = (new Date(at).getUTCHours() - localFields(at, zone).hour + 24) % 24;
        assert.ok(behind === 4 || behind === 5, `New York is 4 or 5 hours behind UTC, not ${behind}`);
      }
      await stop(component);
    });
  }
});

conformanceTests('bindings.cron', async () => ({
  bytes: await wasmBytes,
  source: 'bindings-cron.wasm',
  config: new Map([['schedule', '@every 100ms']]),
  badConfig: new Map([['schedule', '0 61 * * * *']]),
}));
