// Starts one generation of a component the way its YAML asks (`tessera.dev/isolation`):
// inline on the event loop (LiveComponent, the default and the fastest) or on a worker
// thread (IsolatedComponent), where a wall-clock deadline stops even a guest spinning in wasm.
import type { CompiledComponent } from './compiled-component.ts';
import type { GuestComponent } from './guest-component.ts';
import { DEFAULT_MAX_INSTANCES, type Isolation } from './default-limits.ts';
import { InstancePool, mayPoolInstances } from './instance-pool.ts';
import { LiveComponent, type LiveComponentOptions } from './live-component.ts';
import { IsolatedComponent } from './thread-isolation/isolated-component.ts';

/**
 * Inline, a component whose kind allows pooling, whose calls can suspend and that keeps no
 * data of its own runs as a pool of up to `maxInstances` instances (instance-pool.ts); 1
 * keeps it to one instance.
 */
export function startGuest(compiled: CompiledComponent, options: LiveComponentOptions, isolation: Isolation = 'inline', maxInstances = DEFAULT_MAX_INSTANCES): Promise<GuestComponent> {
  if (isolation === 'thread') return IsolatedComponent.start(compiled, options);
  if (maxInstances > 1 && mayPoolInstances(compiled)) return InstancePool.start(compiled, options, maxInstances);
  return LiveComponent.start(compiled, options);
}
