// Go's `time.ParseDuration`, which Dapr's `@every <duration>` uses: a sequence of decimal
// numbers, each with an optional fraction and a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`),
// with an optional sign: `100ms`, `1h30m`, `1.5s`. Same grammar, same overflow limits, and
// the same wording of errors.

/** A duration in nanoseconds, or why the text is not one. */
export class ParsedDuration {
  constructor(public nanos: i64, public error: string | null) {}
}

const MAX_NANOS: u64 = 1 << 63;

function unitNanos(unit: string): u64 {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return 1_000;
  if (unit == "ms") return 1_000_000;
  if (unit == "s") return 1_000_000_000;
  if (unit == "m") return 60_000_000_000;
  if (unit == "h") return 3_600_000_000_000;
  return 0;
}

function isDigit(c: i32): bool {
  return c >= 48 && c <= 57;
}

function invalid(orig: string): ParsedDuration {
  return new ParsedDuration(0, `time: invalid duration "${orig}"`);
}

export function parseDuration(orig: string): ParsedDuration {
  let s = orig;
  let neg = false;
  if (s.length > 0 && (s.charCodeAt(0) == 45 || s.charCodeAt(0) == 43)) {
    neg = s.charCodeAt(0) == 45;
    s = s.substring(1);
  }
  if (s == "0") return new ParsedDuration(0, null);
  if (s.length == 0) return invalid(orig);
  let total: u64 = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (!(c == 46 || isDigit(c))) return invalid(orig);
    // The whole part.
    const wholeStart = i;
    let whole: u64 = 0;
    for (; i < s.length && isDigit(s.charCodeAt(i)); i++) {
      if (whole > (MAX_NANOS - 1) / 10) return invalid(orig);
      whole = whole * 10 + <u64>(s.charCodeAt(i) - 48);
      if (whole > MAX_NANOS) return invalid(orig);
    }
    const pre = i != wholeStart;
    // The fraction: digits past what a u64 holds are read and dropped, as Go does.
    let fraction: u64 = 0;
    let scale: f64 = 1;
    let post = false;
    if (i < s.length && s.charCodeAt(i) == 46) {
      i++;
      const fractionStart = i;
      let overflow = false;
      for (; i < s.length && isDigit(s.charCodeAt(i)); i++) {
        if (overflow) continue;
        if (fraction > (MAX_NANOS - 1) / 10) {
          overflow = true;
          continue;
        }
        const next = fraction * 10 + <u64>(s.charCodeAt(i) - 48);
        if (next > MAX_NANOS) {
          overflow = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      post = i != fractionStart;
    }
    if (!pre && !post) return invalid(orig);
    const unitStart = i;
    for (; i < s.length; i++) {
      const u = s.charCodeAt(i);
      if (u == 46 || isDigit(u)) break;
    }
    if (i == unitStart) return new ParsedDuration(0, `time: missing unit in duration "${orig}"`);
    const unitName = s.substring(unitStart, i);
    const unit = unitNanos(unitName);
    if (unit == 0) return new ParsedDuration(0, `time: unknown unit "${unitName}" in duration "${orig}"`);
    if (whole > MAX_NANOS / unit) return invalid(orig);
    let value = whole * unit;
    if (fraction > 0) {
      value += <u64>(<f64>fraction * (<f64>unit / scale));
      if (value > MAX_NANOS) return invalid(orig);
    }
    total += value;
    if (total > MAX_NANOS) return invalid(orig);
  }
  if (neg) return new ParsedDuration(-(<i64>total), null);
  if (total > MAX_NANOS - 1) return invalid(orig);
  return new ParsedDuration(<i64>total, null);
}
