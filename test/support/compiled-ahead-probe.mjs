// Run with --allow-natives-syntax (plain JavaScript: TypeScript has no `%` calls): prepares a
// module on a real load worker, as a sidecar does, and reports, for the module that comes back,
// which of its exported functions V8 has not compiled yet, before any call; then the same for
// a module this thread compiles itself afterwards, which should be lazy as V8's default is.
import { readFileSync } from 'node:fs';
import { LoadWorkers } from '../../host/components/load-worker.ts';

const file = process.argv[2];
const bytes = new Uint8Array(readFileSync(file));

/** Stand-ins for every import, enough to instantiate (nothing here calls the guest). */
function stubImports(module) {
  const imports = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    imports[from] ??= {};
    if (kind === 'function') imports[from][name] = () => 0;
    else if (kind === 'memory') imports[from][name] = new WebAssembly.Memory({ initial: 1 });
    else if (kind === 'table') imports[from][name] = new WebAssembly.Table({ initial: 0, element: 'anyfunc' });
    else if (kind === 'global') imports[from][name] = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  }
  return imports;
}

/** The names of the module's exported functions that have no compiled code yet. */
function uncompiled(module) {
  const instance = new WebAssembly.Instance(module, stubImports(module));
  const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
  return { functions: names.length, uncompiled: names.filter((name) => %IsUncompiledWasmFunction(instance.exports[name])) };
}

const workers = new LoadWorkers();
try {
  const prepared = await workers.run('prepare', [bytes, {}], file);
  const fromWorker = uncompiled(prepared.code.module);
  const plain = uncompiled(new WebAssembly.Module(bytes));
  process.stdout.write(JSON.stringify({ fromWorker, plain }));
} finally {
  await workers.close();
}
