// What every conformance check is written against: the component under test, a fresh
// instance of it per check (started and bound as the sidecar does), request builders, and
// expectations whose failure is one line of the report.
import type { BulkGetItem, DeleteRequest, GetResponse, SetRequest, StateStore } from '../../../abi/ts/state.ts';
import { isTesseraError } from '../../errors.ts';
import { createLogger } from '../../observability/logger.ts';
import type { CompiledComponent } from '../../sandbox/compiled-component.ts';
import { LiveComponent } from '../../sandbox/live-component.ts';
import { adaptStateStore } from '../../sandbox/kinds/state-store-adapter.ts';

/** A check did not see what it expected; the message is the reason shown in the report. */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

/** The component under test, as loaded once for every check. */
export interface Subject {
  compiled: CompiledComponent;
  /** What `features()` advertised. */
  features: ReadonlySet<string>;
  /** Whether the module exports the optional `snapshot` interface. */
  snapshot: boolean;
}

/** One started instance of the component. */
export interface Instance {
  store: StateStore;
  live: LiveComponent;
}

export interface CheckContext {
  subject: Subject;
  /** A newly started instance with no data; the first one is the check's `store`. */
  fresh(): Promise<Instance>;
  /** The check's own instance. */
  store: StateStore;
  live: LiveComponent;
}

export interface Check {
  /** The area of the checklist, e.g. `etag`; a file of this folder per area. */
  area: string;
  /** What is checked, said as what a passing store does. */
  name: string;
  /** Why the check does not apply to this component, or undefined when it does. */
  skip?(subject: Subject): string | undefined;
  run(cx: CheckContext): Promise<void>;
}

/** For `Check.skip`: the check applies only to a store that advertises `feature`. */
export const needs =
  (...features: string[]) =>
  (subject: Subject): string | undefined => {
    const absent = features.filter((f) => !subject.features.has(f));
    return absent.length === 0 ? undefined : `does not advertise ${absent.join(' or ')}`;
  };

/** For `Check.skip`: the check applies only to a store that does not advertise `feature`. */
export const lacks =
  (feature: string) =>
  (subject: Subject): string | undefined =>
    subject.features.has(feature) ? `advertises ${feature}` : undefined;

/**
 * Starts a fresh instance; component log lines at warn and above go to `logs`, so a failure
 * can quote what the component said (an AssemblyScript abort, a Rust panic) before a trap.
 */
export async function startInstance(compiled: CompiledComponent, name: string, logs: string[]): Promise<Instance> {
  const logger = createLogger({ level: 'warn', json: true, write: (line) => logs.push((JSON.parse(line) as { msg: string }).msg) });
  const live = await LiveComponent.start(compiled, { name, config: new Map(), logger });
  return { live, store: adaptStateStore(live) };
}

// ---- requests -------------------------------------------------------------------------

const encoder = new TextEncoder();
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** Keys look as the sidecar sends them: `<app-id>||<key>`. */
export const key = (name: string): string => `conformance||${name}`;

export function setRequest(k: string, value: Uint8Array | string, more: Partial<SetRequest> = {}): SetRequest {
  return {
    key: k,
    value: typeof value === 'string' ? utf8(value) : value,
    concurrency: 'last-write',
    consistency: 'eventual',
    metadata: [],
    ...more,
  };
}

export function deleteRequest(k: string, more: Partial<DeleteRequest> = {}): DeleteRequest {
  return { key: k, concurrency: 'last-write', consistency: 'eventual', metadata: [], ...more };
}

export const get = (store: StateStore, k: string): Promise<GetResponse | undefined> => store.get({ key: k, consistency: 'eventual', metadata: [] });

export const bulkGet = (store: StateStore, keys: string[]): Promise<BulkGetItem[]> =>
  store.bulkGet(keys.map((k) => ({ key: k, consistency: 'eventual', metadata: [] })));

/** Metadata value by name. */
export const metadataValue = (metadata: readonly [string, string][], name: string): string | undefined =>
  metadata.find(([k]) => k === name)?.[1];

// ---- expectations ---------------------------------------------------------------------

export function fail(reason: string): never {
  throw new CheckFailure(reason);
}

/** Bytes for a message: the text when it is short printable UTF-8, else its length and head. */
export function describeBytes(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return 'nothing';
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.length <= 40 && !/[\u0000-\u001f]/.test(text)) return `${JSON.stringify(text)} (${bytes.length} bytes)`;
  } catch {
    // binary: described below
  }
  const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${bytes.length} bytes (${head}${bytes.length > 8 ? ' ...' : ''})`;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The stored item under `k`; fails when there is none. */
export async function expectFound(store: StateStore, k: string, when: string): Promise<GetResponse> {
  const found = await get(store, k);
  if (found === undefined) fail(`get ${JSON.stringify(k)} found nothing ${when}`);
  return found;
}

/** The value under `k` is `want`, byte for byte. */
export async function expectValue(store: StateStore, k: string, want: Uint8Array | string, when: string): Promise<GetResponse> {
  const expected = typeof want === 'string' ? utf8(want) : want;
  const found = await expectFound(store, k, when);
  if (!sameBytes(found.value, expected)) fail(`get ${JSON.stringify(k)} ${when} answered ${describeBytes(found.value)}, expected ${describeBytes(expected)}`);
  return found;
}

export async function expectMissing(store: StateStore, k: string, when: string): Promise<void> {
  const found = await get(store, k);
  if (found !== undefined) fail(`get ${JSON.stringify(k)} ${when} still found ${describeBytes(found.value)}`);
}

/** A call's result as a word: `ok`, or the component's error case (`etag-mismatch`, ...). A trap rejects. */
async function outcome(call: Promise<unknown>): Promise<{ tag: string; message?: string }> {
  try {
    await call;
    return { tag: 'ok' };
  } catch (err) {
    if (isTesseraError(err) && err.componentError) return { tag: err.componentError.tag, message: err.componentError.val };
    throw err;
  }
}

/** The call fails with the component error `tag`. */
export async function expectRefused(call: Promise<unknown>, tag: string, what: string): Promise<void> {
  const got = await outcome(call);
  if (got.tag === 'ok') fail(`${what} succeeded; expected it refused with ${tag}`);
  if (got.tag !== tag) fail(`${what} was refused with ${got.tag} (${got.message}); expected ${tag}`);
}

/** The call succeeds; a component error is the failure reason. */
export async function expectAccepted(call: Promise<unknown>, what: string): Promise<void> {
  const got = await outcome(call);
  if (got.tag !== 'ok') fail(`${what} was refused with ${got.tag}: ${got.message}`);
}

/** The ETag of a read; fails when it has none. */
export function etagOf(found: GetResponse, k: string): string {
  if (found.etag === undefined || found.etag === '') fail(`get ${JSON.stringify(k)} answered no ETag`);
  return found.etag;
}
