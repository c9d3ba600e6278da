// Kind `binding`: a Dapr binding (`bindings.*`). Every binding exports interface `binding`
// (init, ping) of world `any-binding`, and `input` (world `input-binding`), `output` (world
// `output-binding`) or both, Dapr's directions; the bindings building block sees it as a
// `Binding`. Its calls may suspend (a binding speaks to the world over `http` or `tcp`), so
// a generation runs a pool of instances; the input reader leases one of its own.
import type { Binding } from '../../../abi/ts/binding.ts';
import type { KindDescriptor } from './kind.ts';
import { adaptBinding } from './binding-adapter.ts';

export const bindingKind: KindDescriptor<Binding> = {
  kind: 'binding',
  typePrefix: 'bindings.',
  world: 'any-binding',
  extensions: ['input-binding', 'output-binding'],
  checkExports: (exported) =>
    exported.has('input') || exported.has('output')
      ? undefined
      : 'a binding exports interface `input` (world input-binding), `output` (world output-binding) or both; this one exports neither',
  adapt: adaptBinding,
  reportedCapabilities: () => [],
  describe: (binding) => binding.describe(),
  instances: 'pooled',
};
