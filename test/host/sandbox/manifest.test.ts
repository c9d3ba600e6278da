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
  assert.throws(() => parseManifest(json({ ...valid, kind: 'teapot' })), /kind: must be one of \["state-store","pubsub","binding"\]/);
  assert.throws(() => parseManifest(json({ ...valid, type: 'Memory' })), /type: must match pattern/);
  assert.throws(() => parseManifest(json({ ...valid, capabilities: ['filesystem'] })), /capabilities\.0: must be one of/);
  assert.throws(() => parseManifest(json({ ...valid, extra: 1 })), /unknown field "extra"/);
  const { abi: _abi, ...missing } = valid;
  assert.throws(() => parseManifest(json(missing)), /must have required property 'abi'/);
});

test('an unsupported ABI version is refused naming both versions', () => {
  assert.throws(() => parseManifest(json({ ...valid, abi: '9.9.9' })), /targets ABI 9\.9\.9 .* this host supports 0\.1\.0/);
});

test('a capability listed twice is refused, checked in linear time', () => {
  assert.throws(() => parseManifest(json({ ...valid, capabilities: ['log', 'clock', 'log'] })), /capabilities: "log" is listed twice/);
  const t0 = performance.now();
  const many = Array.from({ length: 1_000 }, (_, i) => ({ c: i }));
  assert.throws(() => parseManifest(json({ ...valid, capabilities: many })), /capabilities: must NOT have more than 16 items/);
  // JSON Schema's `uniqueItems` compared such objects pairwise: 15,000 of them took 5 s.
  assert.ok(performance.now() - t0 < 200, `took ${(performance.now() - t0).toFixed(0)} ms`);
});

test('a manifest of many unknown fields is refused with a message of a few problems', () => {
  const manifest: Record<string, unknown> = { ...valid };
  for (let i = 0; i < 1_000; i++) manifest[`f${i}`] = i;
  let message = '';
  try {
    parseManifest(json(manifest));
  } catch (err) {
    message = (err as Error).message;
  }
  assert.match(message, /^the tessera:manifest section is invalid: \(root\): must NOT have more than 6 properties; \(root\): unknown field "f0"; .*; and 991 more problems$/);
  assert.ok(message.length < 1024, `the message is ${message.length} characters`);
});

test('a manifest section over 16 KiB is refused before it is parsed: 200,000 unknown fields, 15,000 capabilities', () => {
  const fields: Record<string, unknown> = { ...valid };
  for (let i = 0; i < 200_000; i++) fields[`field-${i}`] = i;
  const manyFields = json(fields);
  const manyCapabilities = json({ ...valid, capabilities: Array.from({ length: 15_000 }, (_, i) => ({ capability: i })) });
  const t0 = performance.now();
  assert.throws(() => parseManifest(manyFields), /^TesseraError: the tessera:manifest section is \d+ bytes, over the 16 KiB a manifest may hold$/);
  assert.throws(() => parseManifest(manyCapabilities), /over the 16 KiB a manifest may hold/);
  assert.ok(performance.now() - t0 < 50);
});
