import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MANIFEST_SECTION } from '../../../abi/ts/manifest.ts';
import { parseManifest, readManifest } from '../../../host/sandbox/manifest.ts';
import { appendCustomSection } from '../../../host/sandbox/wasm-binary.ts';
import { wat } from '../../support/wat.ts';

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const valid = { kind: 'state-store', type: 'state.memory', version: 'v1', abi: '0.1.0', capabilities: ['log', 'clock'] };

test('a valid manifest is read from its custom section', () => {
  const bytes = appendCustomSection(wat('(module)'), MANIFEST_SECTION, json(valid));
  assert.deepEqual(readManifest(bytes), valid);
});

test('a module without a manifest, or with two, is refused', () => {
  assert.throws(() => readManifest(wat('(module)')), /no tessera:manifest custom section/);
  const once = appendCustomSection(wat('(module)'), MANIFEST_SECTION, json(valid));
  assert.throws(() => readManifest(appendCustomSection(once, MANIFEST_SECTION, json(valid))), /2 tessera:manifest sections/);
});

test('schema violations name each offending field', () => {
  assert.throws(() => parseManifest(new TextEncoder().encode('{not json')), /not valid UTF-8 JSON/);
  assert.throws(() => parseManifest(json({ ...valid, kind: 'teapot' })), /kind: must be one of \["state-store","pubsub"\]/);
  assert.throws(() => parseManifest(json({ ...valid, type: 'Memory' })), /type: must match pattern/);
  assert.throws(() => parseManifest(json({ ...valid, capabilities: ['filesystem'] })), /capabilities\.0: must be one of/);
  assert.throws(() => parseManifest(json({ ...valid, extra: 1 })), /unknown field "extra"/);
  const { abi: _abi, ...missing } = valid;
  assert.throws(() => parseManifest(json(missing)), /must have required property 'abi'/);
});

test('an unsupported ABI version is refused naming both versions', () => {
  assert.throws(() => parseManifest(json({ ...valid, abi: '9.9.9' })), /targets ABI 9\.9\.9 .* this host supports 0\.1\.0/);
});
