// Bindings tried as a new user would, with the real `tessera` process and the bundled
// components: `bindings.cron` with `@every 1s` makes the app (an official SDK DaprServer with
// `binding.receive`) get POST /tick every second; `bindings.http` returns the body of a local
// server its YAML grants, through curl's request and through the SDK's `client.binding.send`,
// and a URL outside the grant is refused naming the grant; an app that answers 500 to every
// event is told of in the log while the sidecar keeps serving.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, DaprServer, LogLevel } from '@dapr/dapr';
import { componentYaml, expectDaprError, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { freePort } from '../support/test-app.ts';

const ignore = (): void => {};
const logger = { level: LogLevel.Error, service: { error: ignore, warn: ignore, info: ignore, verbose: ignore, debug: ignore } };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A Component YAML with annotations. */
function withAnnotations(yaml: string, annotations: Record<string, string>): string {
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  return yaml.replace(/^(metadata:\n  name: .*)$/m, `$1\n  annotations:\n${lines.join('\n')}`);
}

describe('bindings, as a new user tries them', () => {
  let sidecar: SidecarProcess;
  let server: DaprServer;
  let client: DaprClient;
  let upstream: Server;
  let outside: Server;
  let upstreamOrigin: string;
  const ticks: number[] = [];
  let refused = 0;

  before(async () => {
    upstream = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': 'upstream' }).end(`hello from ${req.url}`));
    outside = createServer((_req, res) => res.writeHead(200).end('you should not see this'));
    upstreamOrigin = await listen(upstream);
    const outsideOrigin = await listen(outside);
    const appPort = await freePort();
    sidecar = await startSidecar({
      appId: 'bindings-app',
      args: ['--app-port', String(appPort)],
      resources: {
        'tick.yaml': componentYaml('tick', 'bindings.cron', { schedule: '@every 1s' }),
        'busy.yaml': componentYaml('busy', 'bindings.cron', { schedule: '@every 100ms', direction: 'input' }),
        'web.yaml': withAnnotations(componentYaml('web', 'bindings.http', { url: upstreamOrigin }), { 'tessera.dev/allow-http': upstreamOrigin }),
        'elsewhere.yaml': withAnnotations(componentYaml('elsewhere', 'bindings.http', { url: outsideOrigin }), { 'tessera.dev/allow-http': upstreamOrigin }),
      },
    });
    server = new DaprServer({
      serverHost: '127.0.0.1',
      serverPort: String(appPort),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
      clientOptions: { daprHost: '127.0.0.1', daprPort: String(sidecar.port), logger },
      logger,
    });
    await server.binding.receive('tick', async () => {
      ticks.push(Date.now());
    });
    await server.binding.receive('busy', async () => {
      refused++;
      throw new Error('this app refuses every event');
    });
    await server.start();
    client = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sidecar.port), communicationProtocol: CommunicationProtocolEnum.HTTP, logger });
  });

  after(async () => {
    await server?.stop();
    await sidecar?.stop();
    upstream?.close();
    outside?.close();
  });

  test('bindings.cron with @every 1s: the app gets POST /tick every second, never early', async () => {
    await pollUntil(() => `3 ticks (got ${ticks.length}); log:\n${sidecar.logText()}`, () => (ticks.length >= 3 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i]! - ticks[i - 1]! >= 900, `ticks ${ticks.join(', ')} are about a second apart`);
  });

  test('curl POST /v1.0/bindings/web {"operation":"get"} returns the body of the granted server', async () => {
    const res = await sidecar.fetch('/v1.0/bindings/web', { method: 'POST', body: '{"operation":"get","metadata":{"path":"/items"}}' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from /items');
    assert.equal(res.headers.get('metadata.statuscode'), '200');
  });

  test('a URL outside the grant is refused, naming the grant', async () => {
    await expectDaprError(sidecar.fetch('/v1.0/bindings/elsewhere', { method: 'POST', body: '{"operation":"get"}' }), 500, 'ERR_INVOKE_OUTPUT_BINDING', /error invoking output binding elsewhere: .*tessera\.dev\/allow-http/);
  });

  test('the same through the official SDK: client.binding.send', async () => {
    const answer = await client.binding.send('web', 'get', undefined, { path: '/sdk' });
    assert.equal(answer, 'hello from /sdk');
  });

  test('/v1.0/metadata lists the bindings with their direction and operations', async () => {
    const meta = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { components: { name: string; type: string }[]; componentStatus: { name: string; details?: { direction: string; operations: string[] } }[] };
    assert.ok(meta.components.some((c) => c.name === 'tick' && c.type === 'bindings.cron'));
    const details = (name: string) => meta.componentStatus.find((c) => c.name === name)?.details;
    assert.deepEqual(details('tick'), { direction: 'input', operations: [] });
    assert.equal(details('web')?.direction, 'output');
    assert.ok(details('web')?.operations.includes('get'), JSON.stringify(details('web')));
  });

  test('an app that answers 500 to every event: the log says so, and the sidecar keeps serving', async () => {
    await pollUntil('a few refused events', () => (refused >= 3 ? true : undefined), { timeoutMs: 10_000, intervalMs: 20 });
    await sidecar.waitForLog(/input binding busy: the app answered event .* on POST \/busy with 500: reported to the binding as a failure/, 5000);
    assert.equal((await sidecar.fetch('/v1.0/healthz')).status, 204);
    assert.equal((await sidecar.fetch('/v1.0/bindings/web', { method: 'POST', body: '{"operation":"get"}' })).status, 200);
  });
});
