// `tessera bindgen [--check] [--wit DIR] [--root DIR]`: generates the ABI glue of the host and
// every SDK from the WIT, the schema validators a start needs and Dapr's gRPC descriptors (see
// host/toolchain/bindgen/), or with --check fails, naming each file, when a generated file
// differs from its source.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { loadWitPackage } from '../sandbox/wit/parser.ts';
import { packageFile } from '../package-root.ts';
import { checkGenerated, writeGenerated } from '../toolchain/bindgen/index.ts';
import { UsageError } from './run-options.ts';

const USAGE = `Usage: tessera bindgen [--check] [--wit DIR] [--root DIR]

Generates, from the WIT, the typed calls of the host (abi/ts/wit/) and the canonical-ABI glue
of each SDK (sdk/*/…/generated), and the ahead-of-time validators of the Component and
manifest schemas (host/*/generated); from @dapr/dapr's .proto files, where it is installed,
Dapr's gRPC descriptors (host/protos/generated). Generated files say so on their first line.

Flags:
  --check     write nothing; fail, naming each file, when one differs from what the WIT gives
  --wit DIR   the WIT package to read (default: this package's abi/wit)
  --root DIR  where the generated files live (default: this package)`;

export async function bindgenCommand(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { check: { type: 'boolean' }, wit: { type: 'string' }, root: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`bindgen: ${(err as Error).message}; run \`tessera bindgen --help\``);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const pkg = loadWitPackage(resolve(values.wit ?? packageFile('abi', 'wit')));
  const root = resolve(values.root ?? packageFile());
  if (values.check) {
    const { changed, stale } = await checkGenerated(pkg, root);
    if (changed.length + stale.length === 0) {
      console.log('bindgen: every generated file matches the WIT');
      return;
    }
    const lines = [...changed.map((p) => `  ${p}: differs from what the WIT gives`), ...stale.map((p) => `  ${p}: generated, but no longer from this WIT`)];
    throw new Error(`generated files are out of date; run \`npm run bindgen\` (a generated file is never edited by hand):\n${lines.join('\n')}`);
  }
  const { changed, stale } = await writeGenerated(pkg, root);
  for (const p of changed) console.log(`bindgen: wrote ${p}`);
  for (const p of stale) console.log(`bindgen: removed ${p}`);
  if (changed.length + stale.length === 0) console.log('bindgen: every generated file was up to date');
}
