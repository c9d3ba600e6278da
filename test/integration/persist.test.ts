// `tessera.dev/persist`: state.memory keeps its data in a file across sidecar restarts, as a
// user sees it through the real `tessera` process: saved, stopped, started, read back.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { componentYaml, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { tempDir, withAnnotations } from '../support/temp-dir.ts';
import { TestApp } from '../support/test-app.ts';

let data: Awaited<ReturnType<typeof tempDir>>;
const running = new Set<SidecarProcess>();

before(async () => {
  data = await tempDir('tessera-persist-');
});
after(async () => {
  await Promise.all([...running].map((s) => s.stop()));
  await data.remove();
});

/** A sidecar whose `statestore` persists to `file` (absolute), beside a plain `other` store. */
async function start(file: string, annotations: Record<string, string> = {}): Promise<SidecarProcess> {
  const sidecar = await startSidecar({
    resources: {
      'statestore.yaml': withAnnotations(componentYaml('statestore'), { 'tessera.dev/persist': file, ...annotations }),
      'other.yaml': componentYaml('other'),
    },
  });
  running.add(sidecar);
  return sidecar;
}

async function stop(sidecar: SidecarProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  running.delete(sidecar);
  await sidecar.stop(signal);
}

async function save(sidecar: SidecarProcess, key: string, value: unknown, store = 'statestore'): Promise<void> {
  const res = await sidecar.fetch(`/v1.0/state/${store}`, { method: 'POST', body: JSON.stringify([{ key, value }]) });
  assert.equal(res.status, 204, await res.text());
}

async function get(sidecar: SidecarProcess, key: string, store = 'statestore'): Promise<{ status: number; body: string; etag: string | null }> {
  const res = await sidecar.fetch(`/v1.0/state/${store}/${key}`);
  return { status: res.status, body: await res.text(), etag: res.headers.get('etag') };
}

interface Listed {
  name: string;
  status?: string;
  error?: string;
}

async function components(sidecar: SidecarProcess): Promise<Listed[]> {
  const res = await sidecar.fetch('/v1.0/metadata');
  return ((await res.json()) as { componentStatus: Listed[] }).componentStatus;
}

describe('tessera.dev/persist', () => {
  it('keeps what was saved across a clean stop and start, ETags included', async () => {
    const file = join(data.path, 'clean', 'store.snap');
    const first = await start(file);
    await save(first, 'order-1', { total: 42 });
    const before = await get(first, 'order-1');
    assert.equal(before.status, 200);
    await stop(first);
    assert.ok((await stat(file)).isFile(), 'the stop wrote the snapshot file (its folder made)');

    const second = await start(file);
    const after = await get(second, 'order-1');
    assert.equal(after.status, 200, after.body);
    assert.deepEqual(JSON.parse(after.body), { total: 42 });
    assert.equal(after.etag, before.etag);
    // The ETag still guards writes: the one read before the restart is accepted once, then stale.
    const write = (): Promise<Response> => second.fetch('/v1.0/state/statestore', { method: 'POST', body: JSON.stringify([{ key: 'order-1', value: 1, etag: before.etag }]) });
    assert.equal((await write()).status, 204);
    assert.equal((await write()).status, 409);
    await stop(second);
  });

  it('writes at its interval, so a crash after a write loses nothing written before it', async () => {
    const file = join(data.path, 'interval.snap');
    const first = await start(file, { 'tessera.dev/persist-interval': '200ms' });
    await save(first, 'k', 'written before the crash');
    await pollUntil('the interval write of the snapshot', async () => ((await readFile(file).catch(() => Buffer.alloc(0))).includes('written before the crash') ? true : undefined));
    await stop(first, 'SIGKILL');

    const second = await start(file);
    const read = await get(second, 'k');
    assert.equal(read.status, 200, read.body);
    assert.equal(JSON.parse(read.body), 'written before the crash');
    await stop(second);
  });

  it('a damaged file fails that component, naming the file and why, while the others serve', async () => {
    const file = join(data.path, 'damaged.snap');
    const first = await start(file);
    await save(first, 'k', 'v');
    await stop(first);
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.byteLength - 3));

    const second = await start(file);
    const failed = await pollUntil('statestore to fail', async () => (await components(second)).find((c) => c.name === 'statestore' && c.error !== undefined));
    assert.match(failed.error!, /could not restore its data from .*damaged\.snap/);
    assert.match(failed.error!, /the file is damaged \(its checksum does not match/);
    const read = await get(second, 'k');
    assert.notEqual(read.status, 200, 'never served empty');
    await save(second, 'k', 'fine', 'other');
    assert.equal(JSON.parse((await get(second, 'k', 'other')).body), 'fine');
    await stop(second);
  });

  it('the quickstart\'s state store keeps its data beside its YAML', async () => {
    // The quickstart's own YAML, in a folder of the test's (npm start would write into the repository).
    const resources = join(data.path, 'quickstart');
    await mkdir(resources);
    await copyFile(fileURLToPath(new URL('../../examples/quickstart/resources/statestore.yaml', import.meta.url)), join(resources, 'statestore.yaml'));
    const run = async (): Promise<SidecarProcess> => {
      const sidecar = await startSidecar({ appId: 'tessera', args: ['--resources-path', resources] });
      running.add(sidecar);
      return sidecar;
    };
    const first = await run();
    await save(first, 'greeting', 'hello');
    await stop(first);
    assert.ok((await stat(join(resources, 'data', 'statestore.snap'))).isFile());
    const second = await run();
    assert.equal(JSON.parse((await get(second, 'greeting')).body), 'hello');
    await stop(second);
  });

  it('pubsub.memory keeps messages not yet delivered: published before a stop, delivered after the start', async () => {
    const file = join(data.path, 'pubsub.snap');
    const resources = { 'pubsub.yaml': withAnnotations(componentYaml('pubsub', 'pubsub.memory'), { 'tessera.dev/persist': file }) };
    const first = await startSidecar({ resources });
    running.add(first);
    const res = await first.fetch('/v1.0/publish/pubsub/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 7 }) });
    assert.equal(res.status, 204, await res.text());
    await stop(first);

    const app = await new TestApp().listen();
    try {
      app.subscribe = { status: 200, body: [{ pubsubname: 'pubsub', topic: 'orders', route: '/orders' }] };
      const second = await startSidecar({ resources, args: ['--app-port', String(app.port)] });
      running.add(second);
      const [delivery] = await app.waitFor('/orders', 1, 10_000);
      assert.deepEqual(delivery!.json.data, { id: 7 });
      await stop(second);
    } finally {
      await app.close();
    }
  });

  it('refuses a bad annotation, one on a component that cannot snapshot, and a file two components name', async () => {
    const sidecar = await startSidecar({
      resources: {
        'bad.yaml': withAnnotations(componentYaml('bad'), { 'tessera.dev/persist': './data/x.snap', 'tessera.dev/persist-interval': 'often' }),
        'empty.yaml': withAnnotations(componentYaml('empty'), { 'tessera.dev/persist': '' }),
        'cron.yaml': withAnnotations(componentYaml('cron', 'bindings.cron', { schedule: '@every 1h' }), { 'tessera.dev/persist': './data/c.snap' }),
        'one.yaml': withAnnotations(componentYaml('one'), { 'tessera.dev/persist': './data/same.snap' }),
        'two.yaml': withAnnotations(componentYaml('two'), { 'tessera.dev/persist': './data/same.snap' }),
        'other.yaml': componentYaml('other'),
      },
    });
    running.add(sidecar);
    const listed = await pollUntil('four failures', async () => {
      const all = await components(sidecar);
      return all.filter((c) => c.error !== undefined && c.status === 'failed').length >= 4 ? all : undefined;
    });
    const errorOf = (name: string): string => listed.find((c) => c.name === name)?.error ?? '';
    assert.match(errorOf('bad'), /bad\.yaml: component "bad": annotation "tessera\.dev\/persist-interval" must be a duration/);
    assert.match(errorOf('empty'), /empty\.yaml: component "empty": annotation "tessera\.dev\/persist" must be the path of a file/);
    assert.match(errorOf('cron'), /cron\.yaml: component "cron": annotation "tessera\.dev\/persist" .* exports no snapshot/);
    assert.match(errorOf('two'), /two\.yaml: component "two": annotation "tessera\.dev\/persist" names .*same\.snap, which component "one" \(.*one\.yaml\) persists to already/);
    for (const name of ['one', 'other']) assert.equal(listed.find((c) => c.name === name)?.status, 'ready', name);
    await stop(sidecar);
  });
});
