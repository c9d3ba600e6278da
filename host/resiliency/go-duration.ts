// Durations as Dapr's YAML writes them: Go's `time.ParseDuration` syntax (`5s`, `1m30s`,
// `500ms`, `1.5h`; `0` alone may go without a unit). Capped at MAX_DURATION_MS, the longest a
// Node timer can wait.
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The longest timer Node can set (2^31 - 1 ms, about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Milliseconds of a Go duration string, or an Error naming what is wrong with it. */
export function parseGoDuration(text: string): number | Error {
  const source = text.trim();
  if (source === '0') return 0;
  if (source === '' || source.length > 64) return new Error(`${JSON.stringify(text.slice(0, 64))} is not a duration such as "5s", "500ms" or "1m30s"`);
  let at = 0;
  let total = 0;
  while (at < source.length) {
    PART.lastIndex = at;
    const m = PART.exec(source);
    if (m === null) return new Error(`${JSON.stringify(source)} is not a duration such as "5s", "500ms" or "1m30s"`);
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = PART.lastIndex;
  }
  if (total > MAX_DURATION_MS) return new Error(`${JSON.stringify(source)} is longer than the ${Math.floor(MAX_DURATION_MS / 86_400_000)} days a timer can wait`);
  return total;
}
