// ABI 0.1.1, 0.1.2 and 0.1.3 added interfaces and worlds (`@since(version = ...)`); a module built
// against an earlier version keeps loading, bound by the names it spells, and sees nothing
// its version did not have.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ABI_VERSION, SUPPORTED_ABI_VERSIONS } from '../../../abi/ts/manifest.ts';
import { isTesseraError } from '../../../host/errors.ts';
import { abiContract } from '../../../host/sandbox/abi-contract.ts';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import { SKELETON_MANIFEST, hostImportWat, stateStoreWat, withManifest } from '../../support/state-store-wat.ts';
import { wat } from '../../support/wat.ts';

/** The skeleton store as a build against `abi` would spell it. */
function storeOf(abi: string, options: Parameters<typeof stateStoreWat>[0] = {}, manifest: object = {}): Uint8Array {
  const text = stateStoreWat(options).replaceAll(`@${ABI_VERSION}`, `@${abi}`);
  return withManifest(wat(text, { bulk_memory: true }), { ...SKELETON_MANIFEST, abi, ...manifest });
}

async function refusal(bytes: Uint8Array): Promise<string> {
  try {
    await CompiledComponent.compile(bytes);
  } catch (err) {
    assert.ok(isTesseraError(err, 'ERR_COMPONENT_LOAD'), String(err));
    return err.message;
  }
  assert.fail('the module was accepted');
}

test('the host loads 0.1.0, 0.1.1, 0.1.2 and 0.1.3 modules, each by the version its names carry', async () => {
  assert.deepEqual(SUPPORTED_ABI_VERSIONS, ['0.1.0', '0.1.1', '0.1.2', '0.1.3']);
  assert.equal(ABI_VERSION, '0.1.3');
  const before = await CompiledComponent.compile(storeOf('0.1.2'));
  assert.equal(before.pkg.version, '0.1.2');
  const previous = await CompiledComponent.compile(storeOf('0.1.1'));
  assert.equal(previous.pkg.version, '0.1.1');
  const old = await CompiledComponent.compile(storeOf('0.1.0', { imports: [hostImportWat('log', 'log')] }, { capabilities: ['log'] }));
  assert.equal(old.manifest.abi, '0.1.0');
  assert.equal(old.pkg.version, '0.1.0');
  assert.ok(old.importedInterfaces.has('log'));
  const current = await CompiledComponent.compile(storeOf(ABI_VERSION));
  assert.equal(current.pkg.version, ABI_VERSION);
});

test('a 0.1.0 module sees only what 0.1.0 had: no http, no timezone, no bindings', async () => {
  const old = abiContract('0.1.0');
  assert.deepEqual([...old.kind('state-store').imports.keys()], ['log', 'clock', 'random', 'sleep', 'tcp']);
  assert.deepEqual([...abiContract('0.1.2').kind('state-store').imports.keys()], ['log', 'clock', 'random', 'sleep', 'tcp', 'http', 'timezone']);
  assert.deepEqual([...abiContract().kind('state-store').imports.keys()], ['log', 'clock', 'random', 'sleep', 'tcp', 'http', 'timezone', 'redis']);
  assert.throws(() => old.kind('binding'), /component kind "binding" came with ABI 0\.1\.1, but the component targets ABI 0\.1\.0: rebuild it against an SDK of ABI 0\.1\.1 or later/);
  const http = `(import "tessera:components/http@0.1.0" "send" (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))`;
  assert.match(await refusal(storeOf('0.1.0', { imports: [http] }, { capabilities: ['http'] })), /import "tessera:components\/http@0\.1\.0" "send" is not offered by world "state-store"/);
});

test('names of one version and a manifest of another are refused, saying so', async () => {
  const message = await refusal(withManifest(wat(stateStoreWat({}), { bulk_memory: true }), { ...SKELETON_MANIFEST, abi: '0.1.0' }));
  assert.match(message, /its imports and exports name ABI 0\.1\.3 but its manifest says "abi": "0\.1\.0": the two must agree/);
  assert.match(await refusal(storeOf('0.1.0', {}, { abi: '0.2.0' })), /targets ABI 0\.2\.0 .* but this host supports 0\.1\.0, 0\.1\.1, 0\.1\.2, 0\.1\.3/);
});

test('the query export came with 0.1.2: a 0.1.1 state store may not export it, a 0.1.2 one may', () => {
  assert.equal(abiContract('0.1.1').kind('state-store').optionalExports.has('query'), false);
  assert.equal(abiContract().kind('state-store').optionalExports.has('query'), true);
});

test('the redis capability came with 0.1.3: a 0.1.2 module may not import it', async () => {
  const redis = `(import "tessera:components/redis@0.1.2" "close" (func (param i32)))`;
  assert.match(await refusal(storeOf('0.1.2', { imports: [redis] }, { capabilities: ['redis'] })), /import "tessera:components\/redis@0\.1\.2" "close" is not offered by world "state-store"/);
  const current = await CompiledComponent.compile(storeOf(ABI_VERSION, { imports: [`(import "tessera:components/redis@${ABI_VERSION}" "close" (func (param i32)))`] }, { capabilities: ['redis'] }));
  assert.ok(current.importedInterfaces.has('redis'));
});
