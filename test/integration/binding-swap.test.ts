// A binding swapped while traffic flows, in the real `tessera` process: a WAT output
// binding (test/support/binding-wat.ts) replaced by a new build while clients invoke it
// without pause — no request fails, and the new generation serves; an input binding keeps
// delivering to the app across its swap.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bindingModule } from '../support/binding-wat.ts';
import { componentYaml, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { TestApp } from '../support/test-app.ts';

describe('a binding swapped under traffic', () => {
  let sidecar: SidecarProcess;
  let app: TestApp;

  before(async () => {
    app = await new TestApp().listen();
    sidecar = await startSidecar({
      appId: 'swap-app',
      args: ['--app-port', String(app.port)],
      resources: {
        'echo.wasm': bindingModule(),
        'feed.wasm': bindingModule({ output: false, input: true }),
        'feed.yaml': componentYaml('feed', 'bindings.letters', { direction: 'input' }),
      },
    });
  });
  after(async () => {
    await sidecar?.stop();
    await app?.close();
  });

  const generation = async (name: string): Promise<number | undefined> => {
    const meta = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { componentStatus: { name: string; generation?: number }[] };
    return meta.componentStatus.find((c) => c.name === name)?.generation;
  };

  test('invocations running through a swap all succeed, and the new build serves', async () => {
    let stop = false;
    const failures: string[] = [];
    let done = 0;
    const client = async (): Promise<void> => {
      while (!stop) {
        const res = await sidecar.fetch('/v1.0/bindings/echo', { method: 'POST', body: '{"operation":"echo","data":{"n":1}}' });
        const body = await res.text();
        if (res.status !== 200 || body !== '{"n":1}') failures.push(`${res.status} ${body}`);
        done++;
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await pollUntil('some traffic', () => (done > 50 ? true : undefined), { timeoutMs: 10_000, intervalMs: 5 });
    // Another build of the same binding: it traps on an unlisted operation instead of refusing it.
    await sidecar.writeResource('echo.wasm', bindingModule({ unknownOperation: 'trap' }));
    await pollUntil(() => `generation 2 of echo; log:\n${sidecar.logText()}`, async () => ((await generation('echo')) === 2 ? true : undefined), { timeoutMs: 10_000, intervalMs: 10 });
    const after = done;
    await pollUntil('traffic on the new generation', () => (done > after + 50 ? true : undefined), { timeoutMs: 10_000, intervalMs: 5 });
    stop = true;
    await Promise.all(clients);
    assert.deepEqual(failures, [], `${failures.length} of ${done} invocations failed`);
  });

  test('an input binding keeps delivering to the app across its swap', async () => {
    await app.waitFor('/feed', 3);
    await sidecar.writeResource('feed.wasm', bindingModule({ output: false, input: true, eventsPerRead: 'two' }));
    await pollUntil('generation 2 of feed', async () => ((await generation('feed')) === 2 ? true : undefined), { timeoutMs: 10_000, intervalMs: 10 });
    const before = app.at('/feed').length;
    await app.waitFor('/feed', before + 3);
    assert.ok(app.at('/feed').every((d) => d.method === 'POST'), 'direction: input — no OPTIONS probe');
  });
});
