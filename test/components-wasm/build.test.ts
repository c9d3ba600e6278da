// components-wasm/build.ts as CI runs it: with --check, every component folder (whatever its
// language) rebuilds into a temporary folder byte for byte as committed; a bad argument is a
// usage error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

test('node components-wasm/build.ts --check passes on the committed output of every folder', async () => {
  const { stdout } = await run(process.execPath, ['components-wasm/build.ts', '--check'], { cwd: ROOT });
  assert.match(stdout, /^\d+ component\(s\) match their sources$/m);
});

test('an unknown argument exits 2 with the usage', async () => {
  await assert.rejects(run(process.execPath, ['components-wasm/build.ts', '--all'], { cwd: ROOT }), (err: { code?: number; stderr?: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr ?? '', /unknown argument --all; usage: node components-wasm\/build\.ts \[--check\]/);
    return true;
  });
});
