// The npm package as a user gets it: `npm pack` (which compiles the host at `prepack`), the
// tarball installed with --omit=dev into an empty folder, then the README's "Running it with
// your app" block run there as written, and the `tessera` command's other entry points.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../support/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** npm, npx and node of the Node running the tests, first on PATH (the machine's may be older). */
const ENV = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
const run = promisify(execFile);

interface Output {
  stdout: string;
  stderr: string;
}

function sh(command: string, args: string[], cwd: string): Promise<Output> {
  return run(command, args, { cwd, env: ENV, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
}

/** The first `sh` block after `heading` in the README. */
async function readmeBlock(heading: string): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no "${heading}" section`);
  const block = /```sh\n([\s\S]*?)```\n/.exec(readme.slice(start));
  assert.ok(block, `README's "${heading}" has no sh block`);
  return block[1]!;
}

/** Why an install failed for want of the registry (the npm cache lacked a package), or undefined. */
function offlineReason(err: unknown): string | undefined {
  const text = `${(err as Output).stderr ?? ''}`;
  const code = /npm error code (ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH)/.exec(text);
  return code ? `the npm registry is unreachable (${code[1]}) and the npm cache lacks the package's dependencies` : undefined;
}

describe('the npm package', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: string;
  let packed: string[] = [];
  let unavailable: string | undefined;

  before(async () => {
    dir = await tempDir('tessera-package-');
    const [pack] = JSON.parse((await sh('npm', ['pack', '--json', '--pack-destination', dir.path], ROOT)).stdout) as [{ filename: string; files: { path: string }[] }];
    packed = pack.files.map((f) => f.path);
    app = join(dir.path, 'app');
    const install = ['install', '--omit=dev', '--no-audit', '--no-fund', join(dir.path, pack.filename)];
    // From the npm cache alone when it holds every dependency, else from the registry.
    await sh('npm', [...install, '--offline', '--prefix', app], dir.path).catch(async (err: unknown) => {
      if (offlineReason(err) === undefined) throw err;
      await sh('npm', [...install, '--prefer-offline', '--prefix', app], dir.path).catch((again: unknown) => {
        unavailable = offlineReason(again);
        if (unavailable === undefined) throw again;
      });
    });
  });
  after(() => dir?.remove());

  test('holds the compiled host, the bundled components and the SDKs, and no tests or TypeScript sources', () => {
    for (const file of ['host/cli/tessera.mjs', 'dist/host/cli/tessera.js', 'components-wasm/state-memory/state-memory.wasm', 'abi/wit/worlds.wit', 'sdk/rust/Cargo.toml']) {
      assert.ok(packed.includes(file), `${file} is not in the package`);
    }
    assert.deepEqual(packed.filter((f) => f.startsWith('test/') || (f.startsWith('host/') && f.endsWith('.ts'))), []);
  });

  test("runs the README's app against the bundled state.memory", async (t) => {
    if (unavailable) return t.skip(unavailable);
    // Jco's transpiler is an optional peer: a plain install goes without it.
    assert.equal(existsSync(join(app, 'node_modules', '@bytecodealliance', 'jco-transpile')), false);
    // As written, but on a free port, as other tests run at the same time.
    const block = await readmeBlock('## Running it with your app');
    assert.match(block, /npx tessera run /);
    const { stdout } = await sh('bash', ['-euc', block.replace('npx tessera run ', 'npx tessera run --dapr-http-port 0 --dapr-grpc-port 0 ')], app);
    assert.match(stdout, /read back: \{ item: 'tea', quantity: 2 \}/);

    // The same store on a worker thread: the compiled worker entry is found too.
    const yaml = await readFile(join(app, 'resources', 'statestore.yaml'), 'utf8');
    const isolatedYaml = yaml.replace('  name: statestore\n', '  name: statestore\n  annotations:\n    tessera.dev/isolation: thread\n');
    assert.notEqual(isolatedYaml, yaml);
    await writeFile(join(app, 'resources', 'statestore.yaml'), isolatedYaml);
    const isolated = await sh('npx', ['tessera', 'run', '--app-id', 'a', '--dapr-http-port', '0', '--dapr-grpc-port', '0', '--resources-path', 'resources', '--', 'node', 'app.mjs'], app);
    assert.match(isolated.stdout, /read back: \{ item: 'tea', quantity: 2 \}/);
  });

  test('answers `tessera --help` and runs the conformance kit on a bundled store', async (t) => {
    if (unavailable) return t.skip(unavailable);
    assert.match((await sh('npx', ['tessera', '--help'], app)).stdout, /^Tessera .*\n\nUsage: tessera <command>/);
    const kit = await sh('npx', ['tessera', 'component', 'test', 'node_modules/tessera-sidecar/components-wasm/state-memory/state-memory.wasm'], app);
    assert.match(kit.stdout, /PASS: \d+ passed, 0 failed/);
  });
});
