// The `tessera` command as a user runs it: help and usage errors, an app started after `--`
// with the sidecar's address in its environment, and the ways the sidecar stops.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { runTessera, startSidecar, STATE_MEMORY_WASM, type SidecarProcess } from '../support/sidecar-process.ts';

const README = new URL('../../README.md', import.meta.url);

const started: SidecarProcess[] = [];
after(() => Promise.all(started.map((s) => s.stop())));

async function sidecarWith(options: Parameters<typeof startSidecar>[0] = {}): Promise<SidecarProcess> {
  const sidecar = await startSidecar({ resources: { 'statestore.wasm': { copyOf: STATE_MEMORY_WASM } }, ...options });
  started.push(sidecar);
  return sidecar;
}

// Every test runs its own process, so they run side by side.
const concurrently = { concurrency: true };

describe('tessera help and usage errors', concurrently, () => {
  it('prints usage for --help and exits 0', async () => {
    const { code, stdout } = await runTessera(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Usage: tessera <command>/);
    assert.match(stdout, /\brun\b/);
  });

  it('prints the run usage for run --help and exits 0', async () => {
    const { code, stdout } = await runTessera(['run', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Usage: tessera run --app-id ID/);
    for (const flag of ['--app-id', '--app-max-concurrency', '--dapr-http-port', '--resources-path', '--max-body-size', 'DAPR_API_TOKEN']) assert.ok(stdout.includes(flag), flag);
  });

  it('exits 2 naming the flag when run has no --app-id', async () => {
    const { code, stderr, stdout } = await runTessera(['run', '--dapr-http-port', '0']);
    assert.equal(code, 2, stdout + stderr);
    assert.match(stderr, /--app-id/);
    assert.doesNotMatch(stdout, /listening/);
  });

  it('run --help and the README\'s "Running it with your app" name the same flags, variables, signals, routes and exit codes', async () => {
    const { stdout: help } = await runTessera(['run', '--help']);
    const section = /^## Running it with your app\n([\s\S]*?)^## /m.exec(await readFile(README, 'utf8'))?.[1];
    assert.ok(section, 'README.md has a "Running it with your app" section');
    const terms = (text: string): Set<string> =>
      new Set([
        ...(text.match(/(?<![\w-])--?[a-z][\w-]*/g) ?? []), // flags
        ...(text.match(/\b[A-Z][A-Z_]{3,}\b/g) ?? []), // environment variables, signals, methods
        ...(text.match(/\/v1\.0\/[\w/]+/g) ?? []), // routes
      ]);
    // The section's worked example (a fenced block: a YAML file, an app) is not reference text.
    const [inHelp, inReadme] = [terms(help), terms(section.replace(/^```[\s\S]*?^```$/gm, ''))];
    assert.deepEqual([...inHelp].filter((t) => !inReadme.has(t)), [], 'in tessera run --help, not in the README');
    assert.deepEqual([...inReadme].filter((t) => !inHelp.has(t)), [], 'in the README, not in tessera run --help');
    const helpCodes = help.slice(help.indexOf('Exit codes:')).match(/^ {2}(\d+|N) {2,}/gm)?.map((line) => line.trim());
    const readmeCodes = section.match(/^\| (\d+|N) \|/gm)?.map((row) => row.slice(2, -2));
    assert.deepEqual(helpCodes, ['0', 'N', '1', '2']);
    assert.deepEqual(readmeCodes, helpCodes);
  });

  it('exits 2 showing the line meant when the app command has no "--" before it', async () => {
    const { code, stderr } = await runTessera(['run', '--app-id', 'orders', '--log-as-json', 'node', 'app.js', '--port', 'a b']);
    assert.equal(code, 2, stderr);
    assert.equal(stderr, `tessera: unexpected argument "node": the app command goes after "--", as in: tessera run --app-id orders --log-as-json -- node app.js --port 'a b'\n`);
  });

  it('exits 2 naming the folder when a --resources-path folder does not exist, or is a file', async () => {
    const missing = await runTessera(['run', '--app-id', 'x', '--dapr-http-port', '0', '--resources-path', '/nonexistent/tessera-resources']);
    assert.equal(missing.code, 2, missing.stdout + missing.stderr);
    assert.equal(missing.stderr, 'tessera: --resources-path /nonexistent/tessera-resources: the folder does not exist; create it, or name another\n');
    assert.doesNotMatch(missing.stdout, /listening/);
    const file = await runTessera(['run', '--app-id', 'x', '--dapr-http-port', '0', '--components-path', STATE_MEMORY_WASM]);
    assert.equal(file.code, 2, file.stdout + file.stderr);
    assert.match(file.stderr, /^tessera: --resources-path .*state-memory\.wasm: not a folder; name the folder holding the component files\n$/);
  });

  it('exits 1 with one line naming --dapr-http-port when the port is taken', async (t) => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    t.after(() => taken.close());
    const port = (taken.address() as AddressInfo).port;
    const { code, stderr } = await runTessera(['run', '--app-id', 'x', '--dapr-http-port', String(port)]);
    assert.equal(code, 1, stderr);
    assert.equal(stderr, `tessera: port ${port} is already in use on 127.0.0.1 (another sidecar?); choose another with --dapr-http-port\n`);
  });

  it('exits 2 naming the flag and the value for a bad flag value', async () => {
    const { code, stderr } = await runTessera(['run', '--app-id', 'x', '--dapr-http-port', 'eighty']);
    assert.equal(code, 2);
    assert.match(stderr, /--dapr-http-port.*"eighty"/);
    const concurrency = await runTessera(['run', '--app-id', 'x', '--app-max-concurrency', '0']);
    assert.equal(concurrency.code, 2);
    assert.equal(concurrency.stderr, 'tessera: --app-max-concurrency must be a positive integer, or -1 for no limit, got "0"\n');
    const components = await runTessera(['run', '--app-id', 'x', '--max-components', 'many']);
    assert.equal(components.code, 2);
    assert.equal(components.stderr, 'tessera: --max-components must be a positive integer, got "many"\n');
  });
});

describe('tessera run with an app', concurrently, () => {
  it('gives the app DAPR_HTTP_PORT and APP_ID, and exits with the app, with its exit code', async () => {
    // The app saves and reads state through the sidecar it finds in its environment.
    const app = `(async () => {
      const base = 'http://127.0.0.1:' + process.env.DAPR_HTTP_PORT + '/v1.0/state/statestore';
      const saved = await fetch(base, { method: 'POST', body: JSON.stringify([{ key: 'from-app', value: { appId: process.env.APP_ID } }]) });
      const read = await fetch(base + '/from-app');
      console.log('app: port=' + process.env.DAPR_HTTP_PORT + ' save=' + saved.status + ' get=' + read.status + ' ' + (await read.text()));
      process.exit(read.status === 200 ? 7 : 1);
    })();`;
    const sidecar = await sidecarWith({ appId: 'cli-app', command: [process.execPath, '-e', app] });
    const exit = await sidecar.waitForExit(10_000);
    assert.deepEqual(exit, { code: 7, signal: null }, sidecar.logText());
    const line = sidecar.logs.find((entry) => entry.message.startsWith('app: '));
    assert.equal(line?.message, `app: port=${sidecar.port} save=204 get=200 {"appId":"cli-app"}`, sidecar.logText());
    await sidecar.waitForLog(/app exited \(code 7\)/, 1000);
  });

  it('exits non-zero when the app is killed by a signal', async () => {
    const sidecar = await sidecarWith({ command: [process.execPath, '-e', "process.kill(process.pid, 'SIGKILL')"] });
    const exit = await sidecar.waitForExit(10_000);
    assert.equal(exit.signal, null);
    assert.notEqual(exit.code, 0, 'a crashed app must not look like a clean exit');
    await sidecar.waitForLog(/app exited \(SIGKILL\)/, 1000);
  });

  it('exits 1 naming the command when the app command cannot start', async () => {
    const sidecar = await sidecarWith({ command: ['/nonexistent/app-binary'] });
    assert.deepEqual(await sidecar.waitForExit(10_000), { code: 1, signal: null });
    await sidecar.waitForLog(/app command "\/nonexistent\/app-binary" could not start/, 1000);
  });
});

describe('stopping the sidecar', concurrently, () => {
  it('stops cleanly on SIGTERM (exit code 0), stopping its app and closing its port', async () => {
    const app = `process.on('SIGTERM', () => { console.log('app: got SIGTERM'); process.exit(0); });
      console.log('app: running'); setInterval(() => {}, 1000);`;
    const sidecar = await sidecarWith({ command: [process.execPath, '-e', app] });
    await sidecar.waitForLog(/^app: running$/);
    assert.equal((await sidecar.fetch('/v1.0/healthz')).status, 204);
    assert.deepEqual(await sidecar.stop('SIGTERM'), { code: 0, signal: null });
    assert.ok(sidecar.logs.some((entry) => entry.message === 'shutting down'), sidecar.logText());
    assert.ok(sidecar.logs.some((entry) => entry.message === 'app: got SIGTERM'), sidecar.logText());
    await assert.rejects(sidecar.fetch('/v1.0/healthz'));
  });

  it('stops on POST /v1.0/shutdown after answering 204', async () => {
    const sidecar = await sidecarWith();
    const res = await sidecar.fetch('/v1.0/shutdown', { method: 'POST' });
    assert.equal(res.status, 204);
    assert.deepEqual(await sidecar.waitForExit(5000), { code: 0, signal: null });
    await assert.rejects(sidecar.fetch('/v1.0/healthz'));
  });
});
