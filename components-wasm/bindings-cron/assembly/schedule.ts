// Cron schedules as Dapr's `bindings.cron` parses them (dapr/kit/cron, a fork of robfig/cron
// v3, with `SecondOptional | Minute | Hour | Dom | Month | Dow | Descriptor`): an optional
// `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix, then 5 or 6 fields (seconds first when 6),
// each a comma list of `*`, `?`, `N`, `N-M`, with an optional `/step`, months and weekdays
// also by name; or a descriptor (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
// `@midnight`, `@hourly`, `@every <Go duration>`). `next` is robfig's `Next`, field by field
// in the schedule's zone, so DST changes behave as they do in Dapr.
import { parseDuration } from "./duration";
import { Local, Zone } from "./zoned-time";

/** Set when a field was `*` or `?`: day-of-month and day-of-week then combine with AND, else with OR. */
const STAR: u64 = 1 << 63;
/** No tick: the schedule matches no time in the next five years. */
export const NEVER: i64 = i64.MIN_VALUE;

/** A field's range; `names[i]`, when there are names, is the value `min + i`. */
class Bounds {
  constructor(public min: u32, public max: u32, public names: string[] | null = null) {}
}

const SECONDS = new Bounds(0, 59);
const MINUTES = new Bounds(0, 59);
const HOURS = new Bounds(0, 23);
const DAYS_OF_MONTH = new Bounds(1, 31);
const MONTHS = new Bounds(1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]);
const DAYS_OF_WEEK = new Bounds(0, 6, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]);
/** The six fields in the order a schedule writes them. */
const FIELDS = [SECONDS, MINUTES, HOURS, DAYS_OF_MONTH, MONTHS, DAYS_OF_WEEK];

/** When a schedule fires, in its zone. */
export abstract class Schedule {
  constructor(public zone: Zone) {}

  /** The first tick strictly after `afterMs` (ms since the Unix epoch), or `NEVER`. */
  abstract next(afterMs: i64): i64;
}

/** `@every <duration>`: a fixed delay after the previous tick, on the millisecond. */
export class EverySchedule extends Schedule {
  constructor(zone: Zone, public delayMs: i64) {
    super(zone);
  }

  next(afterMs: i64): i64 {
    return afterMs + this.delayMs;
  }
}

/** The fields as bit sets, bit `n` for value `n`, plus `STAR`. */
export class SpecSchedule extends Schedule {
  constructor(zone: Zone, public second: u64, public minute: u64, public hour: u64, public dom: u64, public month: u64, public dow: u64) {
    super(zone);
  }

  private dayMatches(day: i32, weekday: i32): bool {
    const domMatch = ((this.dom >> day) & 1) != 0;
    const dowMatch = ((this.dow >> weekday) & 1) != 0;
    if ((this.dom & STAR) != 0 || (this.dow & STAR) != 0) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  /**
   * robfig's `SpecSchedule.Next`: from the next whole second, find the first month that
   * matches, then day, hour, minute and second, resetting the smaller fields on the first
   * step and starting over (WRAP) when a field wraps; gives up after five years.
   */
  next(afterMs: i64): i64 {
    const search = new Search(this.zone);
    search.moveTo(afterMs - floorMod(afterMs, 1000) + 1000);
    const yearLimit = search.l.year + 5;
    while (search.l.year <= yearLimit) {
      if (!this.findMonth(search) || !this.findDay(search)) continue;
      if (!search.stepUntil(this.hour, 3_600_000, hourOf, startOfHour)) continue;
      if (!search.stepUntil(this.minute, 60_000, minuteOf, truncate)) continue;
      if (!search.stepUntil(this.second, 1000, secondOf, truncate)) continue;
      return search.t;
    }
    return NEVER;
  }

  /** Steps a month at a time (`AddDate(0, 1, 0)`) to a matching month; false when it wrapped into January. */
  private findMonth(search: Search): bool {
    while (((this.month >> search.l.month) & 1) == 0) {
      if (!search.added) {
        search.added = true;
        search.date(search.l.year, search.l.month, 1, 0, 0, 0);
      }
      const l = search.l;
      search.date(l.year, l.month + 1, l.day, l.hour, l.minute, l.second);
      if (search.l.month == 1) return false;
    }
    return true;
  }

  /** Steps a day at a time (`AddDate(0, 0, 1)`) to a matching day; false when it wrapped into the next month. */
  private findDay(search: Search): bool {
    while (!this.dayMatches(search.l.day, search.l.weekday)) {
      if (!search.added) {
        search.added = true;
        search.date(search.l.year, search.l.month, search.l.day, 0, 0, 0);
      }
      const l = search.l;
      search.date(l.year, l.month, l.day + 1, l.hour, l.minute, l.second);
      // Where DST moves midnight, the day starts at 23:00 or 01:00: back to midnight.
      const hour = search.l.hour;
      if (hour != 0) search.moveTo(search.t + (hour > 12 ? <i64>(24 - hour) : -(<i64>hour)) * 3_600_000);
      if (search.l.day == 1) return false;
    }
    return true;
  }
}

function floorMod(a: i64, b: i64): i64 {
  return ((a % b) + b) % b;
}

/** Where robfig's search stands: the candidate time, its local fields, and whether a field was stepped yet. */
class Search {
  t: i64 = 0;
  l: Local = new Local();
  /** Set by the first step of any field: the smaller fields then start from their beginning. */
  added: bool = false;

  constructor(public zone: Zone) {}

  moveTo(t: i64): void {
    this.t = t;
    this.l = this.zone.local(t);
  }

  /** Go's `time.Date` in the schedule's zone. */
  date(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64): void {
    this.moveTo(this.zone.date(year, month, day, hour, minute, second));
  }

  /**
   * Steps by `unitMs` until `bits` has the field `fieldOf` reads (after `reset` on the very
   * first step); false when the field wrapped to 0, and the search starts over.
   */
  stepUntil(bits: u64, unitMs: i64, fieldOf: (l: Local) => i32, reset: (search: Search, unitMs: i64) => void): bool {
    while (((bits >> fieldOf(this.l)) & 1) == 0) {
      if (!this.added) {
        this.added = true;
        reset(this, unitMs);
      }
      this.moveTo(this.t + unitMs);
      if (fieldOf(this.l) == 0) return false;
    }
    return true;
  }
}

function hourOf(l: Local): i32 {
  return l.hour;
}

function minuteOf(l: Local): i32 {
  return l.minute;
}

function secondOf(l: Local): i32 {
  return l.second;
}

/** The hour's first step starts at its beginning in local time (`time.Date(..., hour, 0, 0, 0, loc)`). */
function startOfHour(search: Search, unitMs: i64): void {
  const l = search.l;
  search.date(l.year, l.month, l.day, l.hour, 0, 0);
}

/** The minute's and second's first step starts at the whole unit (`Truncate`). */
function truncate(search: Search, unitMs: i64): void {
  search.moveTo(search.t - floorMod(search.t, unitMs));
}

/** A parsed schedule, or why the text is not one (the reason alone; the caller quotes the schedule). */
export class ParsedSchedule {
  constructor(public schedule: Schedule | null, public error: string | null) {}

  static ok(schedule: Schedule): ParsedSchedule {
    return new ParsedSchedule(schedule, null);
  }

  static failed(error: string): ParsedSchedule {
    return new ParsedSchedule(null, error);
  }
}

function isSpace(c: i32): bool {
  return c == 32 || (c >= 9 && c <= 13) || c == 0x85 || c == 0xa0;
}

/** Go's `strings.Fields`. */
function fields(text: string): string[] {
  const out = new Array<string>();
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const space = i == text.length || isSpace(text.charCodeAt(i));
    if (space && start >= 0) {
      out.push(text.substring(start, i));
      start = -1;
    } else if (!space && start < 0) {
      start = i;
    }
  }
  return out;
}

/** A value of a field, or why not. */
class Parsed {
  constructor(public value: u64, public error: string | null) {}
}

/** Go's `strconv.Atoi` then robfig's negative check. */
function parseNumber(text: string): Parsed {
  let i = 0;
  let negative = false;
  if (text.length > 0 && (text.charCodeAt(0) == 43 || text.charCodeAt(0) == 45)) {
    negative = text.charCodeAt(0) == 45;
    i = 1;
  }
  if (i == text.length) return new Parsed(0, `failed to parse int from ${text}: not a number`);
  let value: u64 = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return new Parsed(0, `failed to parse int from ${text}: not a number`);
    const digit = <u64>(c - 48);
    if (value > (<u64>i64.MAX_VALUE - digit) / 10) return new Parsed(0, `failed to parse int from ${text}: value out of range`);
    value = value * 10 + digit;
  }
  if (negative && value != 0) return new Parsed(0, `negative number (${text}) not allowed: ${text}`);
  return new Parsed(value, null);
}

function parseNumberOrName(text: string, bounds: Bounds): Parsed {
  const names = bounds.names;
  if (names !== null) {
    const index = names.indexOf(text.toLowerCase());
    if (index >= 0) return new Parsed(<u64>(bounds.min + index), null);
  }
  return parseNumber(text);
}

function bits(min: u64, max: u64, step: u64): u64 {
  let out: u64 = 0;
  for (let i = min; i <= max; i += step) out |= (<u64>1) << i;
  return out;
}

/** robfig's `getRange`: `*`, `?`, `N`, `N-M`, each with an optional `/step` (`N/step` means `N-max/step`). */
function parseRange(expr: string, bounds: Bounds): Parsed {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = rangeAndStep[0].split("-");
  let start: u64;
  let end: u64;
  let extra: u64 = 0;
  if (lowAndHigh[0] == "*" || lowAndHigh[0] == "?") {
    start = bounds.min;
    end = bounds.max;
    extra = STAR;
  } else {
    const low = parseNumberOrName(lowAndHigh[0], bounds);
    if (low.error !== null) return low;
    start = low.value;
    if (lowAndHigh.length == 1) {
      end = start;
    } else if (lowAndHigh.length == 2) {
      const high = parseNumberOrName(lowAndHigh[1], bounds);
      if (high.error !== null) return high;
      end = high.value;
    } else {
      return new Parsed(0, `too many hyphens: ${expr}`);
    }
  }
  let step: u64 = 1;
  if (rangeAndStep.length == 2) {
    const parsed = parseNumber(rangeAndStep[1]);
    if (parsed.error !== null) return parsed;
    step = parsed.value;
    if (lowAndHigh.length == 1) end = bounds.max;
    if (step > 1) extra = 0;
  } else if (rangeAndStep.length > 2) {
    return new Parsed(0, `too many slashes: ${expr}`);
  }
  if (start < bounds.min) return new Parsed(0, `beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
  if (end > bounds.max) return new Parsed(0, `end of range (${end}) above maximum (${bounds.max}): ${expr}`);
  if (start > end) return new Parsed(0, `beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step == 0) return new Parsed(0, `step of range should be a positive number: ${expr}`);
  return new Parsed(bits(start, end, step) | extra, null);
}

/** A comma list of ranges; empty items are skipped, as Go's `strings.FieldsFunc` does. */
function parseField(field: string, bounds: Bounds): Parsed {
  let out: u64 = 0;
  const items = field.split(",");
  for (let i = 0; i < items.length; i++) {
    if (items[i].length == 0) continue;
    const range = parseRange(items[i], bounds);
    if (range.error !== null) return range;
    out |= range.value;
  }
  return new Parsed(out, null);
}

function all(bounds: Bounds): u64 {
  return bits(bounds.min, bounds.max, 1) | STAR;
}

function first(bounds: Bounds): u64 {
  return (<u64>1) << bounds.min;
}

function parseDescriptor(descriptor: string, zone: Zone): ParsedSchedule {
  const s = first(SECONDS);
  const m = first(MINUTES);
  if (descriptor == "@yearly" || descriptor == "@annually") {
    return ParsedSchedule.ok(new SpecSchedule(zone, s, m, first(HOURS), first(DAYS_OF_MONTH), first(MONTHS), all(DAYS_OF_WEEK)));
  }
  if (descriptor == "@monthly") {
    return ParsedSchedule.ok(new SpecSchedule(zone, s, m, first(HOURS), first(DAYS_OF_MONTH), all(MONTHS), all(DAYS_OF_WEEK)));
  }
  if (descriptor == "@weekly") {
    return ParsedSchedule.ok(new SpecSchedule(zone, s, m, first(HOURS), all(DAYS_OF_MONTH), all(MONTHS), first(DAYS_OF_WEEK)));
  }
  if (descriptor == "@daily" || descriptor == "@midnight") {
    return ParsedSchedule.ok(new SpecSchedule(zone, s, m, first(HOURS), all(DAYS_OF_MONTH), all(MONTHS), all(DAYS_OF_WEEK)));
  }
  if (descriptor == "@hourly") {
    return ParsedSchedule.ok(new SpecSchedule(zone, s, m, all(HOURS), all(DAYS_OF_MONTH), all(MONTHS), all(DAYS_OF_WEEK)));
  }
  if (descriptor.startsWith("@every ")) {
    const duration = parseDuration(descriptor.substring(7));
    if (duration.error !== null) return ParsedSchedule.failed(`failed to parse duration ${descriptor}: ${duration.error!}`);
    // robfig's `Every`: at least a millisecond, whole milliseconds.
    const nanos = max<i64>(duration.nanos, 1_000_000);
    return ParsedSchedule.ok(new EverySchedule(zone, nanos / 1_000_000));
  }
  return ParsedSchedule.failed(`unrecognized descriptor: ${descriptor} (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)`);
}

/** Parses a schedule; a zone is checked with the host here, at `nowMs`, so an unknown one fails init. */
export function parseSchedule(text: string, nowMs: i64): ParsedSchedule {
  if (text.length == 0) return ParsedSchedule.failed("empty spec string");
  let spec = text;
  let zone = new Zone("UTC");
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    let space = -1;
    for (let i = 0; i < spec.length; i++) {
      if (isSpace(spec.charCodeAt(i))) {
        space = i;
        break;
      }
    }
    if (space < 0) return ParsedSchedule.failed(`timezone prefix ${spec} is not followed by a schedule`);
    const name = spec.substring(spec.indexOf("=") + 1, space);
    // Go's LoadLocation: "" is UTC; "Local" is the sidecar's zone, which is UTC for a component.
    zone = new Zone(name.length == 0 || name == "Local" ? "UTC" : name);
    const unknown = zone.check(nowMs);
    if (unknown !== null) return ParsedSchedule.failed(`provided bad location ${name}: ${unknown}`);
    spec = spec.substring(space).trim();
  }
  if (spec.startsWith("@")) return parseDescriptor(spec, zone);

  let parts = fields(spec);
  if (parts.length < 5 || parts.length > 6) {
    return ParsedSchedule.failed(`expected 5 to 6 fields, found ${parts.length}: [${parts.join(" ")}] (seconds, optional, then minute, hour, day of month, month, day of week)`);
  }
  if (parts.length == 5) parts.unshift("0");
  const values = new StaticArray<u64>(6);
  for (let i = 0; i < 6; i++) {
    const field = parseField(parts[i], FIELDS[i]);
    if (field.error !== null) return ParsedSchedule.failed(field.error!);
    values[i] = field.value;
  }
  return ParsedSchedule.ok(new SpecSchedule(zone, values[0], values[1], values[2], values[3], values[4], values[5]));
}
