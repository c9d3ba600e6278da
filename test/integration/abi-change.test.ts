// An ABI change is one edit: in a copy of the package, a record of the WIT gains a field in
// the middle (every offset after it moves, and `set` flattens to 16 values, the most that
// still go flat); `tessera bindgen` regenerates the host's types and each SDK's glue; a
// state store scaffolded and built from each SDK of the copy then passes the copy's
// conformance kit, which the copy's host lifts and lowers by the edited WIT. Where the host
// and an SDK disagreed on one offset, a value, an ETag, a concurrency mode or a TTL would
// land in the wrong place, and the kit would fail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../support/temp-dir.ts';
import { needs } from '../support/tools.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A cold build of each language on a busy two-core machine. */
const BUILD_TIMEOUT_MS = 300_000;

const run = promisify(execFile);

let work: Awaited<ReturnType<typeof tempDir>>;
let copy: string;

/** Runs the copy's `tessera` in `cwd`; resolves to its output, or rejects with it. */
async function tessera(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [join(copy, 'host', 'cli', 'tessera.ts'), ...args], { cwd, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`tessera ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

before(async () => {
  work = await tempDir('tessera-abi-change-');
  copy = join(work.path, 'package');
  // What the CLI, the host and the SDKs are made of; node_modules is shared.
  for (const part of ['package.json', 'host', 'abi', 'sdk']) {
    await cp(join(ROOT, part), join(copy, part), { recursive: true, filter: (src) => !/[\\/](target|node_modules)$/.test(src) });
  }
  await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const witFile = join(copy, 'abi', 'wit', 'state.wit');
  const wit = await readFile(witFile, 'utf8');
  const edited = wit.replace('    content-type: option<string>,\n    concurrency: concurrency,', '    content-type: option<string>,\n    /** A hint a store may use to place the item. */\n    shard-hint: option<u32>,\n    concurrency: concurrency,');
  assert.notEqual(edited, wit, 'the WIT edit applies');
  await writeFile(witFile, edited);
  const out = await tessera(['bindgen'], copy);
  assert.match(out, /wrote abi\/ts\/wit\/state\.ts/);
});
after(() => work?.remove());

describe('an ABI change is one edit of the WIT', { concurrency: true }, () => {
  test('the regenerated host types carry the new field', async () => {
    const state = await readFile(join(copy, 'abi', 'ts', 'wit', 'state.ts'), 'utf8');
    assert.match(state, /contentType\?: string;\n {2}shardHint\?: number;\n {2}concurrency: Concurrency;/);
    assert.match(await tessera(['bindgen', '--check'], copy), /every generated file matches the WIT/);
  });

  for (const lang of ['as', 'rust', 'cpp'] as const) {
    test(`a ${lang} store built on the regenerated glue passes the kit of the regenerated host`, lang === 'rust' ? needs('rust') : lang === 'cpp' ? needs('clang') : {}, async () => {
      const name = `shard-${lang}`;
      await tessera(['component', 'new', 'state', '--lang', lang, name], work.path);
      const dir = join(work.path, name);
      await tessera(['component', 'build'], dir);
      const tested = await tessera(['component', 'test', `${name}.wasm`], dir);
      assert.match(tested, /^PASS: \d+ passed, 0 failed/m, tested);
    });
  }
});
