// The AssemblyScript SDK's side of the generated glue (sdk/assemblyscript/assembly/generated/):
// - `<interface>.ts`: the interface's WIT types as AssemblyScript enums and classes (the SDK
//   re-exports them under its public names), and for a host interface, typed calls of its imports;
// - `<interface>-abi.ts`: the lifting and lowering of those types, one function per type;
// - `<interface>-exports.ts`: for an interface a world exports, the core exports a component's
//   entry file re-exports (`export * from ".../state-exports"`), straight-line per function:
//   lift the flat arguments, call the hand-written `<interface>Implementation()`, lower the
//   result into the return area; plus `cabi_realloc` and the post-returns;
// - `abi.ts`: strings and byte lists, the helpers every other file shares.
// Offsets, sizes and discriminants all come from the model; the SDK's hand-written memory
// discipline (memory.ts: cabi_realloc's blocks, the per-call arena) holds none.
import type { WitFunction, WitInterface, WitPackage, WitType } from '../../sandbox/wit/ast.ts';
import {
  camel,
  generatedHeader,
  interfaceModel,
  interfaceRoles,
  layoutOf,
  namedTypes,
  pascal,
  recordFields,
  resolve,
  snake,
  variantLayout,
  worlds,
  type FlatParam,
  type FunctionModel,
  type GeneratedFile,
} from './model.ts';

export const AS_OUT_DIR = 'sdk/assemblyscript/assembly/generated';

/**
 * The name the SDK exports a function under: AssemblyScript cannot spell
 * `tessera:components/state@0.1.0#bulk-get`, so it exports `tessera_state_bulk_get` and the
 * builder (host/toolchain/assemblyscript.ts) renames it, and `cabi_post_<it>` likewise.
 */
export function asExportName(pkg: WitPackage, iface: string, fn: string): string {
  return `${snake(pkg.namespace)}_${snake(iface)}_${snake(fn)}`;
}

/** WIT types the SDK writes by hand as idiomatic classes (types.ts), and the shape each must have. */
const SDK_TYPES = new Map<string, string>([
  ['metadata', 'Metadata'],
  ['error', 'StateError'],
]);

/**
 * The field of an export's hand-written result class (`GetResult`, ...) that holds the `ok`
 * value: the SDK's idiomatic names. A function not listed calls it `value`.
 */
const OK_FIELDS = new Map<string, string>([
  ['get', 'response'],
  ['bulk-get', 'items'],
  ['bulk-publish', 'failures'],
  ['subscribe', 'id'],
  ['pull', 'messages'],
]);

const U32: WitType = { kind: 'primitive', name: 'u32' };
/** Where a string's or list's pointer and length sit in memory. */
const [PTR_AT, LEN_AT] = recordFields([
  { name: 'ptr', type: U32 },
  { name: 'len', type: U32 },
]).map((f) => f.offset) as [number, number];

function unsupported(what: string): never {
  throw new Error(`bindgen (AssemblyScript): ${what} is not supported by the AssemblyScript SDK's generator`);
}

const PRIMITIVES: Record<string, string> = {
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

function isBytes(t: WitType): boolean {
  const r = resolve(t);
  if (r.kind !== 'list') return false;
  const e = resolve(r.element);
  return e.kind === 'primitive' && e.name === 'u8';
}

/** The declared name of a named type: the SDK's own class, or the generated one. */
function typeName(name: string): string {
  return SDK_TYPES.get(name) ?? pascal(name);
}

/** The AssemblyScript type of a WIT value. */
function asType(t: WitType): string {
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
      if (!isReference(t.inner)) unsupported(`an option of ${asType(t.inner)} (an AssemblyScript value type cannot be null)`);
      return `${asType(t.inner)} | null`;
    default:
      return unsupported(`a ${t.kind} outside a function's result`);
  }
}

function isReference(t: WitType): boolean {
  const r = resolve(t);
  return r.kind === 'record' || r.kind === 'variant' || r.kind === 'list' || (r.kind === 'primitive' && r.name === 'string');
}

/**
 * The default of a trailing constructor parameter: the type's zero value (none, empty, 0, the
 * first case), so a component leaves out what it does not set, and a field the WIT appends to
 * a record does not break the components that construct it. A record or variant has none.
 */
function defaultValue(t: WitType): string | undefined {
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
function key(t: WitType): string {
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
function home(t: WitType): string {
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
function uint(size: number): string {
  return `u${size * 8}`;
}

// ---------------------------------------------------------------------------------------
// A file being written: its body and the names it imports from each module.

class FileText {
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

const MEMORY = '../memory';
const SDK_TYPES_MODULE = '../types';

/** The module of a generated file, as other generated files import it. */
function abiModule(iface: string): string {
  return iface === 'abi' ? './abi' : `./${iface}-abi`;
}

// ---------------------------------------------------------------------------------------
// Lifting and lowering helpers, each written once, into the `-abi` file of its type's home.

class Helpers {
  readonly files = new Map<string, FileText>();
  readonly #written = new Set<string>();

  file(iface: string): FileText {
    const module = abiModule(iface);
    if (!this.files.has(iface)) this.files.set(iface, new FileText(module));
    return this.files.get(iface)!;
  }

  /** Makes `from` import the helper `name` of `t`'s home, writing it there first if new. */
  #helper(from: FileText, t: WitType, name: string, write: (f: FileText) => string): string {
    const target = this.file(home(t));
    if (!this.#written.has(name)) {
      this.#written.add(name);
      target.body.push(write(target));
    }
    return from.use(target.module, name);
  }

  /** An expression reading a `t` at `base` + `offset`. */
  load(from: FileText, t: WitType, base: string, offset: number): string {
    const r = resolve(t);
    const at = (o: number): string => (o === 0 ? `load<u32>(${base})` : `load<u32>(${base}, ${o})`);
    const ptrLen = (): string => `${at(offset + PTR_AT)}, ${at(offset + LEN_AT)}`;
    if (r.kind === 'primitive') {
      if (r.name === 'string') return `${this.liftPair(from, t)}(${ptrLen()})`;
      const type = r.name === 'bool' ? 'u8' : PRIMITIVES[r.name]!;
      const read = offset === 0 ? `load<${type}>(${base})` : `load<${type}>(${base}, ${offset})`;
      return r.name === 'bool' ? `${read} != 0` : read;
    }
    if (r.kind === 'list') return `${this.liftPair(from, t)}(${ptrLen()})`;
    if (r.kind === 'enum') {
      const size = layoutOf(r).size;
      const read = offset === 0 ? `load<${uint(size)}>(${base})` : `load<${uint(size)}>(${base}, ${offset})`;
      return `${this.liftEnum(from, t)}(${read})`;
    }
    return `${this.loader(from, t)}(${offset === 0 ? base : `${base} + ${offset}`})`;
  }

  /** `liftX(ptr, len)` of a string or list. */
  liftPair(from: FileText, t: WitType): string {
    const r = resolve(t);
    if (r.kind === 'primitive') return from.use('./abi', 'liftString');
    if (isBytes(t)) return from.use('./abi', 'liftBytes');
    if (r.kind !== 'list') return unsupported(`lifting a ${r.kind} from a pointer and a length`);
    const element = r.element;
    const name = `lift${key(t)}`;
    return this.#helper(from, t, name, (f) => {
      const { size } = layoutOf(element);
      const freeList = f.use(MEMORY, 'freeList');
      const type = asType(t);
      if (t.kind === 'named' && SDK_TYPES.get(t.name) === 'Metadata') {
        const pair = resolve(element);
        if (pair.kind !== 'tuple' || pair.elements.length !== 2) return unsupported('a `metadata` that is not a list of pairs');
        const [k, v] = recordFields(pair.elements.map((e, i) => ({ name: String(i), type: e })));
        f.use(SDK_TYPES_MODULE, 'Metadata');
        return `/** \`${t.name}\`: elements of ${size} bytes. */
export function ${name}(ptr: usize, len: usize): Metadata {
  const metadata = new Metadata();
  for (let i: usize = 0; i < len; i++) {
    const at = ptr + i * ${size};
    metadata.append(${this.load(f, k!.type, 'at', k!.offset)}, ${this.load(f, v!.type, 'at', v!.offset)});
  }
  ${freeList}(ptr, len);
  return metadata;
}`;
      }
      return `/** list<${witName(element)}>: elements of ${size} bytes. */
export function ${name}(ptr: usize, len: usize): ${type} {
  const list = new Array<${asType(element)}>(<i32>len);
  for (let i: usize = 0; i < len; i++) list[<i32>i] = ${this.load(f, element, 'ptr + i * ' + size, 0)};
  ${freeList}(ptr, len);
  return list;
}`;
    });
  }

  liftEnum(from: FileText, t: WitType): string {
    const r = resolve(t);
    if (t.kind !== 'named' || r.kind !== 'enum') return unsupported('an unnamed enum');
    const type = typeName(t.name);
    return this.#helper(from, t, `lift${type}`, (f) => {
      f.use(`./${t.interface}`, type);
      return `export function lift${type}(value: u32): ${type} {
  ${f.use('./abi', 'checkDiscriminant')}(value, ${r.cases.length}, "${t.name}");
  return <${type}>value;
}`;
    });
  }

  /** `loadX(p)` of a record, variant or option in memory. */
  loader(from: FileText, t: WitType): string {
    const r = resolve(t);
    const name = `load${key(t)}`;
    return this.#helper(from, t, name, (f) => {
      const type = asType(t);
      if (t.kind === 'option') {
        const { payloadOffset, discriminantSize } = variantLayout(t, [undefined, t.inner]);
        return `/** option<${witName(t.inner)}>: a ${uint(discriminantSize)} discriminant, the value at ${payloadOffset}. */
export function ${name}(p: usize): ${type} {
  const some = <u32>load<${uint(discriminantSize)}>(p);
  ${f.use('./abi', 'checkDiscriminant')}(some, 2, "option");
  return some == 0 ? null : ${this.load(f, t.inner, 'p', payloadOffset)};
}`;
      }
      if (t.kind !== 'named') return unsupported(`an unnamed ${r.kind}`);
      f.use(SDK_TYPES.has(t.name) ? SDK_TYPES_MODULE : `./${t.interface}`, typeName(t.name));
      if (r.kind === 'record') {
        const fields = recordFields(r.fields);
        return `/** ${t.name}: ${layoutOf(r).size} bytes. */
export function ${name}(p: usize): ${type} {
  return new ${type}(
${fields.map((fl) => `    ${this.load(f, fl.type, 'p', fl.offset)},`).join('\n')}
  );
}`;
      }
      if (r.kind === 'variant') {
        const { discriminantSize, payloadOffset } = variantLayout(r, r.cases.map((c) => c.type));
        const check = `${f.use('./abi', 'checkDiscriminant')}(kind, ${r.cases.length}, "${t.name}");`;
        if (SDK_TYPES.get(t.name) === 'StateError') {
          f.use('./types', 'ErrorKind');
          return `/** ${t.name}: a ${uint(discriminantSize)} case, its message at ${payloadOffset}. */
export function ${name}(p: usize): StateError {
  const kind = <u32>load<${uint(discriminantSize)}>(p);
  ${check}
  return new StateError(<ErrorKind>kind, ${this.load(f, stringCase(t.name, r.cases), 'p', payloadOffset)});
}`;
        }
        const cases = r.cases.map((c, i) => {
          const build = `${type}.${camel(c.name)}(${c.type === undefined ? '' : this.load(f, c.type, 'p', payloadOffset)})`;
          return i === r.cases.length - 1 ? `  return ${build};` : `  if (kind == ${i}) return ${build};`;
        });
        return `/** ${t.name}: a ${uint(discriminantSize)} case, its payload at ${payloadOffset}. */
export function ${name}(p: usize): ${type} {
  const kind = <u32>load<${uint(discriminantSize)}>(p);
  ${check}
${cases.join('\n')}
}`;
      }
      return unsupported(`a ${r.kind}`);
    });
  }

  /** Statements writing `value` (an expression of `t`'s AssemblyScript type) at `base` + `offset`. */
  store(from: FileText, t: WitType, value: string, base: string, offset: number): string {
    const r = resolve(t);
    const at = offset === 0 ? base : `${base} + ${offset}`;
    if (r.kind === 'primitive' && r.name !== 'string') {
      const type = r.name === 'bool' ? 'u8' : PRIMITIVES[r.name]!;
      const v = r.name === 'bool' ? `${value} ? 1 : 0` : value;
      return offset === 0 ? `store<${type}>(${base}, ${v});` : `store<${type}>(${base}, ${v}, ${offset});`;
    }
    if (r.kind === 'enum') {
      const type = uint(layoutOf(r).size);
      return offset === 0 ? `store<${type}>(${base}, <${type}>${value});` : `store<${type}>(${base}, <${type}>${value}, ${offset});`;
    }
    return `${this.lowerer(from, t)}(${at}, ${value});`;
  }

  /** `lowerX(at, value)` of anything but a scalar. */
  lowerer(from: FileText, t: WitType): string {
    const r = resolve(t);
    if (r.kind === 'primitive') return from.use('./abi', 'lowerString');
    if (isBytes(t)) return from.use('./abi', 'lowerBytes');
    const name = `lower${key(t)}`;
    return this.#helper(from, t, name, (f) => {
      const type = asType(t);
      const header = (ptr: string, len: string): string =>
        `  store<u32>(at, ${ptr}${PTR_AT === 0 ? '' : `, ${PTR_AT}`});\n  store<u32>(at, ${len}, ${LEN_AT});`;
      if (r.kind === 'list') {
        const { size, align } = layoutOf(r.element);
        const arenaAlloc = f.use(MEMORY, 'arenaAlloc');
        if (t.kind === 'named' && SDK_TYPES.get(t.name) === 'Metadata') {
          const pair = resolve(r.element);
          if (pair.kind !== 'tuple' || pair.elements.length !== 2) return unsupported('a `metadata` that is not a list of pairs');
          const [k, v] = recordFields(pair.elements.map((e, i) => ({ name: String(i), type: e })));
          f.use(SDK_TYPES_MODULE, 'Metadata');
          return `export function ${name}(at: usize, metadata: Metadata): void {
  const len = <usize>metadata.length;
  const ptr = ${arenaAlloc}(len * ${size}, ${align});
  for (let i: usize = 0; i < len; i++) {
    const entry = ptr + i * ${size};
    ${this.store(f, k!.type, 'metadata.keyAt(<i32>i)', 'entry', k!.offset)}
    ${this.store(f, v!.type, 'metadata.valueAt(<i32>i)', 'entry', v!.offset)}
  }
${header('ptr', 'len')}
}`;
        }
        return `/** list<${witName(r.element)}>: elements of ${size} bytes, in the arena. */
export function ${name}(at: usize, list: ${type}): void {
  const len = <usize>list.length;
  const ptr = ${arenaAlloc}(len * ${size}, ${align});
  for (let i: usize = 0; i < len; i++) ${this.store(f, r.element, 'list[<i32>i]', 'ptr + i * ' + size, 0)}
${header('ptr', 'len')}
}`;
      }
      if (t.kind === 'option') {
        const { payloadOffset, discriminantSize } = variantLayout(t, [undefined, t.inner]);
        const d = uint(discriminantSize);
        return `/** option<${witName(t.inner)}>: a ${d} discriminant, the value at ${payloadOffset}. */
export function ${name}(at: usize, value: ${type}): void {
  if (value !== null) {
    store<${d}>(at, 1);
    ${this.store(f, t.inner, 'value', 'at', payloadOffset)}
  } else {
    store<${d}>(at, 0);
  }
}`;
      }
      if (t.kind !== 'named') return unsupported(`an unnamed ${r.kind}`);
      f.use(SDK_TYPES.has(t.name) ? SDK_TYPES_MODULE : `./${t.interface}`, typeName(t.name));
      if (r.kind === 'record') {
        const fields = recordFields(r.fields);
        return `/** ${t.name}: ${layoutOf(r).size} bytes. */
export function ${name}(at: usize, value: ${type}): void {
${fields.map((fl) => `  ${this.store(f, fl.type, `value.${camel(fl.name)}`, 'at', fl.offset)}`).join('\n')}
}`;
      }
      if (r.kind === 'variant') {
        const { discriminantSize, payloadOffset } = variantLayout(r, r.cases.map((c) => c.type));
        const d = uint(discriminantSize);
        if (SDK_TYPES.get(t.name) === 'StateError') {
          return `/** ${t.name}: a ${d} case, its message at ${payloadOffset}. */
export function ${name}(at: usize, error: StateError): void {
  store<${d}>(at, <${d}>error.kind);
  ${this.store(f, stringCase(t.name, r.cases), 'error.message', 'at', payloadOffset)}
}`;
        }
        const cases = r.cases.map((c, i) => {
          const payload = c.type === undefined ? '' : `\n    ${this.store(f, c.type, `value.${caseField(r.cases, i)}!`, 'at', payloadOffset)}`;
          return `  ${i === 0 ? '' : '} else '}if (value.kind == ${i}) {\n    store<${d}>(at, ${i});${payload}`;
        });
        return `/** ${t.name}: a ${d} case, its payload at ${payloadOffset}. */
export function ${name}(at: usize, value: ${type}): void {
${cases.join('\n')}
  }
}`;
      }
      return unsupported(`a ${r.kind}`);
    });
  }
}

/** The payload type of every case of the SDK's error variant: a string message. */
function stringCase(name: string, cases: { type: WitType | undefined }[]): WitType {
  const types = cases.map((c) => (c.type === undefined ? undefined : resolve(c.type)));
  if (!types.every((c) => c?.kind === 'primitive' && c.name === 'string')) unsupported(`a \`${name}\` whose cases do not all carry a string`);
  return cases[0]!.type!;
}

/** The field of a generated variant class holding case `i`'s payload: its type's name (`setRequest`), else the case's. */
function caseField(cases: { name: string; type: WitType | undefined }[], i: number): string {
  const t = cases[i]!.type!;
  const named = cases.filter((c) => c.type?.kind === 'named' && t.kind === 'named' && c.type.name === t.name).length === 1;
  return t.kind === 'named' && named ? camel(t.name) : `${camel(cases[i]!.name)}Value`;
}

function witName(t: WitType): string {
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

function signatureComment(fn: WitFunction): string {
  const params = fn.params.map((p) => `${p.name}: ${witName(p.type)}`).join(', ');
  return `// ${fn.name}: func(${params})${fn.result === undefined ? '' : ` -> ${witName(fn.result)}`}`;
}

// ---------------------------------------------------------------------------------------
// Types: `<interface>.ts`.

function typeDeclarations(file: FileText, iface: WitInterface): string[] {
  const blocks: string[] = [];
  for (const { name, type } of namedTypes(iface)) {
    if (type.kind === 'enum') {
      blocks.push(`/** WIT \`${name}\`, numbered as the canonical ABI numbers it. */
export enum ${pascal(name)} {
${type.cases.map((c, i) => `  ${pascal(c)} = ${i},`).join('\n')}
}`);
    } else if (type.kind === 'variant') {
      blocks.push(`/** The cases of WIT \`${name}\`, numbered as the canonical ABI numbers them. */
export enum ${pascal(name)}Kind {
${type.cases.map((c, i) => `  ${pascal(c.name)} = ${i},`).join('\n')}
}`);
      if (SDK_TYPES.has(name)) continue;
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
        return `    public ${camel(f.name)}: ${asType(f.type)}${d === undefined ? '' : ` = ${d}`},`;
      });
      for (const f of type.fields) useTypeNames(file, f.type);
      blocks.push(`/** WIT \`${name}\`. */
export class ${pascal(name)} {
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
function useTypeNames(file: FileText, t: WitType): void {
  if (t.kind === 'named') {
    if (SDK_TYPES.has(t.name)) file.use(SDK_TYPES_MODULE, typeName(t.name));
    else if (['record', 'variant', 'enum'].includes(t.type.kind)) file.use(`./${t.interface}`, typeName(t.name));
    else useTypeNames(file, t.type);
  } else if (t.kind === 'list') useTypeNames(file, t.element);
  else if (t.kind === 'option') useTypeNames(file, t.inner);
}

// ---------------------------------------------------------------------------------------
// Flat values: an export's parameters, an import's arguments.

/** A parameter or argument list on one line, or one item a line when that line would be long. */
function wrapList(items: string[], indent: string): string {
  const line = items.join(', ');
  if (line.length <= 90) return line;
  return `\n${items.map((i) => `${indent}  ${i},`).join('\n')}\n${indent}`;
}

function flatName(p: FlatParam): string {
  return camel(p.words.join('-'));
}

function flatType(p: FlatParam): string {
  if (p.core === 'i32') return p.words.length > 1 && ['ptr', 'len'].includes(p.words.at(-1)!) ? 'usize' : 'u32';
  return p.core === 'i64' ? 'u64' : p.core;
}

/** An expression lifting a `t` from the flat parameters `take` hands out in order. */
function liftFlat(h: Helpers, file: FileText, t: WitType, take: () => FlatParam): string {
  const r = resolve(t);
  switch (r.kind) {
    case 'primitive': {
      if (r.name === 'string') return `${h.liftPair(file, t)}(${flatName(take())}, ${flatName(take())})`;
      const v = flatName(take());
      if (r.name === 'bool') return `${v} != 0`;
      const type = PRIMITIVES[r.name]!;
      return ['u32', 'u64'].includes(type) ? v : `<${type}>${v}`;
    }
    case 'list':
      return `${h.liftPair(file, t)}(${flatName(take())}, ${flatName(take())})`;
    case 'enum':
      return `${h.liftEnum(file, t)}(${flatName(take())})`;
    case 'record': {
      if (t.kind !== 'named') return unsupported('an unnamed record');
      const cls = file.use(`./${t.interface}`, typeName(t.name));
      return `new ${cls}(${wrapList(r.fields.map((f) => liftFlat(h, file, f.type, take)), '  ')})`;
    }
    case 'option': {
      const some = flatName(take());
      const inner = liftFlat(h, file, r.inner, take);
      return `${file.use('./abi', 'isSome')}(${some}) ? ${inner} : null`;
    }
    default:
      return unsupported(`a ${r.kind} passed flat`);
  }
}

// ---------------------------------------------------------------------------------------
// Exports: `<interface>-exports.ts`.

function exportsFile(pkg: WitPackage, h: Helpers, name: string, withRealloc: boolean): GeneratedFile {
  const model = interfaceModel(pkg, name, 'export');
  const file = new FileText(`./${name}-exports`);
  const impl = file.use(`../${name}`, `${camel(name)}Implementation`);
  const beginCall = file.use(MEMORY, 'beginCall');
  const areas = model.functions.flatMap((f) => (f.returnArea === undefined ? [] : [f.returnArea]));
  const area = { size: Math.max(0, ...areas.map((a) => a.size)), align: Math.max(1, ...areas.map((a) => a.align)) };
  const blocks: string[] = [];
  if (areas.length > 0) {
    blocks.push(`/**
 * The return area of every export whose result does not fit one core value: the host reads it
 * before the post-return. Calls never overlap, so one static area, as large as the largest result, serves all.
 */
const RET_AREA = memory.data(${area.size}, ${area.align});`);
  }
  if (withRealloc) {
    blocks.push(`export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  return ${file.use(MEMORY, 'cabiRealloc')}(oldPtr, oldSize, align, newSize);
}`);
  }
  for (const fm of model.functions) blocks.push(exportFunction(pkg, h, file, fm, impl, beginCall));
  const posts = model.functions.filter((f) => f.postReturn !== undefined);
  if (posts.length > 0) {
    blocks.push(`/** The post-return of every export: what the return area points to lives in the arena (or is a lent block), released here. */
function postReturn(retArea: usize): void {
  ${file.use(MEMORY, 'endCall')}();
}

export {
${posts.map((f) => `  postReturn as cabi_post_${asExportName(pkg, name, f.fn.name)},`).join('\n')}
};`);
  }
  const head = `${generatedHeader('//')}// The exports of interface \`${name}\` in canonical ABI form. An entry file re-exports them; the
// builder renames each \`${asExportName(pkg, name, '<f>')}\` to \`${pkg.namespace}:${pkg.name}/${name}@${pkg.version}#<f>\`.
import "../abort";`;
  return { path: `${AS_OUT_DIR}/${name}-exports.ts`, text: [head + '\n' + file.importLines().join('\n'), ...blocks].join('\n\n') + '\n' };
}

function exportFunction(pkg: WitPackage, h: Helpers, file: FileText, fm: FunctionModel, impl: string, beginCall: string): string {
  const { fn } = fm;
  const lines: string[] = [`  ${beginCall}();`];
  const raws: string[] = [];
  const args: string[] = [];
  const flats = [...fm.flatParams];
  let next = 0;
  const take = (): FlatParam => flats[next++]!;
  if (fm.paramsSpill) {
    for (const f of recordFields(fn.params)) {
      lines.push(`  const ${camel(f.name)} = ${h.load(file, f.type, 'args', f.offset)};`);
      args.push(camel(f.name));
    }
    lines.push('  heap.free(args);');
  } else {
    for (const p of fn.params) {
      const v = camel(p.name);
      if (isBytes(p.type) && p.type.kind === 'list') {
        // A whole byte list (a snapshot, a chunk) is lent to the implementation in place, not copied.
        lines.push(`  const ${v} = new ${file.use(MEMORY, 'RawBytes')}(${flatName(take())}, ${flatName(take())});`);
        raws.push(v);
      } else {
        const from = next;
        const lifted = liftFlat(h, file, p.type, take);
        // A value that arrives as one core value keeps its name: it is lifted in the call.
        if (next - from === 1) {
          args.push(lifted);
          continue;
        }
        lines.push(`  const ${v} = ${lifted};`);
      }
      args.push(v);
    }
  }
  const call = `${impl}().${camel(fn.name)}(${args.join(', ')})`;
  const release = raws.map((v) => `  ${file.use(MEMORY, 'releaseRawBytes')}(${v});`);
  const result = fn.result;
  const flatParams = fm.flatParams.map((p) => `${flatName(p)}: ${flatType(p)}`);
  let returns = 'void';
  if (result === undefined) {
    lines.push(`  ${call};`, ...release);
  } else if (fm.returnArea === undefined) {
    returns = fm.flatResults[0] === 'i64' ? 'u64' : fm.flatResults[0] === 'i32' ? 'u32' : fm.flatResults[0]!;
    const r = resolve(result);
    lines.push(`  const result = ${call};`, ...release);
    lines.push(`  return ${r.kind === 'primitive' && r.name === 'bool' ? 'result ? 1 : 0' : `<${returns}>result`};`);
  } else {
    returns = 'usize';
    lines.push(...lowerResult(h, file, fn, result, call, release));
    lines.push('  return RET_AREA;');
  }
  return `${signatureComment(fn)}
export function ${asExportName(pkg, fm.iface, fn.name)}(${wrapList(flatParams, '')}): ${returns} {
${lines.join('\n')}
}`;
}

/** Statements calling the implementation and writing its answer into RET_AREA. */
function lowerResult(h: Helpers, file: FileText, fn: WitFunction, result: WitType, call: string, release: string[]): string[] {
  const r = resolve(result);
  if (isBytes(result) && result.kind === 'list') {
    // A whole byte list answered (a snapshot): the implementation's raw block is lent to the host until the post-return.
    return [`  ${file.use('./abi', 'lendRawBytes')}(RET_AREA, ${call});`, ...release];
  }
  if (r.kind !== 'result') return [`  const result = ${call};`, ...release, `  ${h.store(file, result, 'result', 'RET_AREA', 0)}`];
  if (r.err === undefined) return unsupported('a result without an error type');
  const { discriminantSize, payloadOffset } = variantLayout(r, [r.ok, r.err]);
  const d = uint(discriminantSize);
  const lines: string[] = [];
  if (r.ok === undefined) {
    lines.push(`  const error = ${call};`, ...release);
  } else {
    lines.push(`  const result = ${call};`, ...release, '  const error = result.error;');
  }
  lines.push('  if (error !== null) {', `    store<${d}>(RET_AREA, 1);`, `    ${h.store(file, r.err, 'error', 'RET_AREA', payloadOffset)}`, '  } else {', `    store<${d}>(RET_AREA, 0);`);
  if (r.ok !== undefined) lines.push(`    ${h.store(file, r.ok, `result.${OK_FIELDS.get(fn.name) ?? 'value'}`, 'RET_AREA', payloadOffset)}`);
  lines.push('  }');
  return lines;
}

// ---------------------------------------------------------------------------------------
// Imports: typed calls of a host interface, in `<interface>.ts`.

function importFunctions(pkg: WitPackage, h: Helpers, file: FileText, name: string): string[] {
  const model = interfaceModel(pkg, name, 'import');
  const blocks: string[] = [];
  const areas = model.functions.flatMap((f) => (f.returnArea === undefined ? [] : [f.returnArea]));
  if (areas.length > 0) {
    const size = Math.max(...areas.map((a) => a.size));
    const align = Math.max(...areas.map((a) => a.align));
    blocks.push(`/** Where the host writes a result that does not fit one core value. */\nconst RET_AREA = memory.data(${size}, ${align});`);
  }
  for (const fm of model.functions) blocks.push(importFunction(h, file, fm));
  return blocks;
}

function importFunction(h: Helpers, file: FileText, fm: FunctionModel): string {
  const { fn } = fm;
  const host = `host${pascal(fn.name)}`;
  const coreParams = fm.flatParams.map((p) => `${flatName(p)}: ${flatType(p)}`);
  if (fm.returnArea !== undefined) coreParams.push('retArea: usize');
  const coreResult = fm.flatResults[0] === undefined ? 'void' : fm.flatResults[0] === 'i64' ? 'u64' : fm.flatResults[0] === 'i32' ? 'u32' : fm.flatResults[0]!;
  const before: string[] = [];
  const after: string[] = [];
  const args: string[] = [];
  for (const p of fn.params) {
    const v = camel(p.name);
    const r = resolve(p.type);
    if (r.kind === 'primitive' && r.name === 'string') {
      // Encoded on the raw heap, not into a managed buffer: the call creates no garbage.
      before.push(`  const ${v}Len = <usize>String.UTF8.byteLength(${v});`, `  const ${v}Ptr = heap.alloc(${v}Len);`);
      before.push(`  String.UTF8.encodeUnsafe(changetype<usize>(${v}), ${v}.length, ${v}Ptr, false, String.UTF8.ErrorMode.REPLACE);`);
      after.push(`  heap.free(${v}Ptr);`);
      args.push(`${v}Ptr`, `${v}Len`);
    } else if (isBytes(p.type)) {
      before.push(`  const ${v}Len = <usize>${v}.length;`, `  const ${v}Ptr = heap.alloc(${v}Len);`, `  memory.copy(${v}Ptr, ${v}.dataStart, ${v}Len);`);
      after.push(`  heap.free(${v}Ptr);`);
      args.push(`${v}Ptr`, `${v}Len`);
    } else if (r.kind === 'primitive') {
      args.push(r.name === 'bool' ? `${v} ? 1 : 0` : ['u64', 's64', 'f32', 'f64'].includes(r.name) ? v : `<u32>${v}`);
    } else if (r.kind === 'enum') {
      args.push(`<u32>${v}`);
    } else {
      unsupported(`an import parameter of type ${witName(p.type)}`);
    }
  }
  if (fm.returnArea !== undefined) args.push('RET_AREA');
  const params = fn.params.map((p) => {
    useTypeNames(file, p.type);
    return `${camel(p.name)}: ${asType(p.type)}`;
  });
  const call = `${host}(${args.join(', ')})`;
  const body: string[] = [...before];
  let returns = 'void';
  const result = fn.result;
  if (result === undefined) {
    body.push(`  ${call};`, ...after);
  } else if (fm.returnArea === undefined) {
    returns = asType(result);
    const r = resolve(result);
    body.push(`  const result = ${call};`, ...after);
    body.push(`  return ${r.kind === 'primitive' && r.name === 'bool' ? 'result != 0' : r.kind === 'enum' ? `${h.liftEnum(file, result)}(result)` : returns === coreResult ? 'result' : `<${returns}>result`};`);
  } else {
    body.push(`  ${call};`, ...after);
    const r = resolve(result);
    if (r.kind === 'result') {
      if (r.err === undefined) return unsupported('a result without an error type');
      const { discriminantSize, payloadOffset } = variantLayout(r, [r.ok, r.err]);
      const check = file.use('./abi', 'checkDiscriminant');
      const err = h.load(file, r.err, 'RET_AREA', payloadOffset);
      body.push(`  const tag = <u32>load<${uint(discriminantSize)}>(RET_AREA);`, `  ${check}(tag, 2, "result");`);
      if (r.ok === undefined) {
        returns = `${asType(r.err)} | null`;
        body.push(`  return tag == 0 ? null : ${err};`);
      } else {
        returns = `${pascal(fn.name)}Result`;
        const ok = asType(r.ok);
        body.push(`  if (tag == 0) return new ${returns}(${h.load(file, r.ok, 'RET_AREA', payloadOffset)}, null);`, `  return new ${returns}(${defaultValue(r.ok) ?? unsupported(`a result whose ok value is a ${resolve(r.ok).kind}`)}, ${err});`);
        useTypeNames(file, r.err);
        return `/** What \`${fn.name}\` answers: \`value\`, or an error. */
export class ${returns} {
  constructor(public value: ${ok}, public error: ${asType(r.err)} | null) {}
}

${importDeclaration(fm, host, coreParams, coreResult)}

${signatureComment(fn)}
export function ${camel(fn.name)}(${params.join(', ')}): ${returns} {
${body.join('\n')}
}`;
      }
      useTypeNames(file, r.err);
    } else {
      returns = asType(result);
      body.push(`  return ${h.load(file, result, 'RET_AREA', 0)};`);
    }
  }
  return `${importDeclaration(fm, host, coreParams, coreResult)}

${signatureComment(fn)}
export function ${camel(fn.name)}(${params.join(', ')}): ${returns} {
${body.join('\n')}
}`;
}

function importDeclaration(fm: FunctionModel, host: string, coreParams: string[], coreResult: string): string {
  return `// @ts-ignore: decorator
@external("${fm.module}", "${fm.coreName}")
declare function ${host}(${coreParams.join(', ')}): ${coreResult};`;
}

// ---------------------------------------------------------------------------------------
// The files.

function abiFile(h: Helpers): string {
  const f = h.file('abi');
  const header = (ptr: string, len: string): string => `  store<u32>(at, ${ptr}${PTR_AT === 0 ? '' : `, ${PTR_AT}`});\n  store<u32>(at, ${len}, ${LEN_AT});`;
  for (const name of ['releaseBlock', 'arenaAlloc', 'RawBytes', 'lend']) f.use(MEMORY, name);
  const fixed = `/** A string the host passed: decoded, then its block freed (the callee owns its arguments). A zero-length one may carry any pointer. */
export function liftString(ptr: usize, len: usize): string {
  if (len == 0) return "";
  const s = String.UTF8.decodeUnsafe(ptr, len);
  releaseBlock(ptr, len);
  return s;
}

/** A byte list the host passed: copied into a managed array, then its block freed. */
export function liftBytes(ptr: usize, len: usize): Uint8Array {
  const bytes = new Uint8Array(<i32>len);
  if (len != 0) {
    memory.copy(bytes.dataStart, ptr, len);
    releaseBlock(ptr, len);
  }
  return bytes;
}

export function lowerString(at: usize, s: string): void {
  const len = <usize>String.UTF8.byteLength(s);
  const ptr = arenaAlloc(len, 1);
  // REPLACE: an AssemblyScript string may hold a lone surrogate, which is not valid UTF-8 on the wire.
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, ptr, false, String.UTF8.ErrorMode.REPLACE);
${header('ptr', 'len')}
}

export function lowerBytes(at: usize, bytes: Uint8Array): void {
  const len = <usize>bytes.length;
  const ptr = arenaAlloc(len, 1);
  memory.copy(ptr, bytes.dataStart, len);
${header('ptr', 'len')}
}

/** A raw block answered as a byte list: lent to the host as is, released after it read it. An empty list owns no memory: any pointer will do. */
export function lendRawBytes(at: usize, bytes: RawBytes): void {
  lend(bytes);
${header('bytes.length != 0 ? bytes.ptr : 1', 'bytes.length')}
}

/** Traps, as the canonical ABI requires, on a discriminant outside the type's cases. */
export function checkDiscriminant(value: u32, cases: u32, type: string): void {
  if (value >= cases) {
    throw new Error("canonical ABI: discriminant " + value.toString() + " out of range for " + type);
  }
}

/** An option's flat discriminant: whether a value follows; traps on anything but 0 or 1. */
export function isSome(discriminant: u32): bool {
  checkDiscriminant(discriminant, 2, "option");
  return discriminant != 0;
}`;
  return fixed;
}

function fileText(path: string, intro: string, file: FileText, blocks: string[]): GeneratedFile {
  const head = `${generatedHeader('//')}${intro}`;
  const imports = file.importLines().join('\n');
  return { path, text: [head + (imports === '' ? '' : `\n${imports}`), ...blocks].filter((b) => b !== '').join('\n\n') + '\n' };
}

export function generateAssemblyScript(pkg: WitPackage): GeneratedFile[] {
  const h = new Helpers();
  const { exported, imported } = interfaceRoles(pkg);
  const files: GeneratedFile[] = [];
  // cabi_realloc comes once per module: with the interface a world is built on, not its optional ones.
  const primary = new Set(worlds(pkg).map((w) => w.exports[0]!));
  for (const name of exported) files.push(exportsFile(pkg, h, name, primary.has(name)));
  const pkgName = `${pkg.namespace}:${pkg.name}@${pkg.version}`;
  for (const iface of pkg.interfaces.values()) {
    const file = new FileText(`./${iface.name}`);
    const blocks = typeDeclarations(file, iface);
    const isImport = imported.includes(iface.name) && !exported.includes(iface.name);
    if (isImport) blocks.push(...importFunctions(pkg, h, file, iface.name));
    if (blocks.length === 0) continue;
    const intro = isImport
      ? `// Interface \`${iface.name}\` of ${pkgName}: its types, and typed calls of the host's functions (imported only when called).`
      : `// The types of interface \`${iface.name}\` of ${pkgName}, as AssemblyScript classes and enums.`;
    files.push(fileText(`${AS_OUT_DIR}/${iface.name}.ts`, intro, file, blocks));
  }
  const abi = abiFile(h);
  for (const [name, file] of h.files) {
    if (name === 'abi') {
      files.push(fileText(`${AS_OUT_DIR}/abi.ts`, `// Strings and byte lists in canonical ABI form: what every generated file of ${pkgName} shares.`, file, [abi, ...file.body]));
    } else {
      files.push(fileText(`${AS_OUT_DIR}/${name}-abi.ts`, `// Lifting and lowering the types of interface \`${name}\` of ${pkgName}.`, file, file.body));
    }
  }
  return files;
}
