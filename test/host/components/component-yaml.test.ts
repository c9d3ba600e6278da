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
