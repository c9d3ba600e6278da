// What every state-store check is written against: a fresh instance of the store per check
// (started and bound as the sidecar does), request builders, and expectations on what it reads.
import type { BulkGetItem, DeleteRequest, GetResponse, SetRequest, StateStore } from '../../../../abi/ts/state.ts';
import type { LiveComponent } from '../../../sandbox/live-component.ts';
import { fail, sameBytes, describeBytes, utf8, type Check as KitCheck, type Subject } from '../check.ts';

export { describeBytes, expectAccepted, expectRefused, fail, lacks, metadataValue, needs, sameBytes, utf8 } from '../check.ts';

/** One started instance of the store. */
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

export type Check = KitCheck<CheckContext>;

// ---- requests -------------------------------------------------------------------------

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

// ---- expectations ---------------------------------------------------------------------

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

/** The ETag of a read; fails when it has none. */
export function etagOf(found: GetResponse, k: string): string {
  if (found.etag === undefined || found.etag === '') fail(`get ${JSON.stringify(k)} answered no ETag`);
  return found.etag;
}
