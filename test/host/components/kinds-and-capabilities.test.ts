// A component kind and a host capability that exist only in this test (test/support/extension/:
// each its own WIT and descriptor, nothing else) load and serve through the whole sidecar as
// the built-in ones do: the load workers read and check the test kind's components, the
// registry adapts them, `/v1.0/metadata` reports them, and the test capability reaches only
// the components its annotation grants.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ComponentInfo } from '../../../host/components/types.ts';
import { isTesseraError } from '../../../host/errors.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { loadExtension } from '../../../host/sandbox/extensions.ts';
import { Sidecar } from '../../../host/sidecar.ts';
import { echoModule } from '../../support/extension/echo-wat.ts';
import { stateStoreModule } from '../../support/state-store-wat.ts';
import { echoKind } from '../../support/extension/echo-kind.ts';
import { TEST_EXTENSION } from '../../support/extension/index.ts';
import { pollUntil } from '../../support/sidecar-process.ts';
import { componentYaml, tempDir } from '../../support/temp-dir.ts';

/** A Component YAML with annotations. */
const annotated = (name: string, type: string, annotations: Record<string, string>): string =>
  componentYaml(name, type).replace(`name: ${name}\n`, `name: ${name}\n  annotations:\n${Object.entries(annotations).map(([k, v]) => `    ${k}: "${v}"\n`).join('')}`);

interface Metadata {
  components: { name: string; type: string; version: string; capabilities: string[] }[];
  componentStatus: ComponentInfo[];
}

describe('a kind and a capability that only this test defines', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let sidecar: Sidecar;
  let metadata: () => Promise<Metadata>;
  const status = async (name: string): Promise<ComponentInfo> => {
    const found = (await metadata()).componentStatus.find((c) => c.name === name);
    assert.ok(found, `no component "${name}" in metadata`);
    return found;
  };
  const echo = (name: string) => {
    const live = sidecar.registry.lookup(echoKind, name);
    assert.ok(live, `no echo component "${name}": ${JSON.stringify(sidecar.registry.list())}`);
    return live.api;
  };

  before(async () => {
    await loadExtension(TEST_EXTENSION);
    dir = await tempDir();
    const write = (file: string, content: string | Uint8Array) => writeFile(join(dir.path, file), content);
    // A bare module of the test kind, and one importing the test capability under four YAMLs.
    await write('echo.wasm', echoModule());
    await write('greeter.wasm', echoModule({ greets: true, type: 'echo.greeter' }));
    await write('greeter.yaml', annotated('greeter', 'echo.greeter', { 'tessera.dev/greeting': 'Hello' }));
    await write('stranger.yaml', componentYaml('stranger', 'echo.greeter'));
    // On a worker thread of its own, which loads the same extension before the component.
    await write('threaded.yaml', annotated('threaded', 'echo.greeter', { 'tessera.dev/greeting': 'Hi', 'tessera.dev/isolation': 'thread' }));
    await write('loud.yaml', annotated('loud', 'echo.greeter', { 'tessera.dev/greeting': 'HELLO' }));
    await write('bad.yaml', annotated('bad', 'echo.greeter', { 'tessera.dev/greeting': 'good day' }));
    // A grant to a component that does not import the capability.
    await write('plain.wasm', echoModule());
    await write('plain.yaml', annotated('plain', 'echo.test', { 'tessera.dev/greeting': 'Hi' }));
    sidecar = await Sidecar.start({ appId: 'app', httpPort: 0, listenAddress: '127.0.0.1', resourcesPaths: [dir.path], maxBodyBytes: 1024 * 1024, logger: silentLogger });
    await sidecar.loaded;
    const url = `http://127.0.0.1:${sidecar.port}/v1.0/metadata`;
    metadata = async () => (await fetch(url)).json() as Promise<Metadata>;
    await pollUntil('the components to load', () => (sidecar.registry.namesOf(echoKind).length === 6 ? true : undefined), { timeoutMs: 20_000 });
  });

  after(async () => {
    await sidecar?.stop();
    await dir?.remove();
  });

  it('loads a component of the test kind from the kind’s descriptor alone, and serves it through the kind’s adapter', async () => {
    assert.equal(await echo('echo').echo('hello, world'), 'hello, world');
    assert.equal(sidecar.registry.countOf(echoKind), 6);
    assert.equal(sidecar.registry.stateStoreCount(), 0);
    assert.deepEqual(await sidecar.registry.pingAll(), []);
  });

  it('reports it in /v1.0/metadata with its kind and the capabilities its descriptor reports', async () => {
    const { components } = await metadata();
    assert.deepEqual(
      components.find((c) => c.name === 'echo'),
      { name: 'echo', type: 'echo.test', version: 'v1', capabilities: ['ECHO'] },
    );
    const info = await status('echo');
    assert.equal(info.kind, 'echo');
    assert.equal(info.status, 'ready');
    assert.equal(info.warnings, undefined);
  });

  it('gives the test capability to a component its annotation grants, which calls it through JSPI', async () => {
    assert.equal(await echo('greeter').echo('Ada'), 'Hello, Ada');
    assert.equal(await echo('greeter').echo(''), 'Hello');
    assert.equal((await status('greeter')).warnings, undefined);
    assert.equal(await echo('threaded').echo('Ada'), 'Hi, Ada', 'on a worker thread too');
  });

  it('refuses the capability to a component not granted it: an error it can handle, or a clean trap; never a crash', async () => {
    const refused = /greeting\.greet is refused for component "stranger": it has no greeting grant; grant it with the annotation tessera\.dev\/greeting/;
    await assert.rejects(echo('stranger').echo('Ada'), (err) => isTesseraError(err) && err.componentError?.tag === 'invalid-argument' && refused.test(err.message));
    await assert.rejects(
      echo('stranger').echo(''),
      (err) => isTesseraError(err, 'ERR_COMPONENT_TRAP') && /component "stranger" \(echo\.greeter\) trapped in echo: .*greeting\.salutation is refused for component "stranger"/.test(err.message),
    );
    // The next call gets a fresh instance, still without the capability.
    await assert.rejects(echo('stranger').echo('Bob'), refused);
    assert.equal(await echo('greeter').echo('Bob'), 'Hello, Bob', 'its neighbour is untouched');
  });

  it('reports at load, in /v1.0/metadata, a capability imported but not granted, a grant not used, and what the capability’s own check finds', async () => {
    assert.deepEqual((await status('stranger')).warnings, [
      'it imports capability "greeting" but its YAML does not grant it (annotation tessera.dev/greeting): its greeting calls are refused',
    ]);
    assert.deepEqual((await status('plain')).warnings, ['annotation tessera.dev/greeting grants capability "greeting", which the component does not import']);
    assert.deepEqual((await status('loud')).warnings, ['the salutation "HELLO" is all capitals: it shouts']);
    assert.equal(await echo('loud').echo('Ada'), 'HELLO, Ada');
  });

  it('fails a YAML whose grant is malformed, naming the file, the component and the annotation', async () => {
    const info = await status('bad');
    assert.equal(info.status, 'failed');
    assert.equal(info.error, `${join(dir.path, 'bad.yaml')}: component "bad": annotation "tessera.dev/greeting" must be one word of letters, got "good day"`);
  });

  it('keeps a component’s kind across versions: a new version of another kind is refused, the running one keeps serving', async () => {
    await writeFile(join(dir.path, 'echo.wasm'), stateStoreModule());
    const info = await pollUntil('the refused swap', async () => ((await status('echo')).error === undefined ? undefined : status('echo')), { timeoutMs: 10_000 });
    assert.match(info.error!, /echo\.wasm: the new version is of kind "state-store", the running one of kind "echo": a component keeps its kind across versions/);
    assert.equal(info.kind, 'echo');
    assert.equal(await echo('echo').echo('still here'), 'still here');
  });
});
