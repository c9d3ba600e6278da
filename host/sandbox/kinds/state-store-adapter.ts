// Presents a live `state-store` component as the typed `StateStore` the state building
// block uses: WIT results become values or TesseraErrors carrying the component's error.
import type { BulkGetItem, GetResponse, StateStore, TransactOperation } from '../../../abi/ts/state.ts';
import type { Metadata, WitResult } from '../../../abi/ts/types.ts';
import type { ComponentCallable } from './kind.ts';
import { unwrapResult } from './wit-result.ts';

export function adaptStateStore(live: ComponentCallable): StateStore {
  // One unwrapping step per export, made once: a call adds one `then` to the live call's
  // promise, with no async frame (and its extra microtasks) of its own on every request.
  const export_ = <T>(fn: string): ((args: unknown[]) => Promise<T>) => {
    const unwrap = (result: unknown): T => unwrapResult(live.name, fn, result as WitResult<T>);
    return (args) => live.call(fn, args).then(unwrap);
  };
  const get = export_<GetResponse | undefined>('get');
  const set = export_<void>('set');
  const del = export_<void>('delete');
  const bulkGet = export_<BulkGetItem[]>('bulk-get');
  const bulkSet = export_<void>('bulk-set');
  const bulkDelete = export_<void>('bulk-delete');
  const transact = export_<void>('transact');
  const ping = export_<void>('ping');
  return {
    get features() {
      return live.features;
    },
    get: (req) => get([req]),
    set: (req) => set([req]),
    delete: (req) => del([req]),
    bulkGet: (reqs) => bulkGet([reqs]),
    bulkSet: (reqs) => bulkSet([reqs]),
    bulkDelete: (reqs) => bulkDelete([reqs]),
    transact: (ops: TransactOperation[], metadata: Metadata) => transact([ops, metadata]),
    ping: () => ping([]),
  };
}
