// Wraps the committed core module state-memory-rust.wasm into a Component Model component,
// state-memory-rust.component.wasm, as `jco embed --wit abi/wit -n snapshotting-state-store`
// + `jco new` do (host/toolchain/wrap-component.ts): `node
// components-wasm/state-memory-rust/build-component.ts`. With `--check` it only tells whether
// the committed component is what wrapping gives. Rebuild after the core module or abi/wit
// changes.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wrapAsComponent } from '../../host/toolchain/wrap-component.ts';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const CORE = join(DIR, 'state-memory-rust.wasm');
const OUT = join(DIR, 'state-memory-rust.component.wasm');

const built = await wrapAsComponent(await readFile(CORE));
if (process.argv.includes('--check')) {
  const committed = await readFile(OUT).catch(() => undefined);
  const same = committed !== undefined && Buffer.compare(committed, built) === 0;
  process.stdout.write(`${OUT}: ${same ? 'matches' : 'differs from'} what wrapping ${CORE} gives\n`);
  process.exitCode = same ? 0 : 1;
} else {
  await writeFile(OUT, built);
  process.stdout.write(`${OUT}: ${built.length} bytes\n`);
}
