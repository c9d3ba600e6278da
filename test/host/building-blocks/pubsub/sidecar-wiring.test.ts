// The pub/sub building block as Sidecar wires it, in-process, over the registry and the
// bundled pubsub.memory component: programmatic subscriptions from the app, declarative ones
// re-read when the resources folder changes, and delivery through the real broker. Skipped
// while no bundled pubsub.memory module is built.
import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadBundledTypes } from '../../../../host/components/type-catalog.ts';
import { silentLogger } from '../../../../host/observability/logger.ts';
import { Sidecar } from '../../../../host/sidecar.ts';
import { MAX_SUBSCRIPTIONS } from '../../../../host/building-blocks/pubsub/subscription.ts';
import { pollUntil } from '../../../support/sidecar-process.ts';
import { tempDir } from '../../../support/temp-dir.ts';
import { TestApp } from '../../../support/test-app.ts';


const PUBSUB_YAML = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.memory
  version: v1
`;

const subscriptionYaml = (topic: string, route: string, scopes = ''): string => `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: ${topic}
spec:
  pubsubname: pubsub
  topic: ${topic}
  routes:
    default: ${route}
${scopes}`;

describe('pub/sub wired into the sidecar (bundled pubsub.memory)', () => {
  it('has the bundled pubsub.memory', async () => {
    assert.ok((await loadBundledTypes()).has('pubsub.memory'));
  });

  let dir: { path: string; remove: () => Promise<void> };
  let app: TestApp;
  let sidecar: Sidecar;
  let url = '';

  before(async () => {
    dir = await tempDir();
    await writeFile(join(dir.path, 'pubsub.yaml'), PUBSUB_YAML);
    await writeFile(join(dir.path, 'declared.yaml'), subscriptionYaml('declared', '/declared'));
    await writeFile(join(dir.path, 'not-mine.yaml'), subscriptionYaml('not-mine', '/not-mine', 'scopes: [billing]\n'));
    app = await new TestApp().listen();
    app.subscribe = { status: 200, body: [{ pubsubname: 'pubsub', topic: 'programmatic', route: '/programmatic' }] };
    sidecar = await Sidecar.start({
      appId: 'orders',
      appPort: app.port,
      httpPort: 0,
      listenAddress: '127.0.0.1',
      resourcesPaths: [dir.path],
      maxBodyBytes: 4 * 1024 * 1024,
      logger: silentLogger,
    });
    await sidecar.loaded;
    url = `http://127.0.0.1:${sidecar.port}`;
  });

  after(async () => {
    await sidecar?.stop();
    await app?.close();
    await dir?.remove();
  });

  const metadata = async (): Promise<{ subscriptions: Array<{ topic: string; type: string }> }> => (await fetch(`${url}/v1.0/metadata`)).json() as never;
  const publish = (topic: string, body: unknown): Promise<Response> =>
    fetch(`${url}/v1.0/publish/pubsub/${topic}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('runs the app’s and the folder’s subscriptions, skipping those scoped to other apps', async () => {
    const topics = await pollUntil('both subscriptions', async () => {
      const subs = (await metadata()).subscriptions.map((s) => `${s.topic} ${s.type}`).sort();
      return subs.length === 2 ? subs : undefined;
    });
    assert.deepEqual(topics, ['declared DECLARATIVE', 'programmatic PROGRAMMATIC']);
    assert.equal((await publish('programmatic', { n: 1 })).status, 204);
    assert.equal((await publish('declared', { n: 2 })).status, 204);
    assert.deepEqual((await app.waitFor('/programmatic'))[0]!.json.data, { n: 1 });
    assert.deepEqual((await app.waitFor('/declared'))[0]!.json.data, { n: 2 });
  });

  it('picks up a Subscription added to the folder, and stops one removed from it', async () => {
    await writeFile(join(dir.path, 'added.yaml'), subscriptionYaml('added', '/added'));
    await pollUntil('the added subscription', async () => ((await metadata()).subscriptions.some((s) => s.topic === 'added') ? true : undefined), { timeoutMs: 5000 });
    assert.equal((await publish('added', { n: 3 })).status, 204);
    await app.waitFor('/added');

    await rm(join(dir.path, 'declared.yaml'));
    await pollUntil('the removed subscription gone', async () => ((await metadata()).subscriptions.some((s) => s.topic === 'declared') ? undefined : true), { timeoutMs: 5000 });
    assert.equal((await publish('declared', { n: 4 })).status, 204);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(app.at('/declared').length, 1);
  });
});

describe(`past ${MAX_SUBSCRIPTIONS} subscriptions`, () => {
  let dir: { path: string; remove: () => Promise<void> };
  let app: TestApp;
  let sidecar: Sidecar;
  const many = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => subscriptionYaml(`${prefix}${String(i).padStart(3, '0')}`, '/t')).join('---\n');

  before(async () => {
    dir = await tempDir();
    await writeFile(join(dir.path, 'pubsub.yaml'), PUBSUB_YAML);
    // 300 topics in three files of 100 documents (the most a file may hold).
    for (const f of ['m1', 'm2', 'm3']) await writeFile(join(dir.path, `${f}.yaml`), many(f, 100));
    app = await new TestApp().listen();
    sidecar = await Sidecar.start({ appId: 'orders', appPort: app.port, httpPort: 0, listenAddress: '127.0.0.1', resourcesPaths: [dir.path], maxBodyBytes: 4 * 1024 * 1024, logger: silentLogger });
    await sidecar.loaded;
  });

  after(async () => {
    await sidecar?.stop();
    await app?.close();
    await dir?.remove();
  });

  it('delivers the first ones, refuses the rest in one problem naming the first of them, and keeps what it delivers when more are added', async () => {
    const topics = await pollUntil('the subscriptions', () => {
      const list = sidecar.subscriptions.list();
      return list.length === MAX_SUBSCRIPTIONS ? list.map((s) => String(s.topic)) : undefined;
    });
    assert.equal(topics[0], 'm1000');
    assert.equal(topics.at(-1), `m3${String(MAX_SUBSCRIPTIONS - 201).padStart(3, '0')}`);
    const problems = sidecar.subscriptions.problems();
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0]!.error, new RegExp(`m3\\.yaml \\(Subscription "m3${String(MAX_SUBSCRIPTIONS - 200).padStart(3, '0')}"\\): not read, nor the ${299 - MAX_SUBSCRIPTIONS} after it: 300 Subscription documents, over the ${MAX_SUBSCRIPTIONS} one sidecar delivers`));

    // A file that sorts first: what is delivered stays delivered.
    await writeFile(join(dir.path, 'a.yaml'), many('a', 5));
    await pollUntil('the added file read', () => (sidecar.subscriptions.problems()[0]?.error.includes('305 Subscription documents') ? true : undefined), { timeoutMs: 5000 });
    assert.deepEqual(
      sidecar.subscriptions.list().map((s) => String(s.topic)),
      topics,
    );
    assert.match(sidecar.subscriptions.problems()[0]!.error, /a\.yaml \(Subscription "a000"\): not read, nor the 48 after it/);
  });
});
