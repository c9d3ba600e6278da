// Starts one generation of a component the way its YAML asks (`tessera.dev/isolation`):
// inline on the event loop (LiveComponent, the default and the fastest) or on a worker
// thread (IsolatedComponent), where a wall-clock deadline stops even a guest spinning in wasm.
import type { CompiledComponent } from './compiled-component.ts';
import type { GuestComponent } from './guest-component.ts';
import { LiveComponent, type LiveComponentOptions } from './live-component.ts';
import { IsolatedComponent } from './thread-isolation/isolated-component.ts';

export const ISOLATIONS = ['inline', 'thread'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export function startGuest(compiled: CompiledComponent, options: LiveComponentOptions, isolation: Isolation = 'inline'): Promise<GuestComponent> {
  return isolation === 'thread' ? IsolatedComponent.start(compiled, options) : LiveComponent.start(compiled, options);
}
