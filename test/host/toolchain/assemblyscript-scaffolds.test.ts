// The AssemblyScript scaffolds as a new user meets them: `tessera component new state --lang as`
// builds, runs in a sidecar, and a rebuilt store copied over the running one keeps every key
// and ETag (the scaffold exports snapshot and restore); `tessera component new pubsub --lang as`
// builds, and its broker publishes, delivers, redelivers what was not acknowledged, keeps topics
// apart and carries its messages through a snapshot; `tessera component new binding --lang as`
// builds an output binding whose `echo` answers the request, and whose init checks its metadata.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Message } from '../../../abi/ts/wit/pubsub.ts';
import type { WitResult } from '../../../abi/ts/wit/abi.ts';
import type { InvokeResponse } from '../../../abi/ts/wit/output.ts';
import { isTesseraError } from '../../../host/errors.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../../host/sandbox/live-component.ts';
import { pollUntil, runTessera, startSidecar, type SidecarProcess } from '../../support/sidecar-process.ts';
import { tempDir } from '../../support/temp-dir.ts';

const OK = { tag: 'ok', val: undefined };
const BUILD_TIMEOUT_MS = 120_000;
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** `tessera component new KIND --lang as NAME` then `tessera component build`, as a user runs them; resolves to the folder. */
async function scaffoldAndBuild(kind: 'state' | 'pubsub' | 'binding', name: string): Promise<string> {
  const dir = await tempDir(`tessera-as-${kind}-`);
  cleanups.push(() => dir.remove());
  const made = await runTessera(['component', 'new', kind, '--lang', 'as', name], { cwd: dir.path });
  assert.equal(made.code, 0, made.stderr);
  const component = join(dir.path, name);
  await build(component);
  return component;
}

async function build(component: string): Promise<void> {
  const built = await runTessera(['component', 'build'], { cwd: component, timeoutMs: BUILD_TIMEOUT_MS });
  assert.equal(built.code, 0, built.stderr);
}

test('a state store from the AssemblyScript scaffold keeps its keys and ETags when a rebuild is copied over it', { timeout: 4 * BUILD_TIMEOUT_MS }, async () => {
  const component = await scaffoldAndBuild('state', 'kv');
  const wasm = join(component, 'kv.wasm');
  const sidecar: SidecarProcess = await startSidecar({ resources: { 'statestore.wasm': { copyOf: wasm } } });
  cleanups.push(async () => void (await sidecar.stop()));
  const url = '/v1.0/state/statestore';
  const capabilities = async (): Promise<string[]> => {
    const body = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { components: { name: string; capabilities: string[] }[] };
    return body.components.find((c) => c.name === 'statestore')?.capabilities ?? [];
  };
  assert.ok((await capabilities()).includes('TTL'));

  const items = [
    { key: 'order-1', value: { n: 1 } },
    { key: 'order-2', value: 'two' },
    { key: 'order-3', value: { n: 3 }, metadata: { ttlInSeconds: '3600' } },
  ];
  assert.equal((await sidecar.fetch(url, { method: 'POST', body: JSON.stringify(items) })).status, 204);
  const before = await Promise.all(
    items.map(async ({ key }) => {
      const res = await sidecar.fetch(`${url}/${key}`);
      return { body: await res.text(), etag: res.headers.get('etag') };
    }),
  );
  assert.ok(before.every((b) => b.etag !== null && b.body !== ''));

  // A visible change: the rebuilt store no longer advertises TTL.
  const store = join(component, 'assembly', 'store.ts');
  const source = await readFile(store, 'utf8');
  assert.match(source, /Feature\.TRANSACTIONAL, Feature\.TTL\]/);
  await writeFile(store, source.replace('Feature.TRANSACTIONAL, Feature.TTL]', 'Feature.TRANSACTIONAL]'));
  await build(component);
  await writeFile(join(sidecar.resourcesDir, 'statestore.wasm'), await readFile(wasm));
  await pollUntil('the rebuilt store to be swapped in', async () => ((await capabilities()).includes('TTL') ? undefined : true), { timeoutMs: 20_000 });

  for (const [i, { key }] of items.entries()) {
    const res = await sidecar.fetch(`${url}/${key}`);
    assert.equal(res.status, 200, key);
    assert.deepEqual({ body: await res.text(), etag: res.headers.get('etag') }, before[i], key);
  }
  // The restored ETags are the store's own: a write with a stale one is refused.
  const stale = await sidecar.fetch(url, { method: 'POST', body: JSON.stringify([{ key: 'order-1', value: 'x', etag: '999' }]) });
  assert.equal(stale.status, 409);
});

test('a broker from the AssemblyScript scaffold builds, delivers, redelivers what was not acknowledged and survives a snapshot', { timeout: 2 * BUILD_TIMEOUT_MS }, async (t) => {
  const component = await scaffoldAndBuild('pubsub', 'events');
  const wasm = join(component, 'events.wasm');
  const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(wasm)));
  const start = (): Promise<LiveComponent> => LiveComponent.start(compiled, { name: 'events', config: new Map([['consumerID', 'app']]), logger: silentLogger });
  const live = await start();
  cleanups.push(() => live.close());

  assert.deepEqual(await live.call('features', []), ['BULK_PUBLISH']);
  const orders = ((await live.call('subscribe', ['orders', []])) as WitResult<bigint, unknown>).val as bigint;
  const other = ((await live.call('subscribe', ['other', []])) as WitResult<bigint, unknown>).val as bigint;
  for (const text of ['one', 'two']) assert.deepEqual(await live.call('publish', [{ topic: 'orders', data: encode(text), contentType: 'text/plain', metadata: [['k', text]] }]), OK);
  assert.deepEqual(await live.call('bulk-publish', ['orders', [{ entryId: 'e3', data: encode('three'), metadata: [] }], []]), { tag: 'ok', val: [] });

  const pull = async (sub: bigint, max = 10): Promise<Message[]> => {
    const result = (await live.call('pull', [sub, max, 0])) as WitResult<Message[], unknown>;
    assert.equal(result.tag, 'ok');
    return result.val as Message[];
  };
  assert.deepEqual(await pull(other), [], 'topics are kept apart');
  const first = await pull(orders, 2);
  assert.deepEqual(first.map((m) => [decode(m.data), m.contentType, m.metadata]), [
    ['one', 'text/plain', [['k', 'one']]],
    ['two', 'text/plain', [['k', 'two']]],
  ]);
  assert.deepEqual(await live.call('ack', [orders, first[0]!.id, 'success']), OK);
  assert.deepEqual(await live.call('ack', [orders, first[1]!.id, 'retry']), OK);
  assert.deepEqual((await pull(orders)).map((m) => decode(m.data)), ['two', 'three'], 'a retried message comes back first');

  // Unacknowledged messages cross a snapshot into a fresh instance, and are delivered there.
  const data = await live.call('snapshot#snapshot', []);
  const next = await start();
  cleanups.push(() => next.close());
  assert.deepEqual(await next.call('snapshot#restore', [data]), OK);
  const restored = (await next.call('pull', [orders, 10, 0])) as WitResult<Message[], unknown>;
  assert.deepEqual((restored.val as Message[]).map((m) => decode(m.data)), ['two', 'three']);

  // `tessera component test` runs the kit's suite for the component's kind.
  const kit = await runTessera(['component', 'test', wasm], { timeoutMs: 60_000 });
  if (/this kit checks state stores/.test(kit.stdout + kit.stderr)) t.todo('the pub/sub conformance suite is not in `tessera component test` yet');
  else assert.equal(kit.code, 0, kit.stdout + kit.stderr);
});

test('an output binding from the AssemblyScript scaffold builds, echoes the request and checks its metadata', { timeout: 2 * BUILD_TIMEOUT_MS }, async (t) => {
  const component = await scaffoldAndBuild('binding', 'echo');
  const wasm = join(component, 'echo.wasm');
  const manifest = JSON.parse(await readFile(join(component, 'manifest.json'), 'utf8')) as { kind: string; type: string };
  assert.deepEqual([manifest.kind, manifest.type], ['binding', 'bindings.echo']);
  const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(wasm)));
  const start = (config: [string, string][]): Promise<LiveComponent> => LiveComponent.start(compiled, { name: 'echo', config: new Map(config), logger: silentLogger });
  const live = await start([['maxBytes', '16']]);
  cleanups.push(() => live.close());

  assert.deepEqual(await live.call('output#operations', []), ['echo']);
  const echoed = (await live.call('output#invoke', [{ operation: 'echo', data: encode('{"n":1}'), metadata: [['k', 'v']] }])) as WitResult<InvokeResponse, unknown>;
  assert.equal(echoed.tag, 'ok');
  const response = echoed.val as InvokeResponse;
  assert.deepEqual([decode(response.data), response.metadata, response.contentType], ['{"n":1}', [['k', 'v']], 'application/json']);
  const tooBig = (await live.call('output#invoke', [{ operation: 'echo', data: encode('"'.padEnd(20, 'x') + '"'), metadata: [] }])) as { tag: string; val: { tag: string; val: string } };
  assert.deepEqual([tooBig.tag, tooBig.val.tag, /over maxBytes \(16\)/.test(tooBig.val.val)], ['err', 'invalid-argument', true]);
  const unlisted = (await live.call('output#invoke', [{ operation: 'shout', data: encode('1'), metadata: [] }])) as { tag: string; val: { tag: string; val: string } };
  assert.deepEqual([unlisted.tag, unlisted.val.tag, /operation "shout": it supports echo/.test(unlisted.val.val)], ['err', 'invalid-argument', true]);

  // A bad setting fails init, quoting it.
  const refused = await start([['maxBytes', 'lots']]).then(
    (other) => other.close().then(() => assert.fail('maxBytes "lots" was accepted')),
    (err: unknown) => err,
  );
  assert.ok(isTesseraError(refused) && refused.componentError?.tag === 'invalid-argument', String(refused));
  assert.match(refused.componentError!.val, /maxBytes "lots"/);

  // `tessera component test` runs the kit's suite for the component's kind.
  const kit = await runTessera(['component', 'test', wasm], { timeoutMs: 60_000 });
  if (/it is a binding component; this kit checks/.test(kit.stdout + kit.stderr)) t.todo('the binding conformance suite is not in `tessera component test` yet');
  else assert.equal(kit.code, 0, kit.stdout + kit.stderr);
});
