// The table of component kinds: what a kind's instance policy allows, what registering a kind
// refuses, and the manifest check that derives from the table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import { allKinds, kindOf, kindOfType, registerKind } from '../../../host/sandbox/kinds/index.ts';
import { mayPoolInstances } from '../../../host/sandbox/instance-pool.ts';
import { mayPool } from '../../../host/sandbox/kinds/kind.ts';
import { stateStoreKind } from '../../../host/sandbox/kinds/state-store.ts';
import { parseManifest } from '../../../host/sandbox/manifest.ts';
import { loadExtension } from '../../../host/sandbox/extensions.ts';
import { echoModule } from '../../support/extension/echo-wat.ts';
import { TEST_EXTENSION } from '../../support/extension/index.ts';
import { hostImportWat, stateStoreModule } from '../../support/state-store-wat.ts';

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const SNAPSHOT = `tessera:components/snapshot@${ABI_VERSION}`;

test('the built-in kinds: state-store (state.*), pubsub (pubsub.*) and binding (bindings.*), found by name and by type', () => {
  assert.deepEqual(
    allKinds().slice(0, 3).map((k) => [k.kind, k.typePrefix, k.world]),
    [
      ['state-store', 'state.', 'state-store'],
      ['pubsub', 'pubsub.', 'pubsub-broker'],
      ['binding', 'bindings.', 'any-binding'],
    ],
  );
  assert.equal(kindOf('state-store'), stateStoreKind);
  assert.equal(kindOfType('pubsub.redis')?.kind, 'pubsub');
  assert.equal(kindOfType('bindings.http')?.kind, 'binding');
  assert.equal(kindOfType('actors.x'), undefined);
});

test('a kind may pool instances only where its policy allows it, the component can suspend and keeps no data in its memory', () => {
  assert.equal(mayPool('pooled', { suspends: true, keepsData: false }), true);
  assert.equal(mayPool('pooled', { suspends: false, keepsData: false }), false, 'a call that cannot wait gains nothing from a pool');
  assert.equal(mayPool('pooled', { suspends: true, keepsData: true }), false, 'a pool would split its data');
  assert.equal(mayPool('single', { suspends: true, keepsData: false }), false);
});

test('the policy of a compiled state store follows from its imports and exports', async () => {
  const sleeps = { imports: [hostImportWat('sleep', 'sleep-ms')], manifest: { capabilities: ['sleep'] } };
  const snapshots = [
    `(func (export "${SNAPSHOT}#snapshot") (result i32) (i32.const 16))`,
    `(func (export "${SNAPSHOT}#restore") (param i32 i32) (result i32) (i32.const 16))`,
  ];
  assert.equal(mayPoolInstances(await CompiledComponent.compile(stateStoreModule())), false, 'it never suspends');
  assert.equal(mayPoolInstances(await CompiledComponent.compile(stateStoreModule(sleeps))), true, 'it sleeps and keeps no data');
  assert.equal(mayPoolInstances(await CompiledComponent.compile(stateStoreModule({ ...sleeps, fields: snapshots }))), false, 'it keeps its data in its memory');
});

test('registering a kind refuses a name or a type prefix already taken, or a prefix that is no word and a dot', () => {
  const kind = { ...stateStoreKind, kind: 'cache', typePrefix: 'cache.' };
  assert.throws(() => registerKind({ ...kind, kind: 'state-store' }), /component kind "state-store" is already registered/);
  assert.throws(() => registerKind({ ...kind, typePrefix: 'state.' }), /type prefix "state\." is already kind "state-store"'s/);
  assert.throws(() => registerKind({ ...kind, typePrefix: 'Cache' }), /type prefix "Cache" is not a lower-case word and a dot/);
  assert.equal(kindOf('cache'), undefined);
});

test('a manifest names a kind of the table, and a type of that kind', () => {
  const valid = { kind: 'state-store', type: 'state.memory', version: 'v1', abi: ABI_VERSION, capabilities: [] };
  assert.throws(() => parseManifest(json({ ...valid, kind: 'bindings' })), /kind: must be one of \["state-store","pubsub"/);
  assert.throws(
    () => parseManifest(json({ ...valid, type: 'pubsub.memory' })),
    /type: "pubsub\.memory" is no state-store type \(the type of a state-store component starts with "state\."\)/,
  );
  assert.equal(parseManifest(json({ ...valid, kind: 'pubsub', type: 'pubsub.memory' })).kind, 'pubsub');
});

test('a kind registered after manifests were checked and modules compiled is known to the next check and compile', async () => {
  const valid = { kind: 'state-store', type: 'state.memory', version: 'v1', abi: ABI_VERSION, capabilities: [] };
  const echo = { ...valid, kind: 'echo', type: 'echo.late', capabilities: ['greeting'] };
  assert.equal((await CompiledComponent.compile(stateStoreModule())).contract.world, 'state-store');
  assert.throws(() => parseManifest(json(echo)), /kind: must be one of/);
  await loadExtension(TEST_EXTENSION);
  assert.equal(parseManifest(json(echo)).kind, 'echo');
  const compiled = await CompiledComponent.compile(echoModule({ greets: true }));
  assert.equal(compiled.contract.world, 'echo-component');
  assert.equal(compiled.needsJspi, true, 'greeting.greet suspends, as its descriptor says');
  assert.equal(mayPoolInstances(compiled), false, 'the echo kind keeps one instance');
  assert.equal(parseManifest(json(valid)).kind, 'state-store', 'the built-in kinds stay');
});
