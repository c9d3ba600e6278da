// The package's WIT (abi/wit, and what registered kinds and capabilities add) as one source
// text, for jco's tools that take WIT as a string. As of an earlier version than the
// sources' (a component built against 0.1.0), every item gated `@since` a later version is
// cut out, so the text declares what that version had and nothing it did not. (WIT tools
// refuse a gate later than the package's version, and `@unstable` instead would not do:
// they refuse the `use` of an ungated type inside a gated interface.)
import { witSources } from './abi-contract.ts';
import type { WitPackage } from './wit/ast.ts';
import { compareVersions } from './wit/versions.ts';

const GATE = /@since\s*\(\s*version\s*=\s*([0-9A-Za-z.+-]+)\s*\)\s*/y;

/** `text` without the items gated later than `version`: a whole `interface`/`world` block, or one `import`/`export` line. */
function cutLaterItems(text: string, version: string): string {
  // Comments go first: a brace in one would upset the block matching below.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  let out = '';
  let i = 0;
  while (i < code.length) {
    const at = code.indexOf('@since', i);
    if (at === -1) break;
    out += code.slice(i, at);
    GATE.lastIndex = at;
    const m = GATE.exec(code);
    if (!m) {
      out += '@';
      i = at + 1;
      continue;
    }
    let end = GATE.lastIndex;
    if (compareVersions(m[1]!, version) <= 0) {
      out += code.slice(at, end);
      i = end;
      continue;
    }
    if (/^(interface|world)\b/.test(code.slice(end))) {
      let depth = 0;
      for (; end < code.length; end++) {
        if (code[end] === '{') depth++;
        else if (code[end] === '}' && --depth === 0) break;
      }
      i = end + 1;
    } else {
      i = code.indexOf(';', end) + 1;
    }
  }
  return out + code.slice(i);
}

export function witSource(pkg: WitPackage): string {
  let text = `package ${pkg.namespace}:${pkg.name}@${pkg.version};\n`;
  for (const source of witSources()) {
    const body = source.text.replace(/^\s*package\s+[^;]+;/m, '');
    text += body.includes('@since') ? cutLaterItems(body, pkg.version) : body;
  }
  return text;
}
