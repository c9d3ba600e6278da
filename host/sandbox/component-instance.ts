// One live instance of a compiled component, made by its code (component-code.ts), whichever
// binary form that is: the instance face LiveComponent drives.
import type { CompiledComponent } from './compiled-component.ts';
import type { ComponentInstance, InstanceOptions } from './component-code.ts';

export type { ComponentInstance, InstanceOptions, LiftedCall } from './component-code.ts';

/** Instantiates and runs the reactor initialiser (`_initialize`), if any, before any export. */
export function instantiate(compiled: CompiledComponent, options: InstanceOptions): Promise<ComponentInstance> {
  return compiled.code.instantiate(compiled, options);
}
