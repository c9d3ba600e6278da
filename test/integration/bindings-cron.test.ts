// bindings.cron as a new user meets it, in the real `tessera` process: a Component YAML with
// `type: bindings.cron` and a schedule makes the app receive `POST /<name>` on each tick, with
// an empty body and Dapr's `timeZone` and `readTimeUTC` headers; a schedule that does not
// parse fails that component's load, reported with the schedule quoted, while the sidecar
// keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { componentYaml, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { TestApp } from '../support/test-app.ts';

const GO_UTC = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})? \+0000 UTC$/;

describe('bindings.cron in the sidecar', () => {
  let sidecar: SidecarProcess;
  let app: TestApp;

  before(async () => {
    app = await new TestApp().listen();
    sidecar = await startSidecar({
      appId: 'cron-app',
      args: ['--app-port', String(app.port)],
      resources: {
        'tick.yaml': componentYaml('tick', 'bindings.cron', { schedule: '@every 200ms' }),
        'nightly.yaml': componentYaml('nightly', 'bindings.cron', { schedule: 'CRON_TZ=Europe/Paris 0 0 3 * * *', route: '/night' }),
      },
    });
  });
  after(async () => {
    await sidecar?.stop();
    await app?.close();
  });

  test('the app receives POST /tick on each tick, with an empty body and the timeZone and readTimeUTC headers', async () => {
    // The app is probed with OPTIONS /tick first, as daprd does without `direction: input`.
    const deliveries = await pollUntil('3 ticks', () => {
      const posts = app.at('/tick').filter((d) => d.method === 'POST');
      return posts.length >= 3 ? posts : undefined;
    }, { timeoutMs: 10_000 });
    const times: number[] = [];
    for (const delivery of deliveries) {
      assert.equal(delivery.body, '');
      assert.equal(delivery.headers.timezone, 'UTC');
      const readTime = String(delivery.headers.readtimeutc);
      assert.match(readTime, GO_UTC);
      times.push(Date.parse(readTime.replace(' ', 'T').replace(' +0000 UTC', 'Z')));
    }
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]! + 200, `tick ${i} is 200 ms or more after the one before: ${times.join(', ')}`);
  });

  test('/v1.0/metadata lists both as input bindings; the one whose tick is hours away has delivered nothing', async () => {
    const meta = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { componentStatus: { name: string; type?: string; status: string; details?: { direction?: string } }[] };
    for (const name of ['tick', 'nightly']) {
      const status = meta.componentStatus.find((c) => c.name === name);
      assert.equal(status?.type, 'bindings.cron', JSON.stringify(meta.componentStatus));
      assert.equal(status?.details?.direction, 'input');
    }
    assert.ok(app.at('/night').every((d) => d.method !== 'POST'));
  });

  test('a schedule that does not parse fails that component, quoting the schedule; the sidecar keeps serving', async () => {
    await sidecar.writeResource('broken.yaml', componentYaml('broken', 'bindings.cron', { schedule: '0 61 * * * *' }));
    const failed = await pollUntil(
      'broken to be reported as failed',
      async () => {
        const meta = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { componentStatus: { name: string; status: string; error?: string }[] };
        const status = meta.componentStatus.find((c) => c.name === 'broken');
        return status?.status === 'failed' ? status : undefined;
      },
      { timeoutMs: 10_000 },
    );
    assert.match(failed.error ?? '', /invalid schedule "0 61 \* \* \* \*": end of range \(61\) above maximum \(59\)/);
    assert.equal((await sidecar.fetch('/v1.0/healthz')).status, 204);
    const before = app.at('/tick').length;
    await app.waitFor('/tick', before + 1, 10_000);
    assert.deepEqual(app.at('/broken'), []);
  });
});
