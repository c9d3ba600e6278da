// What a start loads: importing the sidecar's modules (the HTTP API, the sandbox's http
// capability, the building blocks) must not load Node's bundled undici. An ESM `import` of
// node:http builds a namespace of all its exports, and reading its lazy WebSocket getters
// loads undici: ~25 ms of every start, paid before the API listens. Checked in a fresh
// process, as the test runner's own process may have loaded it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const modules = ['../../host/sidecar.ts', '../../host/sandbox/capabilities/http.ts', '../../host/api/http/bindings-routes.ts'].map((m) => new URL(m, import.meta.url).href);

test('importing the sidecar does not load undici', async () => {
  const script = `for (const m of ${JSON.stringify(modules)}) await import(m); console.log(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 60_000 });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), []);
});
