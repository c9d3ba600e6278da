// Modules that add component kinds or host capabilities beyond the built-in tables (a test's
// kind and capability today). Descriptors are code, so they cross threads by module: every
// thread that reads, checks or runs components imports the same extension modules before
// it does (the load workers before each job, a thread-isolated component's worker before it
// starts), and registers what each module's default export lists.
import { TesseraError } from '../errors.ts';
import type { Capability } from './capabilities/capability.ts';
import { registerCapability } from './capabilities/index.ts';
import type { KindApi, KindDescriptor } from './kinds/kind.ts';
import { registerKind } from './kinds/index.ts';

/** What an extension module's default export lists. */
export interface Extension {
  kinds?: readonly KindDescriptor<KindApi>[];
  capabilities?: readonly Capability[];
}

/** Extension modules loaded in this thread, by URL, in the order loaded. */
const loaded = new Map<string, Promise<void>>();

async function register(url: string): Promise<void> {
  const module = (await import(url)) as { default?: Extension };
  const extension = module.default;
  if (extension === undefined || typeof extension !== 'object') throw new TesseraError('ERR_INTERNAL', `extension ${url} has no default export listing kinds and capabilities`);
  // Capabilities first: a kind's world may import them.
  for (const capability of extension.capabilities ?? []) registerCapability(capability);
  for (const kind of extension.kinds ?? []) registerKind(kind);
}

/** Imports an extension module and registers its kinds and capabilities, once per thread. */
export function loadExtension(url: string | URL): Promise<void> {
  const href = String(url);
  let done = loaded.get(href);
  if (done === undefined) {
    done = register(href);
    loaded.set(href, done);
    // One that failed is not handed on to other threads.
    done.catch(() => loaded.delete(href));
  }
  return done;
}

/** The extension modules loaded in this thread, for the threads it starts. */
export const extensionUrls = (): string[] => [...loaded.keys()];

/** Loads, in order, each of `urls` not loaded yet (in a worker, what its parent thread loaded). */
export async function loadExtensions(urls: readonly string[]): Promise<void> {
  for (const url of urls) await loadExtension(url);
}
