// What a start loads before the API listens: importing the sidecar's modules (the HTTP API,
// the sandbox's http capability, the building blocks) must not load Node's bundled undici nor
// the gRPC stack. An ESM `import` of node:http builds a namespace of all its exports, and
// reading its lazy WebSocket getters loads undici (~25 ms of every start); grpc-js,
// proto-loader and protobufjs are loaded when the first connection reaches a gRPC port,
// or when the app speaks gRPC; the YAML parser when a Configuration is read (the resources'
// other files are parsed on the load workers). Checked in a fresh process, as the test runner's own process
// may have loaded them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const modules = ['../../host/cli/run-command.ts', '../../host/sidecar.ts', '../../host/sandbox/capabilities/http.ts', '../../host/api/http/bindings-routes.ts'].map((m) => new URL(m, import.meta.url).href);

test('importing the sidecar loads neither undici, nor the gRPC stack, nor the YAML parser', async () => {
  const script = [
    `for (const m of ${JSON.stringify(modules)}) await import(m);`,
    "const { createRequire } = await import('node:module');",
    "const cached = Object.keys(createRequire(import.meta.url)('node:module')._cache);",
    "const packages = ['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', 'yaml'].filter((p) => cached.some((f) => f.includes(`/node_modules/${p}/`)));",
    "console.log(JSON.stringify({ undici: process.moduleLoadList.filter((m) => m.includes('undici')), packages }));",
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 60_000 });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), { undici: [], packages: [] });
});
