// Presents a live `state-store` component as the typed `StateStore` the state building
// block uses: WIT results become values or TesseraErrors carrying the component's error.
// The calls are the generated, WIT-typed `stateExports` (abi/ts/wit/state.ts), and
// `queryExports` (abi/ts/wit/query.ts) when the running generation exports `query`.
import type { StateStore } from '../../../abi/ts/state.ts';
import type { WitResult } from '../../../abi/ts/types.ts';
import { queryExports } from '../../../abi/ts/wit/query.ts';
import { stateExports, type StateFunction } from '../../../abi/ts/wit/state.ts';
import { TesseraError } from '../../errors.ts';
import type { AdapterHost, ComponentCallable } from './kind.ts';

/** What the adapter calls: the sidecar's handle over every generation, or one generation (or pool) as the conformance kit and tests start it. */
export type StateStoreHost = AdapterHost | (ComponentCallable & { readonly compiled: { readonly optionalExports: ReadonlySet<string> } });

const exportsOf = (live: StateStoreHost): ReadonlySet<string> => ('exports' in live ? live.exports : live.compiled.optionalExports);
import { unwrapResult } from './wit-result.ts';

export function adaptStateStore(live: StateStoreHost): StateStore {
  const calls = stateExports((fn, args) => live.call(fn, args));
  const queries = queryExports((fn, args) => live.call(fn, args), 'query#');
  // One unwrapping step per export, made once: a call adds one `then` to the live call's
  // promise, with no async frame (and its extra microtasks) of its own on every request.
  const unwrap =
    <T>(fn: StateFunction) =>
    (result: WitResult<T>): T =>
      unwrapResult(live.name, fn, result);
  const getValue = unwrap<Awaited<ReturnType<StateStore['get']>>>('get');
  // A component that answers a missing key with `not-found` rather than none: a key that is
  // not there is a successful get, here, in the one step the call takes anyway.
  const get = (result: WitResult<Awaited<ReturnType<StateStore['get']>>>): Awaited<ReturnType<StateStore['get']>> =>
    result.tag === 'err' && result.val.tag === 'not-found' ? undefined : getValue(result);
  const set = unwrap<void>('set');
  const del = unwrap<void>('delete');
  const bulkGet = unwrap<Awaited<ReturnType<StateStore['bulkGet']>>>('bulk-get');
  const bulkSet = unwrap<void>('bulk-set');
  const bulkDelete = unwrap<void>('bulk-delete');
  const transact = unwrap<void>('transact');
  const ping = unwrap<void>('ping');
  const query = (result: Awaited<ReturnType<typeof queries.query>>) => unwrapResult(live.name, 'query', result);
  return {
    get features() {
      return live.features;
    },
    get: (req) => calls.get(req).then(get),
    set: (req) => calls.set(req).then(set),
    delete: (req) => calls.delete(req).then(del),
    bulkGet: (reqs) => calls.bulkGet(reqs).then(bulkGet),
    bulkSet: (reqs) => calls.bulkSet(reqs).then(bulkSet),
    bulkDelete: (reqs) => calls.bulkDelete(reqs).then(bulkDelete),
    transact: (ops, metadata) => calls.transact(ops, metadata).then(transact),
    query: (req) =>
      // Asked of the running generation: a swap may bring a version with or without `query`.
      exportsOf(live).has('query')
        ? queries.query(req).then(query)
        : Promise.reject(new TesseraError('ERR_STATE_STORE_NOT_SUPPORTED', `state store ${live.name} does not support querying (its component exports no \`query\`)`)),
    ping: () => calls.ping().then(ping),
  };
}
