// The table of component kinds, by the manifest's `kind`: the built-in ones, and any a
// module registers (host/sandbox/extensions.ts). The registry, the ABI contract, the
// manifest check and `/v1.0/metadata` read every kind from here.
import { TesseraError } from '../../errors.ts';
import { bindingKind } from './binding.ts';
import type { KindDescriptor } from './kind.ts';
import { pubSubKind } from './pubsub-broker.ts';
import { stateStoreKind } from './state-store.ts';

const table = new Map<string, KindDescriptor>([stateStoreKind, pubSubKind, bindingKind].map((k) => [k.kind, k]));
let registrations = 0;

/** Adds a kind beyond the built-in ones; its name and type prefix must be new. */
export function registerKind(kind: KindDescriptor): void {
  if (table.has(kind.kind)) throw new TesseraError('ERR_INTERNAL', `component kind "${kind.kind}" is already registered`);
  if (!/^[a-z][a-z0-9]*\.$/.test(kind.typePrefix)) throw new TesseraError('ERR_INTERNAL', `component kind "${kind.kind}": type prefix "${kind.typePrefix}" is not a lower-case word and a dot`);
  const clash = kindOfType(kind.typePrefix);
  if (clash !== undefined) throw new TesseraError('ERR_INTERNAL', `component kind "${kind.kind}": type prefix "${kind.typePrefix}" is already kind "${clash.kind}"'s`);
  table.set(kind.kind, kind);
  registrations++;
}

/** Changes whenever a kind is registered (caches of what derives from the table compare it). */
export const kindsVersion = (): number => registrations;

export const kindOf = (kind: string): KindDescriptor | undefined => table.get(kind);

export const allKinds = (): KindDescriptor[] => [...table.values()];

/** The kind whose components have `type` (`state.redis` -> state-store), by its prefix. */
export const kindOfType = (type: string): KindDescriptor | undefined => allKinds().find((k) => type.startsWith(k.typePrefix));

/** WIT sources of registered kinds whose worlds are not in abi/wit. */
export const kindWit = (): string[] => allKinds().flatMap((k) => (k.wit === undefined ? [] : [k.wit]));
