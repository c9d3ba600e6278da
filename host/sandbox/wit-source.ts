// The package's WIT (abi/wit) as one source text, for jco's tools that take WIT as a string.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WIT_DIR } from './abi-contract.ts';
import type { WitPackage } from './wit/ast.ts';

export function witSource(pkg: WitPackage): string {
  let text = `package ${pkg.namespace}:${pkg.name}@${pkg.version};\n`;
  for (const file of readdirSync(WIT_DIR).filter((f) => f.endsWith('.wit')).sort()) {
    text += readFileSync(join(WIT_DIR, file), 'utf8').replace(/^\s*package\s+[^;]+;/m, '');
  }
  return text;
}
