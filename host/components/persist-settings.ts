// The `tessera.dev/persist` annotations: a component that keeps its data in its memory
// (state.memory, pubsub.memory) may keep a copy in a file, restored at start and written at
// an interval and on shutdown (snapshot-persister.ts). Parsed with the YAML, so a bad value
// fails that file at once; whether the module can snapshot at all is checked at load.
import { isAbsolute, resolve, dirname } from 'node:path';
import { TesseraError } from '../errors.ts';
import { parseDuration } from '../units.ts';

export const PERSIST = 'tessera.dev/persist';
export const PERSIST_INTERVAL = 'tessera.dev/persist-interval';

/** Where and how often a component's snapshot is written. */
export interface PersistSettings {
  /** The snapshot file, absolute (a relative annotation is resolved against its YAML's folder). */
  path: string;
  /** How often the data is written when it may have changed. */
  intervalMs: number;
}

export const DEFAULT_PERSIST_INTERVAL_MS = 10_000;
/** Shorter would write a large store back to back; longer is allowed (a crash loses more). */
const MIN_PERSIST_INTERVAL_MS = 100;

export const isPersistAnnotation = (key: string): boolean => key === PERSIST || key === PERSIST_INTERVAL;

/**
 * The persistence `annotations` ask for on component `name`, undefined when there is no
 * `tessera.dev/persist`; `source` names the YAML in errors, and a relative path resolves
 * against the folder of `file`.
 */
export function persistFromAnnotations(annotations: Readonly<Record<string, unknown>>, name: string, source: string, file: string): PersistSettings | undefined {
  const refuse = (key: string, value: unknown, why: string): TesseraError =>
    new TesseraError('ERR_COMPONENT_CONFIG', `${source}: component "${name}": annotation "${key}" ${why}, got ${JSON.stringify(value)}`);
  const target = annotations[PERSIST];
  const interval = annotations[PERSIST_INTERVAL];
  if (target === undefined) {
    if (interval !== undefined) throw refuse(PERSIST_INTERVAL, interval, `needs "${PERSIST}" (the file to write) beside it`);
    return undefined;
  }
  if (typeof target !== 'string' || target.trim() === '') throw refuse(PERSIST, target, 'must be the path of a file, e.g. "./data/store.snap"');
  if (target.includes('\0')) throw refuse(PERSIST, target, 'must not contain a NUL character');
  if (/[/\\]$/.test(target) || /(^|[/\\])\.{1,2}$/.test(target)) throw refuse(PERSIST, target, 'must name a file, not a folder');
  let intervalMs = DEFAULT_PERSIST_INTERVAL_MS;
  if (interval !== undefined) {
    try {
      intervalMs = parseDuration(`annotation "${PERSIST_INTERVAL}"`, String(interval));
    } catch (err) {
      throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: component "${name}": ${(err as Error).message}`);
    }
    if (intervalMs < MIN_PERSIST_INTERVAL_MS) throw refuse(PERSIST_INTERVAL, interval, `must be at least ${MIN_PERSIST_INTERVAL_MS}ms`);
  }
  const path = isAbsolute(target) ? target : resolve(dirname(resolve(file)), target);
  return { path, intervalMs };
}
