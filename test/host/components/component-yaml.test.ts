import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResourceFile } from '../../../host/components/component-yaml.ts';

const component = (body: string): string => `apiVersion: dapr.io/v1alpha1\nkind: Component\n${body}`;

test('a Component becomes a spec with string metadata, default version and scopes', () => {
  const file = parseResourceFile(
    component(`metadata:\n  name: statestore\nspec:\n  type: state.memory\n  metadata:\n    - name: keyPrefix\n      value: none\n    - name: maxItems\n      value: 10\nscopes: [orders]\n`),
    'store.yaml',
  );
  assert.equal(file.components.length, 1);
  const spec = file.components[0]!;
  assert.equal(spec.name, 'statestore');
  assert.equal(spec.type, 'state.memory');
  assert.equal(spec.version, 'v1');
  assert.deepEqual([...spec.config], [['keyPrefix', 'none'], ['maxItems', '10']]);
  assert.deepEqual(spec.scopes, ['orders']);
});

test('several documents in one file; other kinds are kept for their owners', () => {
  const text = `${component('metadata:\n  name: a\nspec:\n  type: state.memory\n')}---\napiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: s\n---\n${component('metadata:\n  name: b\nspec:\n  type: state.memory\n')}`;
  const file = parseResourceFile(text, 'all.yaml');
  assert.deepEqual(file.components.map((c) => c.name), ['a', 'b']);
  assert.deepEqual(file.others.map((o) => o.kind), ['Subscription']);
});

test('invalid resources are refused naming the file and the field', () => {
  assert.throws(() => parseResourceFile(component('spec:\n  type: state.memory\n'), 'r.yaml'), /r\.yaml: invalid Component: \(root\): must have required property 'metadata'/);
  assert.throws(() => parseResourceFile(component('metadata:\n  name: x\nspec: {}\n'), 'r.yaml'), /spec: must have required property 'type'/);
  assert.throws(() => parseResourceFile(component('metadata:\n  name: x\nspec:\n  type: 5\n'), 'r.yaml'), /spec\.type: must be string/);
  assert.throws(() => parseResourceFile('key: [unclosed', 'r.yaml'), /r\.yaml: invalid YAML/);
  assert.throws(() => parseResourceFile('just: a map\n', 'r.yaml'), /not a Dapr resource: no `kind` field/);
  assert.throws(
    () => parseResourceFile(component('metadata:\n  name: x\nspec:\n  type: state.memory\n  metadata:\n    - name: a\n      value: 1\n    - name: a\n      value: 2\n'), 'r.yaml'),
    /metadata "a" is given twice/,
  );
  assert.throws(
    () => parseResourceFile(component('metadata:\n  name: x\nspec:\n  type: state.memory\n  metadata:\n    - name: password\n      secretKeyRef:\n        name: s\n'), 'r.yaml'),
    /secretKeyRef, which needs a secret store/,
  );
});

test('spec.initTimeout bounds how long the component may take to start; a bad one is refused naming the file', () => {
  const spec = (initTimeout: string) => component(`metadata:\n  name: slow\nspec:\n  type: state.memory\n  initTimeout: ${initTimeout}\n`);
  assert.equal(parseResourceFile(spec('2500ms'), 'slow.yaml').components[0]!.initTimeoutMs, 2500);
  assert.equal(parseResourceFile(component(`metadata:\n  name: plain\nspec:\n  type: state.memory\n`), 'plain.yaml').components[0]!.initTimeoutMs, undefined);
  assert.throws(() => parseResourceFile(spec('soon'), 'slow.yaml'), /^TesseraError: slow\.yaml: spec\.initTimeout must be a duration/);
  assert.throws(() => parseResourceFile(spec('0s'), 'slow.yaml'), /slow\.yaml: spec\.initTimeout must be longer than 0/);
});

test('what reaches metadata and messages is bounded: a type of 10,000 characters, 5,000 unknown annotations', () => {
  const long = component(`metadata:\n  name: long\nspec:\n  type: state.${'x'.repeat(10_000)}\n`);
  assert.throws(() => parseResourceFile(long, 'long.yaml'), /long\.yaml: invalid Component: spec\.type: must NOT have more than 128 characters/);
  const annotations = Array.from({ length: 5_000 }, (_, i) => `    a${i}: "v"\n`).join('');
  let message = '';
  try {
    parseResourceFile(component(`metadata:\n  name: many\n  annotations:\n${annotations}spec:\n  type: state.memory\n`), 'many.yaml');
  } catch (err) {
    message = (err as Error).message;
  }
  assert.match(message, /^many\.yaml: invalid Component: metadata\.annotations: must NOT have more than 256 properties$/);
});

test('tessera.dev/allow-tcp grants tcp, parsed by the tcp capability; a malformed grant fails the YAML naming the file, the component and the annotation', () => {
  const spec = (value: string) => component(`metadata:\n  name: redis\n  annotations:\n    tessera.dev/allow-tcp: "${value}"\nspec:\n  type: pubsub.redis\n`);
  assert.deepEqual(parseResourceFile(spec('127.0.0.1:6379, Redis:6380, [::1]:7000'), 'redis.yaml').components[0]!.grants, { tcp: ['127.0.0.1:6379', 'redis:6380', '[::1]:7000'] });
  assert.deepEqual(parseResourceFile(component('metadata:\n  name: plain\nspec:\n  type: state.memory\n'), 'plain.yaml').components[0]!.grants, {}, 'no annotation, no grant');
  assert.throws(() => parseResourceFile(spec('redis'), 'redis.yaml'), (err: Error) => {
    assert.equal(err.message, 'redis.yaml: component "redis": annotation "tessera.dev/allow-tcp" must list host:port pairs, got "redis"');
    return true;
  });
  assert.throws(() => parseResourceFile(spec(' , '), 'redis.yaml'), /redis\.yaml: component "redis": annotation "tessera\.dev\/allow-tcp" must list at least one host:port pair/);
  assert.throws(
    () => parseResourceFile(component('metadata:\n  name: x\n  annotations:\n    tessera.dev/allow-tpc: "a:1"\nspec:\n  type: state.memory\n'), 'x.yaml'),
    /x\.yaml: unknown annotation "tessera\.dev\/allow-tpc" \(known: .*tessera\.dev\/isolation, tessera\.dev\/max-instances, tessera\.dev\/allow-tcp, tessera\.dev\/allow-http, tessera\.dev\/persist, tessera\.dev\/persist-interval\)/,
  );
});

test('tessera.dev/persist names a file relative to the YAML\'s folder, with an interval; a malformed value fails the YAML naming the file, the component and the annotation', () => {
  const spec = (annotations: string, doc = 'store.yaml') =>
    parseResourceFile(component(`metadata:\n  name: store\n  annotations:\n${annotations}spec:\n  type: state.memory\n`), doc).components[0]!;
  assert.deepEqual(spec('    tessera.dev/persist: ./data/x.snap\n', '/srv/res/store.yaml').persist, { path: '/srv/res/data/x.snap', intervalMs: 10_000 });
  assert.deepEqual(spec('    tessera.dev/persist: /var/lib/x.snap\n    tessera.dev/persist-interval: 2s\n', '/srv/res/store.yaml').persist, { path: '/var/lib/x.snap', intervalMs: 2000 });
  assert.equal(spec('    tessera.dev/cpu-share: "50%"\n').persist, undefined, 'no annotation, no file');
  const refused: [string, RegExp][] = [
    ['    tessera.dev/persist: ""\n', /store\.yaml: component "store": annotation "tessera\.dev\/persist" must be the path of a file/],
    ['    tessera.dev/persist: ./data/\n', /annotation "tessera\.dev\/persist" must name a file, not a folder, got "\.\/data\/"/],
    ['    tessera.dev/persist-interval: 5s\n', /annotation "tessera\.dev\/persist-interval" needs "tessera\.dev\/persist"/],
    ['    tessera.dev/persist: x.snap\n    tessera.dev/persist-interval: soon\n', /store\.yaml: component "store": annotation "tessera\.dev\/persist-interval" must be a duration/],
    ['    tessera.dev/persist: x.snap\n    tessera.dev/persist-interval: 10ms\n', /annotation "tessera\.dev\/persist-interval" must be at least 100ms, got "10ms"/],
  ];
  for (const [annotations, message] of refused) assert.throws(() => spec(annotations), message, annotations);
});
