// The package's WIT (abi/wit, and what registered kinds and capabilities add) as one source
// text, for jco's tools that take WIT as a string.
import { witSources } from './abi-contract.ts';
import type { WitPackage } from './wit/ast.ts';

export function witSource(pkg: WitPackage): string {
  let text = `package ${pkg.namespace}:${pkg.name}@${pkg.version};\n`;
  for (const source of witSources()) text += source.text.replace(/^\s*package\s+[^;]+;/m, '');
  return text;
}
