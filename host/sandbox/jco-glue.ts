// jco's glue loaded so that it can be freed. jco writes it as an ES module, and an ES module
// (a `data:` URL import included) stays in V8's module map for the life of the process: every
// generation with other glue would keep its ~270 KB of source and its compiled code for good.
// Node can evaluate module source only behind a flag (`vm.SourceTextModule`), and jco has no
// option for script output, so the glue is made into a function body instead: in
// instantiation mode its top level only declares `instantiate` (and `_util`) and reads
// `import.meta.url` only when no `getCoreModule` is given (the host always gives one).
// `vm.compileFunction` compiles that body in this realm; with no `importModuleDynamically`,
// the glue cannot import anything. Loaded glue is shared by everything that holds it (by the
// hash of its source) and is garbage once no compiled component holds it.
import { createHash } from 'node:crypto';
import { compileFunction } from 'node:vm';
import { TesseraError } from '../errors.ts';

/** The glue's `instantiate`, as jco generates it in instantiation mode. */
export type GlueInstantiate = (
  getCoreModule: (file: string) => WebAssembly.Module,
  imports: Record<string, Record<string, Function>>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => Promise<Record<string, Record<string, Function> | undefined>>;

export interface LoadedGlue {
  /** The glue as jco wrote it (after the host's edits), to post to another thread. */
  readonly source: string;
  readonly instantiate: GlueInstantiate;
}

/** Glue loaded and still held somewhere, by the sha256 of its source. */
const loaded = new Map<string, WeakRef<LoadedGlue>>();
const forget = new FinalizationRegistry<string>((hash) => {
  if (loaded.get(hash)?.deref() === undefined) loaded.delete(hash);
});

/** Top-level `export` keywords of jco's glue: its declarations start at the beginning of a line, their bodies are indented. */
const EXPORT = /^export (?=(?:async\s+)?function\b|const\b|let\b|class\b)/gm;

function refuse(why: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', `jco's glue for the component is not in the shape this host evaluates: ${why}`);
}

/** The glue's module source as a function body that returns `instantiate`; strict, as a module is. */
function functionBody(source: string): string {
  if (!/^export function instantiate\(/m.test(source)) throw refuse('it declares no exported instantiate function');
  // `"use strict"` goes on the first line, beside jco's own directive, so line numbers in stack traces stay the glue's.
  return `"use strict";${source.replace(EXPORT, '').replaceAll('import.meta.url', 'undefined')}\nreturn instantiate;`;
}

function evaluate(source: string, hash: string): GlueInstantiate {
  let instantiate: unknown;
  try {
    instantiate = compileFunction(functionBody(source), [], { filename: `jco-glue-${hash.slice(0, 16)}.js` })();
  } catch (err) {
    // A SyntaxError here means jco wrote module syntax the body cannot hold (an `import`, top-level `await`).
    throw err instanceof TesseraError ? err : refuse((err as Error).message);
  }
  if (typeof instantiate !== 'function') throw refuse('its instantiate is not a function');
  return instantiate as GlueInstantiate;
}

/** The glue of `source`, evaluated once while anything holds it. */
export function loadGlue(source: string): LoadedGlue {
  const hash = createHash('sha256').update(source).digest('hex');
  const found = loaded.get(hash)?.deref();
  if (found !== undefined) return found;
  const glue: LoadedGlue = { source, instantiate: evaluate(source, hash) };
  loaded.set(hash, new WeakRef(glue));
  forget.register(glue, hash);
  return glue;
}
