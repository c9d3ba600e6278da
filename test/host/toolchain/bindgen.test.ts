// `tessera bindgen` (host/toolchain/bindgen/): the committed generated files are what the WIT
// gives; a hand edit of any one of them, a missing one, or a leftover one fails the check,
// naming the file; the TypeScript it generates types the WIT as the host lifts it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkGenerated, generate, writeGenerated } from '../../../host/toolchain/bindgen/index.ts';
import { GENERATED_MARK } from '../../../host/toolchain/bindgen/model.ts';
import { loadWitPackage, parseWitPackage } from '../../../host/sandbox/wit/parser.ts';
import { runTessera } from '../../support/sidecar-process.ts';
import { tempDir } from '../../support/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = loadWitPackage(join(ROOT, 'abi', 'wit'));

let work: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  work = await tempDir('tessera-bindgen-');
});
after(() => work.remove());

/** A copy of the committed generated files under a fresh root. */
async function copyOfGenerated(name: string): Promise<string> {
  const root = join(work.path, name);
  for (const f of generate(pkg)) {
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await cp(join(ROOT, f.path), join(root, f.path));
  }
  return root;
}

describe('tessera bindgen', () => {
  test('the committed generated files are what the WIT gives, each marked generated on its first line', async () => {
    assert.deepEqual(await checkGenerated(pkg, ROOT), { changed: [], stale: [] });
    for (const f of generate(pkg)) assert.ok(f.text.split('\n', 1)[0]!.includes(GENERATED_MARK), f.path);
  });

  test('a hand edit of any generated file fails the check naming that file, and bindgen puts it back', async () => {
    const root = await copyOfGenerated('edited');
    const files = generate(pkg);
    assert.ok(files.length >= 10, `bindgen writes the host's and each SDK's files (${files.length})`);
    for (const f of files) {
      const path = join(root, f.path);
      await writeFile(path, f.text.replace(/\n(?=[^\n]*\S[^\n]*\n?$)/, '\n// a hand edit\n'));
      assert.deepEqual((await checkGenerated(pkg, root)).changed, [f.path]);
      await writeFile(path, f.text);
    }
    await rm(join(root, files[0]!.path));
    await writeFile(join(root, files[1]!.path), 'edited\n');
    const report = await writeGenerated(pkg, root);
    assert.deepEqual(report.changed.sort(), [files[0]!.path, files[1]!.path].sort());
    assert.deepEqual(await checkGenerated(pkg, root), { changed: [], stale: [] });
  });

  test('a generated file the WIT no longer gives is stale: the check names it and bindgen removes it', async () => {
    const root = await copyOfGenerated('stale');
    const leftover = join(root, 'abi', 'ts', 'wit', 'gone.ts');
    await writeFile(leftover, `// ${GENERATED_MARK}\nexport {};\n`);
    await writeFile(join(root, 'abi', 'ts', 'wit', 'mine.ts'), '// written by hand, kept\n');
    assert.deepEqual((await checkGenerated(pkg, root)).stale, ['abi/ts/wit/gone.ts']);
    assert.deepEqual((await writeGenerated(pkg, root)).stale, ['abi/ts/wit/gone.ts']);
    await assert.rejects(readFile(leftover), { code: 'ENOENT' });
    assert.equal(await readFile(join(root, 'abi', 'ts', 'wit', 'mine.ts'), 'utf8'), '// written by hand, kept\n');
  });

  test('`tessera bindgen --check` exits 1 naming the edited file; `tessera bindgen` regenerates it', async () => {
    const root = await copyOfGenerated('cli');
    const target = join(root, 'abi', 'ts', 'wit', 'state.ts');
    await writeFile(target, (await readFile(target, 'utf8')).replace('key: string;', 'key: string | number;'));
    const check = await runTessera(['bindgen', '--check', '--root', root]);
    assert.equal(check.code, 1);
    assert.match(check.stderr, /abi\/ts\/wit\/state\.ts: differs from what the WIT gives/);
    assert.match(check.stderr, /run `npm run bindgen`/);
    const fix = await runTessera(['bindgen', '--root', root]);
    assert.equal(fix.code, 0, fix.stderr);
    assert.match(fix.stdout, /wrote abi\/ts\/wit\/state\.ts/);
    assert.equal((await runTessera(['bindgen', '--check', '--root', root])).code, 0);
    const usage = await runTessera(['bindgen', '--frobnicate']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /bindgen: .*frobnicate.*tessera bindgen --help/);
  });

  test("the WIT's doc comments reach the host's types and every SDK's", () => {
    const doc = 'The broker\'s id for this delivery, unique within its subscription; `ack` names it.';
    const carriers = generate(pkg).filter((f) => f.text.includes(doc)).map((f) => f.path);
    for (const dir of ['abi/ts/wit/', 'sdk/assemblyscript/', 'sdk/cpp/', 'sdk/rust/']) assert.ok(carriers.some((p) => p.startsWith(dir)), `${dir}: ${carriers.join(', ')}`);
  });

  test('a WIT change is a change of the generated host types: a new record field appears in the interface and its calls', () => {
    const witDir = join(ROOT, 'abi', 'wit');
    const changed = parseWitPackage(
      readdirSync(witDir)
        .filter((file) => file.endsWith('.wit'))
        .map((file) => {
          const text = readFileSync(join(witDir, file), 'utf8');
          return { file, text: file === 'state.wit' ? text.replace('record get-request {\n    key: string,', 'record get-request {\n    key: string,\n    shard-hint: option<u32>,') : text };
        }),
    );
    const state = generate(changed).find((f) => f.path === 'abi/ts/wit/state.ts')!.text;
    assert.match(state, /export interface GetRequest \{\n {2}key: string;\n {2}shardHint\?: number;/);
  });
});
