// `timezone`: UTC offsets from the host's time-zone database (Node's ICU), so a component
// that schedules in local time (`bindings.cron`'s `CRON_TZ=`) needs no database of its own.
// A formatter per zone is cached, a bounded number of them.
import type { WitResult } from '../../../abi/ts/types.ts';
import type { Capability } from './capability.ts';

const MAX_CACHED_ZONES = 64;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(zone);
  if (f !== undefined) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  } catch {
    return undefined;
  }
  if (formatters.size >= MAX_CACHED_ZONES) formatters.delete(formatters.keys().next().value!);
  formatters.set(zone, f);
  return f;
}

/** Minutes east of UTC of local time in `zone` at `utcMs`; undefined for a zone ICU does not know. */
export function utcOffsetMinutes(zone: string, utcMs: number): number | undefined {
  const f = formatter(zone);
  if (f === undefined) return undefined;
  // `GMT+05:30`, `GMT-08:00`, or plain `GMT` at offset zero.
  const name = f.formatToParts(utcMs).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

export const timezoneCapability: Capability = {
  interface: 'timezone',
  async: new Set(),
  build() {
    return {
      'utc-offset-minutes': (zone: string, utcMs: bigint): WitResult<number> => {
        const offset = zone.length <= 64 ? utcOffsetMinutes(zone, Number(utcMs)) : undefined;
        if (offset === undefined) return { tag: 'err', val: { tag: 'invalid-argument', val: `time zone "${zone.slice(0, 64)}" is not one the host knows (use an IANA name such as Europe/Paris)` } };
        return { tag: 'ok', val: offset };
      },
    };
  },
};
