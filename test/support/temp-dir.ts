// Temporary folders for tests, removed by the returned cleanup.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempDir(prefix = 'tessera-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export const STATE_MEMORY_WASM = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);

export function componentYaml(name: string, type: string, metadata: Record<string, string> = {}): string {
  const items = Object.entries(metadata).map(([k, v]) => `    - name: ${k}\n      value: "${v}"\n`).join('');
  return `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  version: v1\n${items ? `  metadata:\n${items}` : ''}`;
}

/** A component YAML (componentYaml's) with `annotations` (`tessera.dev/memory-limit`, ...) added to its metadata. */
export const withAnnotations = (yaml: string, annotations: Record<string, string>): string =>
  yaml.replace(/metadata:\n  name: (\S+)\n/, (_m, name: string) => `metadata:\n  name: ${name}\n  annotations:\n${Object.entries(annotations).map(([k, v]) => `    ${k}: "${v}"\n`).join('')}`);
