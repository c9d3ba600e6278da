// bindings.cron's next-tick computation (components-wasm/bindings-cron/assembly/schedule.ts) on
// fixed instants, without waiting for them: a small output binding built at test time around
// the component's own schedule module answers `next` for a schedule and an instant, through
// the real host (so zone offsets come from the host's `timezone` capability). The cases are
// robfig/cron's behaviour, which Dapr's cron binding has: field matching, day-of-month OR
// day-of-week, wrap-arounds, leap years, unsatisfiable schedules, and DST in New York and
// São Paulo (a skipped hour is skipped, a repeated hour fires twice, a missing midnight moves).
// It also drives the AssemblyScript SDK's output-binding API (OutputBinding, InvokeResult).
import assert from 'node:assert/strict';
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { WitResult } from '../../abi/ts/wit/abi.ts';
import type { InvokeResponse } from '../../abi/ts/wit/output.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { buildAssemblyScriptComponent } from '../../host/toolchain/assemblyscript.ts';
import { SDK_DIRS } from '../../host/toolchain/build-support.ts';
import { tempDir } from '../support/temp-dir.ts';

const CRON_SOURCES = fileURLToPath(new URL('../../components-wasm/bindings-cron/assembly', import.meta.url));
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** An output binding whose operation `next` answers the first tick of a schedule after an instant: data `"<ms> <schedule>"`. */
function harnessSource(sdk: string, cron: string): string {
  return `export * from "${sdk}/binding-exports";
export * from "${sdk}/output-exports";
import { InvokeRequest, InvokeResponse, InvokeResult, Metadata, OutputBinding, registerOutputBinding, StateError } from "${sdk}/binding";
import { NEVER, parseSchedule } from "${cron}/schedule";

class NextTick extends OutputBinding {
  operations(): string[] {
    return ["next"];
  }

  invoke(req: InvokeRequest): InvokeResult {
    const text = String.UTF8.decodeUnsafe(req.data.dataStart, req.data.length);
    const space = text.indexOf(" ");
    const from = I64.parseInt(text.substring(0, space));
    const parsed = parseSchedule(text.substring(space + 1), from);
    const schedule = parsed.schedule;
    if (schedule === null) return InvokeResult.failed(StateError.invalidArgument(parsed.error!));
    const next = schedule.next(from);
    return InvokeResult.ok(new InvokeResponse(Uint8Array.wrap(String.UTF8.encode(next == NEVER ? "never" : next.toString())), new Metadata(), "text/plain"));
  }
}

registerOutputBinding(new NextTick());
`;
}

let component: LiveComponent;
const dir = await tempDir('tessera-cron-next-');
before(async () => {
  const folder = join(dir.path, 'cron-next');
  await mkdir(join(folder, 'assembly'), { recursive: true });
  const from = join(folder, 'assembly');
  await writeFile(join(folder, 'assembly', 'index.ts'), harnessSource(relative(from, SDK_DIRS.as), relative(from, CRON_SOURCES)));
  await writeFile(
    join(folder, 'manifest.json'),
    JSON.stringify({ kind: 'binding', type: 'bindings.cron-next', version: 'v1', abi: ABI_VERSION, capabilities: ['log', 'timezone'] }),
  );
  const bytes = await buildAssemblyScriptComponent(folder, join(folder, 'cron-next.wasm'));
  component = await LiveComponent.start(await CompiledComponent.compile(bytes), { name: 'cron-next', config: new Map(), logger: silentLogger });
});
after(async () => {
  await component?.close();
  await dir.remove();
});

/** The next tick of `schedule` after `from` (ISO 8601 with its offset), as an ISO instant in UTC, or `never`. */
async function next(schedule: string, from: string): Promise<string> {
  const result = (await component.call('output#invoke', [{ operation: 'next', data: encode(`${Date.parse(from)} ${schedule}`), metadata: [] }])) as WitResult<InvokeResponse, { tag: string; val: string }>;
  assert.equal(result.tag, 'ok', JSON.stringify(result.val));
  const text = decode((result.val as InvokeResponse).data);
  return text === 'never' ? text : new Date(Number(text)).toISOString();
}

const iso = (text: string): string => new Date(text).toISOString();

describe('next tick', () => {
  const cases: [from: string, schedule: string, expected: string][] = [
    // Steps, ranges, and wrapping into the next hour, day, month and year (UTC).
    ['2012-07-09T14:45:00Z', '0 0/15 * * * *', '2012-07-09T15:00:00Z'],
    ['2012-07-09T14:59:59Z', '0 0/15 * * * *', '2012-07-09T15:00:00Z'],
    ['2012-07-09T15:45:00Z', '0 20-35/15 * * * *', '2012-07-09T16:20:00Z'],
    ['2012-07-09T23:46:00Z', '0 */15 * * * *', '2012-07-10T00:00:00Z'],
    ['2012-07-09T23:35:51Z', '15/35 20-35/15 * * * *', '2012-07-10T00:20:15Z'],
    ['2012-07-09T23:35:51Z', '15/35 20-35/15 1/2 */2 * *', '2012-07-11T01:20:15Z'],
    ['2012-07-09T23:35:51Z', '15/35 20-35/15 * 9-20 Jul *', '2012-07-10T00:20:15Z'],
    ['2012-07-09T23:35:00Z', '0 0 0 9 Apr-Oct ?', '2012-08-09T00:00:00Z'],
    ['2012-07-09T23:35:00Z', '0 0 0 */5 Apr,Aug,Oct Mon', '2012-08-01T00:00:00Z'],
    ['2012-07-09T23:35:00Z', '0 0 0 * Feb Mon', '2013-02-04T00:00:00Z'],
    ['2012-07-09T23:35:00Z', '0 0 0 * Feb Mon/2', '2013-02-01T00:00:00Z'],
    ['2012-12-31T23:59:45Z', '0 * * * * *', '2013-01-01T00:00:00Z'],
    ['2012-07-09T23:35:00Z', '0 0 0 29 Feb ?', '2016-02-29T00:00:00Z'],
    // Day of month OR day of week when both are restricted; AND when one is `*`.
    ['2012-06-14T23:59:59Z', '0 0 * 1,15 * Sun', '2012-06-15T00:00:00Z'],
    ['2012-07-14T00:00:00Z', '0 0 * * * Mon', '2012-07-16T00:00:00Z'],
    // 5 fields: the seconds are 0.
    ['2012-07-09T14:45:10Z', '*/15 * * * *', '2012-07-09T15:00:00Z'],
    // Descriptors.
    ['2012-07-09T15:00:00Z', '@hourly', '2012-07-09T16:00:00Z'],
    ['2012-07-09T15:00:00Z', '@daily', '2012-07-10T00:00:00Z'],
    ['2012-07-09T15:00:00Z', '@weekly', '2012-07-15T00:00:00Z'],
    ['2012-07-09T15:00:00Z', '@monthly', '2012-08-01T00:00:00Z'],
    ['2012-07-09T15:00:00Z', '@yearly', '2013-01-01T00:00:00Z'],
    ['2012-07-09T15:00:00.250Z', '@every 1h30m', '2012-07-09T16:30:00.250Z'],
    ['2012-07-09T15:00:00Z', '@every 100ms', '2012-07-09T15:00:00.100Z'],
    ['2012-07-09T15:00:00Z', '@every 1.5s', '2012-07-09T15:00:01.500Z'],
    ['2012-07-09T15:00:00Z', '@every 10us', '2012-07-09T15:00:00.001Z'],
    // Local time in a zone: 9:00 in New York is 14:00 UTC in winter, 13:00 in summer.
    ['2026-01-15T12:00:00Z', 'CRON_TZ=America/New_York 0 0 9 * * *', '2026-01-15T14:00:00Z'],
    ['2026-07-15T12:00:00Z', 'CRON_TZ=America/New_York 0 0 9 * * *', '2026-07-15T13:00:00Z'],
    ['2026-07-15T12:00:00Z', 'CRON_TZ=Asia/Kolkata 0 30 9 * * *', '2026-07-16T04:00:00Z'],
    // DST in New York, 2am EST -> 3am EDT: a time that does not exist that day is skipped.
    ['2012-03-11T00:00:00-05:00', 'TZ=America/New_York 0 30 2 11 Mar ?', '2013-03-11T02:30:00-04:00'],
    ['2012-03-11T00:00:00-05:00', 'TZ=America/New_York 0 0 * * * ?', '2012-03-11T01:00:00-05:00'],
    ['2012-03-11T01:00:00-05:00', 'TZ=America/New_York 0 0 * * * ?', '2012-03-11T03:00:00-04:00'],
    ['2012-03-11T03:00:00-04:00', 'TZ=America/New_York 0 0 * * * ?', '2012-03-11T04:00:00-04:00'],
    ['2012-03-11T01:00:00-05:00', 'CRON_TZ=America/New_York 0 0 1 * * ?', '2012-03-12T01:00:00-04:00'],
    ['2012-03-11T00:00:00-05:00', 'TZ=America/New_York 0 0 2 * * ?', '2012-03-12T02:00:00-04:00'],
    // DST in New York, 2am EDT -> 1am EST: the repeated hour fires twice.
    ['2012-11-04T00:00:00-04:00', 'TZ=America/New_York 0 30 2 04 Nov ?', '2012-11-04T02:30:00-05:00'],
    ['2012-11-04T01:45:00-04:00', 'TZ=America/New_York 0 30 1 04 Nov ?', '2012-11-04T01:30:00-05:00'],
    ['2012-11-04T00:00:00-04:00', 'TZ=America/New_York 0 0 * * * ?', '2012-11-04T01:00:00-04:00'],
    ['2012-11-04T01:00:00-04:00', 'TZ=America/New_York 0 0 * * * ?', '2012-11-04T01:00:00-05:00'],
    ['2012-11-04T01:00:00-05:00', 'TZ=America/New_York 0 0 * * * ?', '2012-11-04T02:00:00-05:00'],
    ['2012-11-04T00:00:00-04:00', 'TZ=America/New_York 0 0 1 * * ?', '2012-11-04T01:00:00-04:00'],
    ['2012-11-04T01:00:00-04:00', 'TZ=America/New_York 0 0 1 * * ?', '2012-11-04T01:00:00-05:00'],
    ['2012-11-04T01:00:00-05:00', 'TZ=America/New_York 0 0 1 * * ?', '2012-11-05T01:00:00-05:00'],
    ['2012-11-04T00:00:00-04:00', 'TZ=America/New_York 0 0 2 * * ?', '2012-11-04T02:00:00-05:00'],
    ['2012-11-04T00:00:00-04:00', 'TZ=America/New_York 0 0 3 * * ?', '2012-11-04T03:00:00-05:00'],
    ['2012-11-04T00:00:00-04:00', 'TZ=America/New_York 0 0 3 3 * ?', '2012-12-03T03:00:00-05:00'],
    // São Paulo, where DST once began at midnight: the day starts at 1am.
    ['2018-10-17T05:00:00-04:00', 'TZ=America/Sao_Paulo 0 0 9 10 * ?', '2018-11-10T06:00:00-05:00'],
    ['2018-02-14T05:00:00-05:00', 'TZ=America/Sao_Paulo 0 0 9 22 * ?', '2018-02-22T07:00:00-05:00'],
  ];
  for (const [from, schedule, expected] of cases) {
    test(`"${schedule}" after ${from} is ${expected}`, async () => {
      assert.equal(await next(schedule, from), iso(expected));
    });
  }

  for (const schedule of ['0 0 0 30 Feb ?', '0 0 0 31 Apr ?']) {
    test(`"${schedule}" never fires`, async () => {
      assert.equal(await next(schedule, '2012-07-09T23:35:00Z'), 'never');
    });
  }

  test('the next tick is always strictly later, even at a tick', async () => {
    assert.equal(await next('* * * * * *', '2012-07-09T15:00:00Z'), iso('2012-07-09T15:00:01Z'));
    assert.equal(await next('* * * * * *', '2012-07-09T15:00:00.999Z'), iso('2012-07-09T15:00:01Z'));
  });
});
