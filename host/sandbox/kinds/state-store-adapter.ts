// Presents a live `state-store` component as the typed `StateStore` the state building
// block uses: WIT results become values or TesseraErrors carrying the component's error.
import type { BulkGetItem, GetResponse, StateStore, TransactOperation } from '../../../abi/ts/state.ts';
import type { Metadata, WitResult } from '../../../abi/ts/types.ts';
import type { ComponentCallable } from './kind.ts';
import { unwrapResult } from './wit-result.ts';

export function adaptStateStore(live: ComponentCallable): StateStore {
  const call = async <T>(fn: string, ...args: unknown[]): Promise<T> =>
    unwrapResult(live.name, fn, (await live.call(fn, args)) as WitResult<T>);
  return {
    get features() {
      return live.features;
    },
    get: (req) => call<GetResponse | undefined>('get', req),
    set: (req) => call<void>('set', req),
    delete: (req) => call<void>('delete', req),
    bulkGet: (reqs) => call<BulkGetItem[]>('bulk-get', reqs),
    bulkSet: (reqs) => call<void>('bulk-set', reqs),
    bulkDelete: (reqs) => call<void>('bulk-delete', reqs),
    transact: (ops: TransactOperation[], metadata: Metadata) => call<void>('transact', ops, metadata),
    ping: () => call<void>('ping'),
  };
}
