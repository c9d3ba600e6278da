// Wall-clock arithmetic in one time zone, as Go's `time` package does it for robfig/cron:
// local fields from an instant, an instant from local fields (`time.Date`, which picks the
// offset the same way across a DST change), and Go's `Time.String()` in UTC. Offsets come
// from the host (`timezone` capability); UTC needs no call.
import { timezone } from "../../../sdk/assemblyscript/assembly/binding";

const MS_PER_DAY: i64 = 86_400_000;

function floorDiv(a: i64, b: i64): i64 {
  const q = a / b;
  return a % b != 0 && a < 0 != b < 0 ? q - 1 : q;
}

/** Days since 1970-01-01 of a proleptic Gregorian date; `month` and `day` may overflow their ranges, as in `time.Date`. */
function daysFromCivil(year: i64, month: i64, day: i64): i64 {
  const carry = floorDiv(month - 1, 12);
  year += carry;
  month -= carry * 12;
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468 + day - 1;
}

/** The local fields of an instant in a zone. */
export class Local {
  year: i64 = 0;
  month: i32 = 0;
  day: i32 = 0;
  hour: i32 = 0;
  minute: i32 = 0;
  second: i32 = 0;
  millis: i32 = 0;
  /** 0 is Sunday, as Go's `time.Weekday`. */
  weekday: i32 = 0;
}

/** The calendar fields of milliseconds since 1970-01-01T00:00 (local or UTC). */
function fieldsOf(ms: i64): Local {
  const days = floorDiv(ms, MS_PER_DAY);
  const msOfDay = <i32>(ms - days * MS_PER_DAY);
  const z = days + 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const out = new Local();
  out.day = <i32>(doy - (153 * mp + 2) / 5 + 1);
  out.month = <i32>(mp < 10 ? mp + 3 : mp - 9);
  out.year = yoe + era * 400 + (out.month <= 2 ? 1 : 0);
  out.hour = msOfDay / 3_600_000;
  out.minute = (msOfDay / 60_000) % 60;
  out.second = (msOfDay / 1000) % 60;
  out.millis = msOfDay % 1000;
  out.weekday = <i32>(days + 4 - floorDiv(days + 4, 7) * 7);
  return out;
}

/** A time zone: UTC, or an IANA zone whose offsets the host knows. */
export class Zone {
  constructor(public name: string) {}

  /** Why the host does not know the zone, or null when it does. */
  check(atMs: i64): string | null {
    if (this.name == "UTC") return null;
    const offset = timezone.utcOffsetMinutes(this.name, <u64>max<i64>(atMs, 0));
    const error = offset.error;
    return error === null ? null : error.message;
  }

  /** Milliseconds east of UTC at `utcMs` (0 for a zone the host stopped knowing, which `check` rules out at init). */
  offsetMs(utcMs: i64): i64 {
    if (this.name == "UTC") return 0;
    const offset = timezone.utcOffsetMinutes(this.name, <u64>max<i64>(utcMs, 0));
    return offset.error === null ? <i64>offset.value * 60_000 : 0;
  }

  /** The local fields of `utcMs` in this zone. */
  local(utcMs: i64): Local {
    return fieldsOf(utcMs + this.offsetMs(utcMs));
  }

  /**
   * Go's `time.Date(year, month, day, hour, minute, second, 0, zone)`: fields out of range
   * carry over; for a local time that a DST change skips or repeats, the offset is picked as
   * Go picks it: the offset at the local time read as UTC, or, when the instant that gives lies
   * in another period, the offset at that instant.
   */
  date(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64): i64 {
    const localMs = daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
    const guess = this.offsetMs(localMs);
    const utc = localMs - guess;
    const actual = this.offsetMs(utc);
    return actual == guess ? utc : localMs - actual;
  }
}

function pad(value: i64, width: i32): string {
  let text = value.toString();
  while (text.length < width) text = "0" + text;
  return text;
}

/** Go's `t.UTC().String()` of a time in milliseconds: `2026-12-03 10:55:16.123 +0000 UTC` (trailing zeros of the fraction dropped, as Go does). */
export function goUtcString(utcMs: i64): string {
  const t = fieldsOf(utcMs);
  let text = `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)} ${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}`;
  if (t.millis != 0) {
    let fraction = pad(t.millis, 3);
    while (fraction.endsWith("0")) fraction = fraction.substring(0, fraction.length - 1);
    text += "." + fraction;
  }
  return text + " +0000 UTC";
}
