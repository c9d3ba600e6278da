// How the AssemblyScript SDK spells the WIT's types: the AssemblyScript type of each WIT type,
// the names of the helpers that lift and lower it (and the generated file that holds them),
// and the declarations of the WIT's enums, records and variants (`generated/<interface>.ts`).
// `metadata` and `error` are the SDK's own hand-written classes (`Metadata`, `StateError`).
import type { WitInterface, WitType } from '../../sandbox/wit/ast.ts';
import { camel, docComment, namedTypes, pascal, resolve } from './model.ts';

/** WIT types the SDK writes by hand as idiomatic classes (types.ts), and the shape each must have. */
export const SDK_TYPES = new Map<string, string>([
  ['metadata', 'Metadata'],
  ['error', 'StateError'],
]);

export function unsupported(what: string): never {
  throw new Error(`bindgen (AssemblyScript): ${what} is not supported by the AssemblyScript SDK's generator`);
}

export const PRIMITIVES: Record<string, string> = {
  bool: 'bool',
  u8: 'u8',
  u16: 'u16',
  u32: 'u32',
  u64: 'u64',
  s8: 'i8',
  s16: 'i16',
  s32: 'i32',
  s64: 'i64',
  f32: 'f32',
  f64: 'f64',
  char: 'u32',
  string: 'string',
};

export function isBytes(t: WitType): boolean {
  const r = resolve(t);
  if (r.kind !== 'list') return false;
  const e = resolve(r.element);
  return e.kind === 'primitive' && e.name === 'u8';
}

/** The declared name of a named type: the SDK's own class, or the generated one. */
export function typeName(name: string): string {
  return SDK_TYPES.get(name) ?? pascal(name);
}

/** The AssemblyScript type of a WIT value. */
export function asType(t: WitType): string {
  switch (t.kind) {
    case 'named': {
      const r = t.type;
      if (SDK_TYPES.has(t.name) || r.kind === 'record' || r.kind === 'variant' || r.kind === 'enum') return typeName(t.name);
      return asType(r);
    }
    case 'primitive':
      return PRIMITIVES[t.name]!;
    case 'list':
      return isBytes(t) ? 'Uint8Array' : `${asType(t.element)}[]`;
    case 'option':
      // An AssemblyScript value type cannot be null: its option is a `Box` (types.ts) or null.
      return isReference(t.inner) ? `${asType(t.inner)} | null` : `Box<${asType(t.inner)}> | null`;
    default:
      return unsupported(`a ${t.kind} outside a function's result`);
  }
}

export function isReference(t: WitType): boolean {
  const r = resolve(t);
  return r.kind === 'record' || r.kind === 'variant' || r.kind === 'list' || (r.kind === 'primitive' && r.name === 'string');
}

/** `value` (an expression of `inner`'s type) as the value of an `option<inner>`: boxed when `inner` is a value type. */
export function someValue(file: FileText, inner: WitType, value: string): string {
  return isReference(inner) ? value : `new ${file.use(SDK_TYPES_MODULE, 'Box')}<${asType(inner)}>(${value})`;
}

/**
 * The default of a trailing constructor parameter: the type's zero value (none, empty, 0, the
 * first case), so a component leaves out what it does not set, and a field the WIT appends to
 * a record does not break the components that construct it. A record or variant has none.
 */
export function defaultValue(t: WitType): string | undefined {
  if (t.kind === 'option') return 'null';
  if (t.kind === 'named' && SDK_TYPES.get(t.name) === 'Metadata') return 'new Metadata()';
  const r = resolve(t);
  switch (r.kind) {
    case 'primitive':
      return r.name === 'string' ? '""' : r.name === 'bool' ? 'false' : '0';
    case 'list':
      return isBytes(r) ? 'new Uint8Array(0)' : `new Array<${asType(r.element)}>()`;
    case 'enum':
      return t.kind === 'named' ? `${typeName(t.name)}.${pascal(r.cases[0]!)}` : undefined;
    default:
      return undefined;
  }
}

/** The name part of a type's helpers: `liftString`, `lowerGetResponse`, `liftGetRequestList`, `lowerOptionalString`. */
export function key(t: WitType): string {
  switch (t.kind) {
    case 'named':
      return typeName(t.name);
    case 'primitive':
      return pascal(t.name);
    case 'list':
      return isBytes(t) ? 'Bytes' : `${key(t.element)}List`;
    case 'option':
      return `Optional${key(t.inner)}`;
    default:
      return unsupported(`a ${t.kind} inside another type`);
  }
}

/** The interface whose `-abi` file holds a type's helpers; `abi` for those built from primitives only. */
export function home(t: WitType): string {
  switch (t.kind) {
    case 'named':
      return t.interface;
    case 'list':
      return isBytes(t) ? 'abi' : home(t.element);
    case 'option':
      return home(t.inner);
    default:
      return 'abi';
  }
}

/** The store width of a discriminant or scalar of `size` bytes. */
export function uint(size: number): string {
  return `u${size * 8}`;
}

// A file being written: its body and the names it imports from each module.

export class FileText {
  readonly imports = new Map<string, Set<string>>();
  readonly body: string[] = [];
  readonly module: string;
  constructor(module: string) {
    this.module = module;
  }

  use(module: string, name: string): string {
    if (module === this.module) return name;
    if (!this.imports.has(module)) this.imports.set(module, new Set());
    this.imports.get(module)!.add(name);
    return name;
  }

  importLines(): string[] {
    const order = (m: string): string => (m.startsWith('../') ? `0${m}` : `1${m}`);
    return [...this.imports]
      .sort(([a], [b]) => order(a).localeCompare(order(b)))
      .map(([m, names]) => `import { ${[...names].sort().join(', ')} } from "${m}";`);
  }
}

export const MEMORY = '../memory';
export const SDK_TYPES_MODULE = '../types';

/** The module of a generated file, as other generated files import it. */
export function abiModule(iface: string): string {
  return iface === 'abi' ? './abi' : `./${iface}-abi`;
}

/** The payload type of every case of the SDK's error variant: a string message. */
export function stringCase(name: string, cases: { type: WitType | undefined }[]): WitType {
  const types = cases.map((c) => (c.type === undefined ? undefined : resolve(c.type)));
  if (!types.every((c) => c?.kind === 'primitive' && c.name === 'string')) unsupported(`a \`${name}\` whose cases do not all carry a string`);
  return cases[0]!.type!;
}

/** The field of a generated variant class holding case `i`'s payload: its type's name (`setRequest`), else the case's. */
export function caseField(cases: { name: string; type: WitType | undefined }[], i: number): string {
  const t = cases[i]!.type!;
  const named = cases.filter((c) => c.type?.kind === 'named' && t.kind === 'named' && c.type.name === t.name).length === 1;
  return t.kind === 'named' && named ? camel(t.name) : `${camel(cases[i]!.name)}Value`;
}

export function witName(t: WitType): string {
  switch (t.kind) {
    case 'named':
      return t.name;
    case 'primitive':
      return t.name;
    case 'list':
      return `list<${witName(t.element)}>`;
    case 'option':
      return `option<${witName(t.inner)}>`;
    case 'tuple':
      return `tuple<${t.elements.map(witName).join(', ')}>`;
    case 'result':
      return `result<${t.ok === undefined ? '_' : witName(t.ok)}, ${t.err === undefined ? '_' : witName(t.err)}>`;
    default:
      return t.kind;
  }
}

// ---------------------------------------------------------------------------------------
// Types: `<interface>.ts`.

export function typeDeclarations(file: FileText, iface: WitInterface): string[] {
  const blocks: string[] = [];
  for (const { name, type } of namedTypes(iface)) {
    // The WIT's own doc comment leads the comment of the type's declaration.
    const header = (generic: string): string => docComment([iface.typeDocs.get(name), generic].filter((d) => d !== undefined).join('\n\n'), '', '/**');
    if (type.kind === 'enum') {
      blocks.push(header(`WIT \`${name}\`, numbered as the canonical ABI numbers it.`) + `export enum ${pascal(name)} {
${type.cases.map((c, i) => `${docComment(type.caseDocs?.get(c), '  ', '/**')}  ${pascal(c)} = ${i},`).join('\n')}
}`);
    } else if (type.kind === 'variant') {
      blocks.push(header(`The cases of WIT \`${name}\`, numbered as the canonical ABI numbers them.`) + `export enum ${pascal(name)}Kind {
${type.cases.map((c, i) => `${docComment(c.docs, '  ', '/**')}  ${pascal(c.name)} = ${i},`).join('\n')}
}`);
      if (SDK_TYPES.has(name)) {
        // The SDK's own class carries the case as this enum; messages name it as the WIT does.
        blocks.push(`/** The WIT name of a case of \`${name}\` (\`${type.cases[0]!.name}\`, ...). */
export function ${camel(name)}KindName(kind: ${pascal(name)}Kind): string {
  switch (kind) {
${type.cases.map((c) => `    case ${pascal(name)}Kind.${pascal(c.name)}:\n      return "${c.name}";`).join('\n')}
    default:
      return "unknown";
  }
}`);
        continue;
      }
      const cls = pascal(name);
      const fields = type.cases.flatMap((c, i) => (c.type === undefined ? [] : [`    public ${caseField(type.cases, i)}: ${asType(c.type)} | null = null,`]));
      const statics = type.cases.map((c, i) => {
        const args = type.cases.map((_, j) => (j === i ? 'value' : 'null')).filter((_, j) => type.cases[j]!.type !== undefined);
        const param = c.type === undefined ? '' : `value: ${asType(c.type)}`;
        return `  static ${camel(c.name)}(${param}): ${cls} {\n    return new ${cls}(${[`${cls}Kind.${pascal(c.name)}`, ...args].join(', ')});\n  }`;
      });
      blocks.push(`/** WIT \`${name}\`: \`kind\` says which case, and its payload is in the field named for it. */
export class ${cls} {
  constructor(
    public kind: ${cls}Kind,
${fields.join('\n')}
  ) {}

${statics.join('\n\n')}
}`);
    } else if (type.kind === 'record') {
      // Trailing options and metadata default to none and empty, so a component can leave them out.
      let defaults = true;
      const params = [...type.fields].reverse().map((f) => {
        const d = defaults ? defaultValue(f.type) : undefined;
        if (d === undefined) defaults = false;
        if (d === 'new Metadata()') file.use(SDK_TYPES_MODULE, 'Metadata');
        return `${docComment(f.docs, '    ', '/**')}    public ${camel(f.name)}: ${asType(f.type)}${d === undefined ? '' : ` = ${d}`},`;
      });
      for (const f of type.fields) useTypeNames(file, f.type);
      blocks.push(header(`WIT \`${name}\`.`) + `export class ${pascal(name)} {
  constructor(
${params.reverse().join('\n')}
  ) {}
}`);
    } else if (!SDK_TYPES.has(name)) {
      unsupported(`type \`${name}\` (a ${type.kind})`);
    }
  }
  return blocks;
}

/** Imports the class and enum names a type mentions into `file`. */
export function useTypeNames(file: FileText, t: WitType): void {
  if (t.kind === 'named') {
    if (SDK_TYPES.has(t.name)) file.use(SDK_TYPES_MODULE, typeName(t.name));
    else if (['record', 'variant', 'enum'].includes(t.type.kind)) file.use(`./${t.interface}`, typeName(t.name));
    else useTypeNames(file, t.type);
  } else if (t.kind === 'list') useTypeNames(file, t.element);
  else if (t.kind === 'option') {
    if (!isReference(t.inner)) file.use(SDK_TYPES_MODULE, 'Box');
    useTypeNames(file, t.inner);
  }
}
