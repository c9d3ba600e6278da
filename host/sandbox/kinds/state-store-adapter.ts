// Presents a live `state-store` component as the typed `StateStore` the state building
// block uses: WIT results become values or TesseraErrors carrying the component's error.
// The calls are the generated, WIT-typed `stateExports` (abi/ts/wit/state.ts).
import type { StateStore } from '../../../abi/ts/state.ts';
import type { WitResult } from '../../../abi/ts/types.ts';
import { stateExports, type StateFunction } from '../../../abi/ts/wit/state.ts';
import type { ComponentCallable } from './kind.ts';
import { unwrapResult } from './wit-result.ts';

export function adaptStateStore(live: ComponentCallable): StateStore {
  const calls = stateExports((fn, args) => live.call(fn, args));
  // One unwrapping step per export, made once: a call adds one `then` to the live call's
  // promise, with no async frame (and its extra microtasks) of its own on every request.
  const unwrap =
    <T>(fn: StateFunction) =>
    (result: WitResult<T>): T =>
      unwrapResult(live.name, fn, result);
  const get = unwrap<Awaited<ReturnType<StateStore['get']>>>('get');
  const set = unwrap<void>('set');
  const del = unwrap<void>('delete');
  const bulkGet = unwrap<Awaited<ReturnType<StateStore['bulkGet']>>>('bulk-get');
  const bulkSet = unwrap<void>('bulk-set');
  const bulkDelete = unwrap<void>('bulk-delete');
  const transact = unwrap<void>('transact');
  const ping = unwrap<void>('ping');
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
    ping: () => calls.ping().then(ping),
  };
}
