// The host's side of the generated glue: for each WIT interface, `abi/ts/wit/<interface>.ts`
// holds its types as the host lifts and lowers them (jco's shapes: camelCase fields,
// `{ tag, val }` variants, `undefined` for none, `Uint8Array` for `list<u8>`, `bigint` for
// 64-bit integers), and for an interface a world exports, the typed calls of its functions:
// `stateExports(call)` returns an object whose every method calls the export of that name
// and is typed by the WIT, so no building block names an export by a string the compiler
// cannot check. The host still lifts and lowers from the WIT at run time (canonical-abi.ts);
// these files only type what it produces.
import type { WitFunction, WitInterface, WitPackage, WitType } from '../../sandbox/wit/ast.ts';
import { camel, docComment, generatedHeader, interfaceRoles, namedTypes, pascal, resolve, type GeneratedFile } from './model.ts';

export const TS_OUT_DIR = 'abi/ts/wit';

/** TypeScript names that a WIT type name must not shadow: `error` becomes `WitError`. */
const RESERVED = new Set(['Error', 'Array', 'Map', 'Set', 'String', 'Number', 'Boolean', 'Object', 'Symbol', 'Function', 'Promise', 'Date', 'Uint8Array']);

export function tsTypeName(witName: string): string {
  const name = pascal(witName);
  return RESERVED.has(name) ? `Wit${name}` : name;
}

function tsType(t: WitType, uses: Set<WitType & { kind: 'named' }>): string {
  switch (t.kind) {
    case 'named':
      uses.add(t);
      return tsTypeName(t.name);
    case 'primitive':
      switch (t.name) {
        case 'bool':
          return 'boolean';
        case 'u64':
        case 's64':
          return 'bigint';
        case 'char':
        case 'string':
          return 'string';
        default:
          return 'number';
      }
    case 'list': {
      const element = resolve(t.element);
      if (element.kind === 'primitive' && element.name === 'u8') return 'Uint8Array';
      const inner = tsType(t.element, uses);
      return /^[\w.]+$/.test(inner) ? `${inner}[]` : `Array<${inner}>`;
    }
    case 'option':
      return `${tsType(t.inner, uses)} | undefined`;
    case 'result':
      return `WitResult<${t.ok === undefined ? 'void' : tsType(t.ok, uses)}, ${t.err === undefined ? 'void' : tsType(t.err, uses)}>`;
    case 'tuple':
      return `[${t.elements.map((e) => tsType(e, uses)).join(', ')}]`;
    case 'enum':
      return t.cases.map((c) => `'${c}'`).join(' | ');
    case 'variant':
      return t.cases.map((c) => (c.type === undefined ? `{ tag: '${c.name}' }` : `{ tag: '${c.name}'; val: ${tsType(c.type, uses)} }`)).join(' | ');
    case 'record':
      return `{ ${t.fields.map((f) => `${camel(f.name)}: ${tsType(f.type, uses)}`).join('; ')} }`;
    case 'flags':
      return `{ ${t.flags.map((f) => `${camel(f)}: boolean`).join('; ')} }`;
  }
}

function typeDeclaration(name: string, t: WitType, uses: Set<WitType & { kind: 'named' }>): string {
  const tsName = tsTypeName(name);
  switch (t.kind) {
    case 'record': {
      const fields = t.fields.map((f) => {
        const r = f.type.kind === 'option' ? f.type : undefined;
        // An absent optional field reads as `undefined`, as jco lifts it: `etag?: string`.
        const doc = docComment(f.docs, '  ', '/**');
        return doc + (r !== undefined ? `  ${camel(f.name)}?: ${tsType(r.inner, uses)};` : `  ${camel(f.name)}: ${tsType(f.type, uses)};`);
      });
      return `export interface ${tsName} {\n${fields.join('\n')}\n}`;
    }
    case 'flags':
      return `export interface ${tsName} {\n${t.flags.map((f) => `  ${camel(f)}: boolean;`).join('\n')}\n}`;
    case 'variant':
      return `export type ${tsName} =\n${t.cases.map((c) => `${docComment(c.docs, '  ', '/**')}  | ${c.type === undefined ? `{ tag: '${c.name}' }` : `{ tag: '${c.name}'; val: ${tsType(c.type, uses)} }`}`).join('\n')};`;
    default:
      return `export type ${tsName} = ${tsType(t, uses)};`;
  }
}

function signature(fn: WitFunction, uses: Set<WitType & { kind: 'named' }>): { params: string; result: string } {
  const params = fn.params.map((p) => `${camel(p.name)}: ${tsType(p.type, uses)}`).join(', ');
  return { params, result: fn.result === undefined ? 'void' : tsType(fn.result, uses) };
}

function exportsBlock(iface: WitInterface, uses: Set<WitType & { kind: 'named' }>): string {
  const base = pascal(iface.name);
  const lines: string[] = [];
  lines.push(`/** The functions of \`${iface.name}\`, as the host names them to a live component. */`);
  lines.push(`export const ${camel(iface.name)}Functions = [${iface.functions.map((f) => `'${f.name}'`).join(', ')}] as const;`);
  lines.push(`export type ${base}Function = (typeof ${camel(iface.name)}Functions)[number];`);
  lines.push('');
  lines.push(`/** The exports of \`${iface.name}\`, typed by the WIT: what a component implementing it answers. */`);
  lines.push(`export interface ${base}Exports {`);
  for (const fn of iface.functions) {
    const { params, result } = signature(fn, uses);
    lines.push(docComment(fn.docs, '  ', '/**') + `  ${camel(fn.name)}(${params}): Promise<${result}>;`);
  }
  lines.push('}');
  lines.push('');
  lines.push(`/**`);
  lines.push(` * Typed calls of \`${iface.name}\` over \`call\`, which calls an export by its function name with`);
  lines.push(` * \`prefix\` before it (\`''\` for the interface a kind is built on, \`'${iface.name}#'\` for an optional one).`);
  lines.push(` */`);
  lines.push(`export function ${camel(iface.name)}Exports(call: CallExport, prefix: '' | '${iface.name}#' = ''): ${base}Exports {`);
  // The names are built once here, not on every call.
  for (const fn of iface.functions) lines.push(`  const ${camel(fn.name)}Name = \`\${prefix}${fn.name}\`;`);
  lines.push('  return {');
  for (const fn of iface.functions) {
    const { params, result } = signature(fn, uses);
    const args = fn.params.map((p) => camel(p.name)).join(', ');
    lines.push(`    ${camel(fn.name)}: (${params}) => call(${camel(fn.name)}Name, [${args}]) as Promise<${result}>,`);
  }
  lines.push('  };');
  lines.push('}');
  return lines.join('\n');
}

function importsBlock(iface: WitInterface, uses: Set<WitType & { kind: 'named' }>): string {
  const base = pascal(iface.name);
  const lines = [`/** The functions of host interface \`${iface.name}\`, typed by the WIT: what the host provides a component importing it. */`];
  lines.push(`export interface ${base}Imports {`);
  for (const fn of iface.functions) {
    const { params, result } = signature(fn, uses);
    lines.push(docComment(fn.docs, '  ', '/**') + `  ${camel(fn.name)}(${params}): ${result} | Promise<${result}>;`);
  }
  lines.push('}');
  return lines.join('\n');
}

function interfaceFile(pkg: WitPackage, iface: WitInterface, role: 'export' | 'import' | 'types'): GeneratedFile {
  const uses = new Set<WitType & { kind: 'named' }>();
  const blocks: string[] = [];
  for (const { name, type } of namedTypes(iface)) blocks.push(docComment(iface.typeDocs.get(name), '', '/**') + typeDeclaration(name, type, uses));
  if (role === 'export') blocks.push(exportsBlock(iface, uses));
  if (role === 'import') blocks.push(importsBlock(iface, uses));
  const body = blocks.join('\n\n');
  const imports = new Map<string, Set<string>>();
  for (const u of uses) {
    if (u.interface === iface.name) continue;
    if (!imports.has(u.interface)) imports.set(u.interface, new Set());
    imports.get(u.interface)!.add(tsTypeName(u.name));
  }
  const head = [generatedHeader('//').trimEnd(), `// The types${role === 'types' ? '' : ' and functions'} of interface \`${iface.name}\` of ${pkg.namespace}:${pkg.name}@${pkg.version}.`];
  const importLines: string[] = [];
  const shared = ['WitResult', 'CallExport'].filter((n) => (n === 'CallExport' ? role === 'export' : body.includes('WitResult<')));
  if (shared.length > 0) importLines.push(`import type { ${shared.join(', ')} } from './abi.ts';`);
  for (const [from, names] of [...imports].sort(([a], [b]) => a.localeCompare(b))) {
    importLines.push(`import type { ${[...names].sort().join(', ')} } from './${from}.ts';`);
  }
  const text = [head.join('\n'), importLines.join('\n'), body].filter((s) => s !== '').join('\n\n') + '\n';
  return { path: `${TS_OUT_DIR}/${iface.name}.ts`, text };
}

function sharedFile(pkg: WitPackage): GeneratedFile {
  const text = `${generatedHeader('//')}// What every generated interface file of ${pkg.namespace}:${pkg.name}@${pkg.version} shares.

/** A WIT \`result<T, E>\` as lifted. */
export type WitResult<T, E> = { tag: 'ok'; val: T } | { tag: 'err'; val: E };

/** Calls a component's export by the name the host gives it, with the lifted arguments; resolves to the lifted result. */
export type CallExport = (fn: string, args: unknown[]) => Promise<unknown>;

/** The WIT package these files were generated from. */
export const WIT_PACKAGE = '${pkg.namespace}:${pkg.name}@${pkg.version}';
`;
  return { path: `${TS_OUT_DIR}/abi.ts`, text };
}

export function generateTypeScript(pkg: WitPackage): GeneratedFile[] {
  const { exported, imported } = interfaceRoles(pkg);
  const files = [sharedFile(pkg)];
  for (const iface of pkg.interfaces.values()) {
    const role = exported.includes(iface.name) ? 'export' : imported.includes(iface.name) ? 'import' : 'types';
    files.push(interfaceFile(pkg, iface, role));
  }
  return files;
}
