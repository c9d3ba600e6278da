// Quantities as users write them in flags and YAML: sizes (`4Mi`, `512Ki`, `1048576`) and
// durations (`500ms`, `5s`, `10m`, `1h`, Go style). Errors name the setting and the value.
import { TesseraError } from './errors.ts';

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1e3, ki: 1024, m: 1e6, mi: 1024 ** 2, g: 1e9, gi: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const COUNT_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

function parse(setting: string, value: string, units: Record<string, number>, example: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const factor = match ? units[match[2]!.toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new TesseraError('ERR_COMPONENT_CONFIG', `${setting} must be ${example}, got "${value}"`);
  }
  return Math.round(Number(match[1]) * factor);
}

/** The longest timer Node keeps as asked (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Bytes from `4Mi`, `512Ki`, `64M` or a plain number. */
export const parseSize = (setting: string, value: string): number => parse(setting, value, SIZE_UNITS, 'a size like 64Mi, 512Ki or 1048576');

/** Milliseconds from `500ms`, `5s`, `10m`, `1h`. */
export const parseDuration = (setting: string, value: string): number => parse(setting, value, DURATION_UNITS, 'a duration like 500ms, 5s or 10m');

/** A count from `200M`, `5k` or a plain number. */
export const parseCount = (setting: string, value: string): number => parse(setting, value, COUNT_UNITS, 'a count like 200M, 5k or 1000');

/** Bytes as a size a user would write back in YAML: `16Mi`, `512Ki`, `64M`, or a plain number. */
export function formatSize(bytes: number): string {
  for (const unit of ['Gi', 'Mi', 'Ki', 'G', 'M', 'k']) {
    const factor = SIZE_UNITS[unit.toLowerCase()]!;
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** Whole milliseconds as Go's `time.Duration.String()` writes them: `500ms`, `5s`, `1.5s`, `1m30s`, `1h0m0s`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  // Seconds with their fraction, trailing zeros dropped as Go does.
  const seconds = `${String((ms % 60_000) / 1000)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}
