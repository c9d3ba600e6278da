// Keeps one component's data in its `tessera.dev/persist` file: restored before its first
// generation serves, written every `persist-interval` when calls came since the last write,
// and once more when it is unloaded or the sidecar stops. Writes run one at a time; a failed
// write is logged (once per distinct error) and tried again at the next interval, and the
// previous file stays whole (snapshot-file.ts writes beside it and renames).
import { TesseraError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { GuestComponent, SnapshotData } from '../sandbox/guest-component.ts';
import { canSnapshot } from '../sandbox/snapshot-stream.ts';
import type { PersistSettings } from './persist-settings.ts';
import { PERSIST } from './persist-settings.ts';
import type { DesiredComponent, PlanFailure } from './resources-loader.ts';
import { readSnapshotFile, writeSnapshotFile } from './snapshot-file.ts';

/** What the persister needs of a component's handle. */
export interface PersistedComponent {
  readonly name: string;
  /** Calls so far: unchanged since the last write means nothing to write. */
  readonly calls: number;
  snapshot(): Promise<SnapshotData | undefined>;
}

/** A snapshot file may hold data wider than memory holds it, as a snapshot stream may (snapshot-stream.ts). */
const FILE_PER_MEMORY_BYTE = 2;

/** Refuses, at load, a persisted component whose module cannot hand over its data. */
export function checkPersistable(desired: DesiredComponent, optionalExports: ReadonlySet<string>): void {
  if (desired.persist === undefined || canSnapshot(optionalExports)) return;
  throw new TesseraError(
    'ERR_COMPONENT_CONFIG',
    `${desired.source}: component "${desired.name}": annotation "${PERSIST}" asks to keep its data in a file, but ${desired.modulePath} (${desired.manifest.type}) exports no snapshot ("snapshot" or "snapshot-stream"): its data cannot be saved; remove the annotation`,
  );
}

/**
 * Splits `planned` into the components that may run and those refused because another one
 * persists to the same file (two writers would overwrite each other's data): the component
 * that `holds` the file (it runs persisting to it) keeps it, else the first in scan order.
 */
export function sharedPersistFiles(planned: readonly DesiredComponent[], holds: (c: DesiredComponent) => boolean): { kept: DesiredComponent[]; refused: PlanFailure[] } {
  const owners = new Map<string, DesiredComponent>();
  for (const c of planned) if (c.persist !== undefined && holds(c)) owners.set(c.persist.path, c);
  const kept: DesiredComponent[] = [];
  const refused: PlanFailure[] = [];
  for (const c of planned) {
    if (c.persist === undefined) {
      kept.push(c);
      continue;
    }
    const owner = owners.get(c.persist.path) ?? c;
    owners.set(c.persist.path, owner);
    if (owner === c) {
      kept.push(c);
      continue;
    }
    const error = `${c.source}: component "${c.name}": annotation "${PERSIST}" names ${c.persist.path}, which component "${owner.name}" (${owner.source}) persists to already: give each component a file of its own`;
    refused.push({ name: c.name, type: c.manifest.type, source: c.source, error });
  }
  return { kept, refused };
}

/**
 * Hands the persisted data of `desired` to `live`, its first generation, when the file
 * exists; a file that cannot be read or restored fails the load naming it and why.
 */
export async function restorePersisted(desired: DesiredComponent, live: GuestComponent): Promise<void> {
  const persist = desired.persist;
  if (persist === undefined) return;
  try {
    const data = await readSnapshotFile(persist.path, desired.manifest.type, FILE_PER_MEMORY_BYTE * desired.limits.memoryLimitBytes);
    if (data !== undefined) await live.restore(data);
  } catch (err) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `component "${desired.name}" could not restore its data from ${persist.path} (${PERSIST}): ${(err as Error).message}`, { cause: err });
  }
}

export class SnapshotPersister {
  readonly settings: PersistSettings;
  readonly #component: PersistedComponent;
  readonly #type: string;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  /** The call count the file holds the data of. */
  #saved: number;
  /** The write under way, if any. */
  #writing: Promise<void> | undefined;
  #lastError: string | undefined;
  #closed = false;

  /** `unsaved`: the file does not hold the component's data yet (it came from elsewhere), so the first interval writes it. */
  constructor(component: PersistedComponent, type: string, settings: PersistSettings, logger: Logger, { unsaved = false } = {}) {
    this.#component = component;
    this.#type = type;
    this.settings = settings;
    this.#logger = logger;
    this.#saved = unsaved ? -1 : component.calls;
    this.#arm();
  }

  #arm(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.save().finally(() => this.#arm()), this.settings.intervalMs);
    this.#timer.unref();
  }

  /** Writes the data when calls came since the last write, after any write under way; never rejects. */
  async save(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
    const calls = this.#component.calls;
    if (calls === this.#saved) return;
    this.#writing = this.#write(calls);
    try {
      await this.#writing;
    } finally {
      this.#writing = undefined;
    }
  }

  async #write(calls: number): Promise<void> {
    const { path } = this.settings;
    try {
      const data = await this.#component.snapshot();
      if (data === undefined) return;
      await writeSnapshotFile(path, this.#type, data);
      this.#saved = calls;
      if (this.#lastError !== undefined) this.#logger.info(`component "${this.#component.name}": its data is written to ${path} again`);
      this.#lastError = undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.#lastError) {
        this.#logger.error(`component "${this.#component.name}" could not write its data to ${path} (${PERSIST}; the file keeps the last good copy, tried again in ${this.settings.intervalMs} ms): ${message}`);
      }
      this.#lastError = message;
    }
  }

  /** Stops the interval and writes the data one last time (when it changed). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.save();
  }
}
