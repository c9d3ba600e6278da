// The C++ SDK's side of the generated glue, under sdk/cpp/include/tessera/generated/:
// - `package.h`: the WIT package version and the `cabi_realloc` export;
// - `<interface>.h`: the WIT's enums, records and variants of an interface as C++ types in
//   namespace `tessera` (those of a host interface prefixed with its name: `LogLevel`);
// - `abi/<interface>.h`: the canonical-ABI glue: for an interface a world exports, one
//   function per WIT function (flat lifting of the arguments, the call on a handler, the
//   result parked until the post-return and lowered into the return area) and a macro that
//   defines the core exports under their `<interface>#<func>` names; for an imported one, the
//   core import and a typed wrapper. Each named type's lifting and lowering is emitted once,
//   in the file of the interface that defines it.
// Every offset and size comes from model.ts; the hand-written runtime the glue calls
// (sdk/cpp/include/tessera/detail/runtime.h) only moves bytes and owns memory.
import type { WitFunction, WitInterface, WitPackage, WitType } from '../../sandbox/wit/ast.ts';
import { flattenType } from '../../sandbox/abi-layout.ts';
import {
  docComment,
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
  type CoreType,
  type FunctionModel,
  type GeneratedFile,
} from './model.ts';

export const CPP_OUT_DIR = 'sdk/cpp/include/tessera/generated';

type Named = WitType & { kind: 'named' };

/**
 * WIT types the SDK writes by hand as idiomatic classes: the generator names them and calls
 * their lifting and lowering (emitted here, from the WIT's layout) through the members given.
 * `metadata` is a `Metadata` built from and iterated as its pairs; `error` is an `Error` whose
 * `kind` is the generated `ErrorKind` (the variant's cases) and whose `message` is the payload.
 */
const SDK_TYPES: Record<string, string> = { metadata: 'Metadata', error: 'Error' };

const KEYWORDS = new Set(
  ('alignas alignof and asm auto bool break case catch char class const constexpr continue default delete do double else ' +
    'enum explicit export extern false float for friend goto if inline int long mutable namespace new noexcept not nullptr ' +
    'operator or private protected public register return short signed sizeof static struct switch template this throw ' +
    'true try typedef typeid typename union unsigned using virtual void volatile while xor').split(' '),
);

/** A C++ identifier from a WIT name: `bulk-get` -> `bulk_get`; a keyword gets a trailing `_`. */
function ident(witName: string): string {
  const name = snake(witName);
  return KEYWORDS.has(name) ? `${name}_` : name;
}

/** The method a handler implements for a WIT function: `delete` is `del` (the SDK's spelling), other keywords get `_`. */
function methodName(witName: string): string {
  return witName === 'delete' ? 'del' : ident(witName);
}

function unsupported(what: string): never {
  throw new Error(`bindgen (C++): ${what} is not supported by the C++ generator yet; extend host/toolchain/bindgen/cpp.ts`);
}

/** Where a WIT string's or list's pointer and length sit in its 8 bytes (two u32 fields). */
const [PTR_AT, LEN_AT] = recordFields([
  { name: 'ptr', type: { kind: 'primitive', name: 'u32' } },
  { name: 'len', type: { kind: 'primitive', name: 'u32' } },
]).map((f) => f.offset) as [number, number];

/** `base + offset`, folding constants: `at('p + 8', 4)` is `p + 12`. */
function at(base: string, offset: number): string {
  const m = /^(.*) \+ (\d+)$/.exec(base);
  const [b, o] = m === null ? [base, offset] : [m[1]!, Number(m[2]) + offset];
  return o === 0 ? b : `${b} + ${o}`;
}

// ---------------------------------------------------------------------------------------
// Names of types.

class Names {
  private readonly imported: ReadonlySet<string>;

  constructor(imported: ReadonlySet<string>) {
    this.imported = imported;
  }

  /** The C++ name of a named WIT type: `GetRequest`; a host interface's `level` is `LogLevel`. */
  typeName(n: { name: string; interface: string }): string {
    if (SDK_TYPES[n.name] !== undefined && n.interface === 'types') return SDK_TYPES[n.name]!;
    return this.imported.has(n.interface) ? pascal(n.interface) + pascal(n.name) : pascal(n.name);
  }

  /** The suffix of a named type's helpers: `lift_get_request`, `lower_log_level`. */
  helperName(n: { name: string; interface: string }): string {
    return this.imported.has(n.interface) ? `${snake(n.interface)}_${snake(n.name)}` : snake(n.name);
  }

  cppType(t: WitType): string {
    switch (t.kind) {
      case 'named':
        return this.typeName(t);
      case 'primitive':
        return PRIMITIVES[t.name];
      case 'list': {
        const e = resolve(t.element);
        if (e.kind === 'primitive' && e.name === 'u8') return 'Bytes';
        return `std::vector<${this.cppType(t.element)}>`;
      }
      case 'option':
        return `std::optional<${this.cppType(t.inner)}>`;
      case 'result':
        if (t.err === undefined || !isError(t.err)) unsupported('a result whose error is not `error`');
        return t.ok === undefined ? 'Status' : `Result<${this.cppType(t.ok)}>`;
      case 'tuple':
        return t.elements.length === 2
          ? `std::pair<${t.elements.map((e) => this.cppType(e)).join(', ')}>`
          : `std::tuple<${t.elements.map((e) => this.cppType(e)).join(', ')}>`;
      default:
        return unsupported(`an anonymous ${t.kind}`);
    }
  }
}

const PRIMITIVES = {
  bool: 'bool',
  u8: 'std::uint8_t',
  u16: 'std::uint16_t',
  u32: 'std::uint32_t',
  u64: 'std::uint64_t',
  s8: 'std::int8_t',
  s16: 'std::int16_t',
  s32: 'std::int32_t',
  s64: 'std::int64_t',
  f32: 'float',
  f64: 'double',
  char: 'char32_t',
  string: 'std::string',
} as const;

const CORE: Record<CoreType, string> = { i32: 'std::uint32_t', i64: 'std::uint64_t', f32: 'float', f64: 'double' };

function isError(t: WitType): boolean {
  return t.kind === 'named' && t.name === 'error' && t.interface === 'types';
}

/** A named type that is only another name (`type id = string`): its value is lifted and lowered as what it names. */
function isPlainAlias(t: Named): boolean {
  return !['record', 'variant', 'enum', 'list', 'flags'].includes(t.type.kind) && SDK_TYPES[t.name] === undefined;
}

/** `v` where a postfix operator follows it: `*x` becomes `(*x)`. */
function operand(v: string): string {
  return /^[\w.]+$/.test(v) ? v : `(${v})`;
}

function isBytes(t: WitType): boolean {
  const r = resolve(t);
  if (r.kind !== 'list') return false;
  const e = resolve(r.element);
  return e.kind === 'primitive' && e.name === 'u8';
}

// ---------------------------------------------------------------------------------------
// Memory: lifting an expression from `p`, lowering a value into `at`.

/** The `load_…`/`store_…` of a discriminant of `size` bytes. */
function discWidth(size: 1 | 2 | 4): string {
  return size === 1 ? 'u8' : size === 2 ? 'u16' : 'u32';
}

class Emitter {
  /** Named types whose lift (lower) helper some function needs. */
  readonly lifts = new Set<Named>();
  readonly lowers = new Set<Named>();
  readonly names: Names;

  constructor(names: Names) {
    this.names = names;
  }

  /** An expression of the lifted value of type `t` stored at `p`. */
  liftMem(t: WitType, p: string): string {
    if (t.kind === 'named' && isPlainAlias(t)) return this.liftMem(t.type, p);
    if (t.kind === 'named') {
      const r = t.type;
      if (r.kind === 'enum') return `static_cast<${this.names.typeName(t)}>(checked_case(load_${discWidth(variantLayout(r, r.cases.map(() => undefined)).discriminantSize)}(${p}), ${r.cases.length}))`;
      this.needLift(t);
      if (r.kind === 'list') return `lift_${this.names.helperName(t)}(load_u32(${at(p, PTR_AT)}), load_u32(${at(p, LEN_AT)}))`;
      return `lift_${this.names.helperName(t)}(${p})`;
    }
    switch (t.kind) {
      case 'primitive':
        if (t.name === 'string') return `lift_string(load_u32(${at(p, PTR_AT)}), load_u32(${at(p, LEN_AT)}))`;
        if (t.name === 'bool') return `load_u8(${p}) != 0`;
        return `load<${PRIMITIVES[t.name]}>(${p})`;
      case 'list':
        return this.liftList(t, `load_u32(${at(p, PTR_AT)})`, `load_u32(${at(p, LEN_AT)})`);
      case 'option': {
        const v = variantLayout(t, [undefined, t.inner]);
        const type = this.names.cppType(t);
        return `checked_case(load_${discWidth(v.discriminantSize)}(${p}), 2) == 0 ? ${type}() : ${type}(${this.liftMem(t.inner, at(p, v.payloadOffset))})`;
      }
      case 'result': {
        const v = variantLayout(t, [t.ok, t.err]);
        const type = this.names.cppType(t);
        const ok = t.ok === undefined ? `${type}()` : `${type}(${this.liftMem(t.ok, at(p, v.payloadOffset))})`;
        return `checked_case(load_${discWidth(v.discriminantSize)}(${p}), 2) == 0 ? ${ok} : ${type}(${this.liftMem(t.err!, at(p, v.payloadOffset))})`;
      }
      case 'tuple': {
        const fields = recordFields(t.elements.map((type, i) => ({ name: `${i}`, type })));
        return `${this.names.cppType(t)}{${fields.map((f) => this.liftMem(f.type, at(p, f.offset))).join(', ')}}`;
      }
      default:
        return unsupported(`an anonymous ${t.kind}`);
    }
  }

  /** A list from its pointer and length: bytes are copied out, other elements lifted one by one; the host's block is freed. */
  liftList(t: WitType & { kind: 'list' }, ptr: string, len: string): string {
    if (isBytes(t)) return `lift_bytes(${ptr}, ${len})`;
    const e = 'elem';
    const size = layoutOf(t.element).size;
    return `lift_list<${this.names.cppType(t.element)}>(${ptr}, ${len}, ${size}, [](const std::uint8_t* ${e}) { return ${this.liftMem(t.element, e)}; })`;
  }

  /** Statements that lower `v` (of type `t`) into memory at `p`. */
  lowerMem(t: WitType, v: string, p: string): string[] {
    if (t.kind === 'named' && isPlainAlias(t)) return this.lowerMem(t.type, v, p);
    if (t.kind === 'named') {
      const r = t.type;
      if (r.kind === 'enum') {
        const size = variantLayout(r, r.cases.map(() => undefined)).discriminantSize;
        return [`store_${discWidth(size)}(${p}, checked_case(static_cast<std::uint32_t>(${v}), ${r.cases.length}));`];
      }
      this.needLower(t);
      if (r.kind === 'list') return [`store_list(${at(p, PTR_AT)}, ${at(p, LEN_AT)}, lower_${this.names.helperName(t)}(${v}));`];
      return [`lower_${this.names.helperName(t)}(${p}, ${v});`];
    }
    switch (t.kind) {
      case 'primitive':
        if (t.name === 'string') return [`store_list(${at(p, PTR_AT)}, ${at(p, LEN_AT)}, lower_string(${v}));`];
        if (t.name === 'bool') return [`store_u8(${p}, ${v} ? 1 : 0);`];
        return [`store<${PRIMITIVES[t.name]}>(${p}, ${v});`];
      case 'list':
        return [`store_list(${at(p, PTR_AT)}, ${at(p, LEN_AT)}, ${this.lowerList(t, v)});`];
      case 'option': {
        const l = variantLayout(t, [undefined, t.inner]);
        const d = discWidth(l.discriminantSize);
        return [`if (${v}) {`, `  store_${d}(${p}, 1);`, ...indent(this.lowerMem(t.inner, `*${v}`, at(p, l.payloadOffset))), '} else {', `  store_${d}(${p}, 0);`, '}'];
      }
      case 'result': {
        const l = variantLayout(t, [t.ok, t.err]);
        const d = discWidth(l.discriminantSize);
        const ok = t.ok === undefined ? [] : this.lowerMem(t.ok, `*${v}`, at(p, l.payloadOffset));
        return [
          `if (${operand(v)}.ok()) {`,
          `  store_${d}(${p}, 0);`,
          ...indent(ok),
          '} else {',
          `  store_${d}(${p}, 1);`,
          ...indent(this.lowerMem(t.err!, `${operand(v)}.error()`, at(p, l.payloadOffset))),
          '}',
        ];
      }
      case 'tuple': {
        const fields = recordFields(t.elements.map((type, i) => ({ name: `${i}`, type })));
        const get = (i: number) => (t.elements.length === 2 ? `${operand(v)}.${i === 0 ? 'first' : 'second'}` : `std::get<${i}>(${v})`);
        return fields.flatMap((f, i) => this.lowerMem(f.type, get(i), at(p, f.offset)));
      }
      default:
        return unsupported(`an anonymous ${t.kind}`);
    }
  }

  /** An expression lowering a list into a fresh array of the per-call arena (bytes are lent as they are); gives its (ptr, len). */
  lowerList(t: WitType & { kind: 'list' }, v: string): string {
    if (isBytes(t)) return `lend_bytes(${v})`;
    const size = layoutOf(t.element).size;
    const body = this.lowerMem(t.element, 'item', 'elem');
    const lambda = `[](std::uint8_t* elem, const ${this.names.cppType(t.element)}& item) {`;
    return body.length === 1 ? `lower_list(${v}, ${size}, ${lambda} ${body[0]} })` : `lower_list(${v}, ${size}, ${lambda}\n${indent(body, '    ').join('\n')}\n  })`;
  }

  needLift(t: Named): void {
    if (this.lifts.has(t)) return;
    this.lifts.add(t);
  }

  /** Anonymous result types of exports, by the interface whose glue defines their helper and their shape. */
  readonly results = new Map<string, { type: WitType; home: string; key: string }>();

  /**
   * The helper that lowers an export's anonymous result type (`lower_result_error(p, value)`
   * for `result<_, error>`): emitted once, in the glue of `types` when it holds only shared
   * types, else in the glue of the interface that returns it.
   */
  resultHelper(t: WitType, iface: string): string {
    const key = shapeName(t, this.names);
    const uses = new Set<string>();
    collectUses(t, uses);
    const home = [...uses].every((u) => u === 'types') ? 'types' : iface;
    if (!this.results.has(`${home} ${key}`)) this.results.set(`${home} ${key}`, { type: t, home, key });
    return `lower_${key}`;
  }

  needLower(t: Named): void {
    if (this.lowers.has(t)) return;
    this.lowers.add(t);
  }
}

/** A name for an anonymous type's helper, from its shape: `result<list<message>, error>` -> `result_list_message_error`. */
function shapeName(t: WitType, names: Names): string {
  switch (t.kind) {
    case 'named':
      return names.helperName(t);
    case 'primitive':
      return t.name;
    case 'list':
      return `list_${shapeName(t.element, names)}`;
    case 'option':
      return `option_${shapeName(t.inner, names)}`;
    case 'result':
      return ['result', t.ok === undefined ? undefined : shapeName(t.ok, names), t.err === undefined ? 'unit' : shapeName(t.err, names)].filter((w) => w !== undefined).join('_');
    case 'tuple':
      return `tuple_${t.elements.map((e) => shapeName(e, names)).join('_')}`;
    default:
      return unsupported(`an anonymous ${t.kind}`);
  }
}

function indent(lines: string[], by = '  '): string[] {
  return lines.map((l) => (l === '' ? l : by + l));
}

// ---------------------------------------------------------------------------------------
// Types.

/** Records that a component builds (they travel in an export's result): they get constructors. */
function builtRecords(pkg: WitPackage, exported: string[]): Set<WitType> {
  const built = new Set<WitType>();
  const walk = (t: WitType): void => {
    switch (t.kind) {
      case 'named':
        if (built.has(t.type)) return;
        if (t.type.kind === 'record') built.add(t.type);
        walk(t.type);
        return;
      case 'list':
        return walk(t.element);
      case 'option':
        return walk(t.inner);
      case 'result':
        if (t.ok) walk(t.ok);
        if (t.err) walk(t.err);
        return;
      case 'tuple':
        return t.elements.forEach(walk);
      case 'record':
        return t.fields.forEach((f) => walk(f.type));
      case 'variant':
        return t.cases.forEach((c) => c.type && walk(c.type));
      default:
        return;
    }
  };
  for (const name of exported) for (const fn of pkg.interfaces.get(name)!.functions) if (fn.result) walk(fn.result);
  return built;
}

/** Whether a field can be left out of a constructor call: an option or a list starts empty. */
function defaultsEmpty(t: WitType): boolean {
  const r = resolve(t);
  return r.kind === 'option' || r.kind === 'list';
}

function fieldInitialiser(names: Names, t: WitType): string {
  const r = resolve(t);
  if (r.kind === 'enum') return ` = ${names.cppType(t)}::${pascal(r.cases[0]!)}`;
  if (r.kind === 'primitive' && r.name !== 'string') return r.name === 'bool' ? ' = false' : ' = 0';
  return '';
}

function typeDeclaration(names: Names, named: Named, built: Set<WitType>): string | undefined {
  const name = names.typeName(named);
  const t = named.type;
  switch (t.kind) {
    case 'enum':
      return [
        `/** WIT enum \`${named.name}\`, numbered as the canonical ABI numbers its cases. */`,
        `enum class ${name} : std::uint8_t { ${t.cases.map((c, i) => `${pascal(c)} = ${i}`).join(', ')} };`,
      ].join('\n');
    case 'record': {
      const lines = [`/** WIT record \`${named.name}\`. */`, `struct ${name} {`];
      if (built.has(t)) {
        // Fields after the first that are options or lists may be left out, trailing ones first.
        let firstOptional = t.fields.length;
        while (firstOptional > 1 && defaultsEmpty(t.fields[firstOptional - 1]!.type)) firstOptional--;
        const params = t.fields.map((f, i) => `${names.cppType(f.type)} ${ident(f.name)}${i >= firstOptional ? ' = {}' : ''}`);
        const inits = t.fields.map((f) => `${ident(f.name)}(std::move(${ident(f.name)}))`);
        lines.push(`  ${name}() = default;`);
        lines.push(`  ${firstOptional <= 1 ? 'explicit ' : ''}${name}(${params.join(', ')})`);
        lines.push(`      : ${inits.join(', ')} {}`);
        lines.push('');
      }
      for (const f of t.fields) lines.push(`${docComment(f.docs, '  ', '///')}  ${names.cppType(f.type)} ${ident(f.name)}${fieldInitialiser(names, f.type)};`);
      lines.push('};');
      return lines.join('\n');
    }
    case 'variant': {
      if (SDK_TYPES[named.name] !== undefined && named.interface === 'types') {
        // The SDK's own class; the generated part is the enum of its cases.
        return [
          `/** The cases of WIT variant \`${named.name}\`, numbered as the canonical ABI numbers them. */`,
          `enum class ${name}Kind : std::uint8_t {`,
          ...t.cases.map((c, i) => `${docComment(c.docs, '  ', '///')}  ${pascal(c.name)} = ${i},`),
          '};',
        ].join('\n');
      }
      const payloads = t.cases.map((c) => (c.type === undefined ? 'std::monostate' : names.cppType(c.type)));
      if (new Set(payloads).size !== payloads.length) unsupported(`variant \`${named.name}\` (two cases with one payload type)`);
      return [
        `/** WIT variant \`${named.name}\`: ${t.cases.map((c, i) => `\`${c.name}\` is alternative ${i}`).join(', ')}. */`,
        `using ${name} = std::variant<${payloads.join(', ')}>;`,
      ].join('\n');
    }
    case 'list':
    case 'tuple':
    case 'option':
    case 'primitive':
      if (SDK_TYPES[named.name] !== undefined && named.interface === 'types') return undefined;
      return `using ${name} = ${names.cppType(t)};`;
    default:
      return unsupported(`${t.kind} \`${named.name}\``);
  }
}

function typesFile(pkg: WitPackage, iface: WitInterface, names: Names, built: Set<WitType>): GeneratedFile | undefined {
  const decls = namedTypes(iface)
    .map(({ name, type }) => {
      const decl = typeDeclaration(names, { kind: 'named', name, interface: iface.name, type }, built);
      const witDocs = iface.typeDocs.get(name);
      if (decl === undefined || witDocs === undefined) return decl;
      // The WIT's doc comment leads the declaration's own one-line comment, in one comment.
      const own = /^\/\*\* (.*) \*\/\n/.exec(decl);
      return own === null ? docComment(witDocs, '', '/**') + decl : docComment(`${witDocs}\n\n${own[1]}`, '', '/**') + decl.slice(own[0].length);
    })
    .filter((d): d is string => d !== undefined);
  if (decls.length === 0) return undefined;
  const includes =
    iface.name === 'types'
      ? ['#include <cstdint>']
      : ['#include <cstdint>', '#include <optional>', '#include <string>', '#include <utility>', '#include <variant>', '#include <vector>', '', '#include "../types.h"'];
  const used = new Set<string>();
  for (const { type } of namedTypes(iface)) collectUses(type, used);
  for (const other of [...used].filter((u) => u !== iface.name && u !== 'types').sort()) includes.push(`#include "${fileName(other)}"`);
  const text = [
    generatedHeader('//').trimEnd(),
    `// The types of WIT interface \`${iface.name}\` of ${pkg.namespace}:${pkg.name}@${pkg.version}.`,
    '#pragma once',
    '',
    ...includes,
    '',
    'namespace tessera {',
    '',
    decls.join('\n\n'),
    '',
    '}  // namespace tessera',
    '',
  ].join('\n');
  return { path: `${CPP_OUT_DIR}/${fileName(iface.name)}`, text };
}

function collectUses(t: WitType, into: Set<string>): void {
  switch (t.kind) {
    case 'named':
      into.add(t.interface);
      return;
    case 'list':
      return collectUses(t.element, into);
    case 'option':
      return collectUses(t.inner, into);
    case 'result':
      if (t.ok) collectUses(t.ok, into);
      if (t.err) collectUses(t.err, into);
      return;
    case 'tuple':
      return t.elements.forEach((e) => collectUses(e, into));
    case 'record':
      return t.fields.forEach((f) => collectUses(f.type, into));
    case 'variant':
      return t.cases.forEach((c) => c.type && collectUses(c.type, into));
    default:
      return;
  }
}

function fileName(iface: string): string {
  return `${snake(iface)}.h`;
}

// ---------------------------------------------------------------------------------------
// Helpers of named types: `lift_<type>` and `lower_<type>`, emitted once in their interface's glue.

function liftHelper(em: Emitter, n: Named): string[] {
  const names = em.names;
  const name = names.typeName(n);
  const fn = `lift_${names.helperName(n)}`;
  const t = n.type;
  switch (t.kind) {
    case 'record': {
      const fields = recordFields(t.fields);
      return [
        `/** Lifts a \`${n.name}\` (${layoutOf(n).size} bytes) from \`p\`. */`,
        `inline ${name} ${fn}(const std::uint8_t* p) {`,
        `  ${name} value;`,
        ...fields.map((f) => `  value.${ident(f.name)} = ${em.liftMem(f.type, at('p', f.offset))};`),
        '  return value;',
        '}',
      ];
    }
    case 'variant': {
      const l = variantLayout(n, t.cases.map((c) => c.type));
      if (isError(n)) {
        const payload = t.cases[0]!.type!;
        return [
          `/** Lifts an \`${n.name}\` (${l.size} bytes) from \`p\`. */`,
          `inline ${name} ${fn}(const std::uint8_t* p) {`,
          `  return ${name}{static_cast<${name}Kind>(checked_case(load_${discWidth(l.discriminantSize)}(p), ${t.cases.length})), ${em.liftMem(payload, at('p', l.payloadOffset))}};`,
          '}',
        ];
      }
      const cases = t.cases.map((c, i) =>
        c.type === undefined
          ? `    case ${i}: return ${name}(std::in_place_index<${i}>);`
          : `    case ${i}: return ${name}(std::in_place_index<${i}>, ${em.liftMem(c.type, at('p', l.payloadOffset))});`,
      );
      return [
        `/** Lifts a \`${n.name}\` (${l.size} bytes) from \`p\`. */`,
        `inline ${name} ${fn}(const std::uint8_t* p) {`,
        `  switch (checked_case(load_${discWidth(l.discriminantSize)}(p), ${t.cases.length})) {`,
        ...cases,
        '  }',
        '  trap();',
        '}',
      ];
    }
    case 'list': {
      const expr = em.liftList(t, 'ptr', 'len');
      return [
        `/** Lifts a \`${n.name}\` from its array; frees the array. */`,
        `inline ${name} ${fn}(std::uint32_t ptr, std::uint32_t len) {`,
        `  return ${name}(${expr});`,
        '}',
      ];
    }
    default:
      return unsupported(`lifting ${t.kind} \`${n.name}\``);
  }
}

function lowerHelper(em: Emitter, n: Named): string[] {
  const names = em.names;
  const name = names.typeName(n);
  const fn = `lower_${names.helperName(n)}`;
  const t = n.type;
  switch (t.kind) {
    case 'record': {
      const fields = recordFields(t.fields);
      return [
        `/** Lowers a \`${n.name}\` (${layoutOf(n).size} bytes) into \`p\`. */`,
        `inline void ${fn}(std::uint8_t* p, const ${name}& value) {`,
        ...indent(fields.flatMap((f) => em.lowerMem(f.type, `value.${ident(f.name)}`, at('p', f.offset)))),
        '}',
      ];
    }
    case 'variant': {
      const l = variantLayout(n, t.cases.map((c) => c.type));
      const d = discWidth(l.discriminantSize);
      if (isError(n)) {
        return [
          `/** Lowers an \`${n.name}\` (${l.size} bytes) into \`p\`. */`,
          `inline void ${fn}(std::uint8_t* p, const ${name}& value) {`,
          `  store_${d}(p, checked_case(static_cast<std::uint32_t>(value.kind), ${t.cases.length}));`,
          ...indent(em.lowerMem(t.cases[0]!.type!, 'value.message', at('p', l.payloadOffset))),
          '}',
        ];
      }
      const cases = t.cases.flatMap((c, i) => [
        `    case ${i}:`,
        `      store_${d}(p, ${i});`,
        ...indent(c.type === undefined ? [] : em.lowerMem(c.type, `*std::get_if<${i}>(&value)`, at('p', l.payloadOffset)), '      '),
        '      return;',
      ]);
      return [
        `/** Lowers a \`${n.name}\` (${l.size} bytes) into \`p\`. */`,
        `inline void ${fn}(std::uint8_t* p, const ${name}& value) {`,
        '  switch (value.index()) {',
        ...cases,
        '  }',
        '}',
      ];
    }
    case 'list':
      return [
        `/** Lowers a \`${n.name}\` into a fresh array of the call's arena. */`,
        `inline Lowered ${fn}(const ${name}& value) {`,
        `  return ${em.lowerList(t, 'value')};`,
        '}',
      ];
    default:
      return unsupported(`lowering ${t.kind} \`${n.name}\``);
  }
}

function resultHelper(em: Emitter, t: WitType, key: string): string[] {
  return [
    `/** Lowers a \`${showType(t)}\` (${layoutOf(t).size} bytes) into \`p\`. */`,
    `inline void lower_${key}(std::uint8_t* p, const ${em.names.cppType(t)}& value) {`,
    ...indent(em.lowerMem(t, 'value', 'p')),
    '}',
  ];
}

/**
 * The helpers of an interface's named types that some function needs, declared first (a
 * helper may call another, in any order) and then defined; run until no new need appears.
 */
function helpersOf(em: Emitter, iface: string): string[] {
  const declarations: string[] = [];
  const definitions: string[] = [];
  const done = new Set<string>();
  for (;;) {
    const pending = [
      ...[...em.results.values()].filter((r) => r.home === iface && !done.has(`result ${r.key}`)).map((r) => () => {
        done.add(`result ${r.key}`);
        return resultHelper(em, r.type, r.key);
      }),
      ...[...em.lifts].filter((n) => n.interface === iface && !done.has(`lift ${n.name}`)).map((n) => () => {
        done.add(`lift ${n.name}`);
        return liftHelper(em, n);
      }),
      ...[...em.lowers].filter((n) => n.interface === iface && !done.has(`lower ${n.name}`)).map((n) => () => {
        done.add(`lower ${n.name}`);
        return lowerHelper(em, n);
      }),
    ];
    if (pending.length === 0) break;
    for (const make of pending) {
      const helper = make();
      declarations.push(helper.find((l) => l.startsWith('inline '))!.replace(/ \{$/, ';'));
      definitions.push('', ...helper);
    }
  }
  return declarations.length === 0 ? [] : ['', ...declarations, ...definitions];
}

// ---------------------------------------------------------------------------------------
// Exports.

function flatName(words: string[]): string {
  return ident(words.join('-'));
}

/** Lifts the flat arguments of an export: statements that declare one local per WIT parameter. */
function liftFlatParams(em: Emitter, fm: FunctionModel): { lines: string[]; args: string[] } {
  const lines: string[] = [];
  if (fm.paramsSpill) {
    const fields = recordFields(fm.fn.params);
    for (const [i, p] of fm.fn.params.entries()) {
      lines.push(`${em.names.cppType(p.type)} ${ident(p.name)} = ${em.liftMem(p.type, at('args', fields[i]!.offset))};`);
    }
    lines.push('free_block(args, 1);');
    return { lines, args: fm.fn.params.map((p) => `std::move(${ident(p.name)})`) };
  }
  const queue = fm.flatParams.map((p) => ({ name: flatName(p.words), core: p.core }));
  const cores = new Map(queue.map((q) => [q.name, q.core]));
  const take = (): string => queue.shift()!.name;
  const liftValue = (t: WitType, target: string | undefined, topLevel: boolean): string | undefined => {
    const r = resolve(t);
    const assign = (expr: string): undefined => {
      lines.push(`${target} = ${expr};`);
      return undefined;
    };
    let expr: string;
    switch (r.kind) {
      case 'primitive':
        if (r.name === 'string') {
          const ptr = take();
          expr = `lift_string(${ptr}, ${take()})`;
        } else if (r.name === 'bool') expr = `${take()} != 0`;
        else {
          const value = take();
          expr = PRIMITIVES[r.name] === CORE[cores.get(value)!] ? value : `static_cast<${PRIMITIVES[r.name]}>(${value})`;
        }
        break;
      case 'list': {
        const ptr = take();
        const len = take();
        if (topLevel && isBytes(r)) expr = `HostBytes(${ptr}, ${len})`;
        else if (t.kind === 'named') {
          em.needLift(t);
          expr = `lift_${em.names.helperName(t)}(${ptr}, ${len})`;
        } else expr = em.liftList(r, ptr, len);
        break;
      }
      case 'enum':
        expr = `static_cast<${em.names.cppType(t)}>(checked_case(${take()}, ${r.cases.length}))`;
        break;
      case 'option': {
        const flag = take();
        const type = em.names.cppType(t);
        if (resolve(r.inner).kind === 'record') unsupported('a flat option of a record');
        const inner = liftValue(r.inner, undefined, false)!;
        expr = `checked_case(${flag}, 2) == 0 ? ${type}() : ${type}(${inner})`;
        break;
      }
      case 'record':
        for (const f of r.fields) liftValue(f.type, `${target}.${ident(f.name)}`, false);
        return undefined;
      case 'tuple':
        r.elements.forEach((e, i) => liftValue(e, r.elements.length === 2 ? `${target}.${i === 0 ? 'first' : 'second'}` : `std::get<${i}>(${target})`, false));
        return undefined;
      default:
        return unsupported(`a flat ${r.kind} argument`);
    }
    return target === undefined ? expr : assign(expr);
  };
  const args: string[] = [];
  for (const p of fm.fn.params) {
    const r = resolve(p.type);
    const name = ident(p.name);
    if (r.kind === 'record' || r.kind === 'tuple') {
      lines.push(`${em.names.cppType(p.type)} ${name};`);
      liftValue(p.type, name, true);
      args.push(`std::move(${name})`);
    } else if (flattenType(p.type).length === 1) {
      // One core value (a number, an enum): passed as it is lifted, under the core parameter's name.
      args.push(liftValue(p.type, undefined, true)!);
    } else {
      const type = isBytes(p.type) ? 'HostBytes' : em.names.cppType(p.type);
      lines.push(`${type} ${name} = ${liftValue(p.type, undefined, true)!};`);
      args.push(`std::move(${name})`);
    }
  }
  return { lines, args };
}

/** A type as the WIT spells it: `result<list<message>, error>`. */
function showType(t: WitType): string {
  switch (t.kind) {
    case 'named':
    case 'primitive':
      return t.name;
    case 'list':
      return `list<${showType(t.element)}>`;
    case 'option':
      return `option<${showType(t.inner)}>`;
    case 'result':
      return `result<${t.ok ? showType(t.ok) : '_'}, ${t.err ? showType(t.err) : '_'}>`;
    case 'tuple':
      return `tuple<${t.elements.map(showType).join(', ')}>`;
    default:
      return t.kind;
  }
}

function signatureComment(fn: WitFunction): string {
  return `// ${fn.name}: func(${fn.params.map((p) => `${p.name}: ${showType(p.type)}`).join(', ')})${fn.result ? ` -> ${showType(fn.result)}` : ''}`;
}

function coreParams(fm: FunctionModel): string[] {
  return fm.flatParams.map((p) => `${fm.paramsSpill ? 'std::uint8_t*' : CORE[p.core]} ${flatName(p.words)}`);
}

function coreResult(fm: FunctionModel): string {
  if (fm.flatResults.length === 0) return 'void';
  return fm.returnArea !== undefined ? 'std::uint8_t*' : CORE[fm.flatResults[0]!];
}

function exportFunction(em: Emitter, fm: FunctionModel): string[] {
  const fn = fm.fn;
  const { lines, args } = liftFlatParams(em, fm);
  const call = `handler.${methodName(fn.name)}(${args.join(', ')})`;
  const body = ['begin_call();', ...lines];
  if (fn.result === undefined) {
    body.push(`${call};`);
  } else if (fm.returnArea !== undefined && fn.result.kind !== 'named') {
    body.push(`${em.resultHelper(fn.result, fm.iface)}(ret_area, park(${call}));`);
    body.push('return ret_area;');
  } else if (fm.returnArea !== undefined) {
    body.push(`const auto& result = park(${call});`);
    body.push(...em.lowerMem(fn.result, 'result', 'ret_area'));
    body.push('return ret_area;');
  } else {
    const r = resolve(fn.result);
    const value = r.kind === 'enum' || (r.kind === 'primitive' && r.name === 'bool') ? `static_cast<std::uint32_t>(${call})` : call;
    body.push(`return static_cast<${CORE[fm.flatResults[0]!]}>(${value});`);
  }
  return [
    signatureComment(fn),
    'template <class Handler>',
    `inline ${coreResult(fm)} ${ident(fn.name)}(${['Handler&& handler', ...coreParams(fm)].join(', ')}) {`,
    ...indent(body),
    '}',
  ];
}

function macroName(iface: string): string {
  return `TESSERA_DETAIL_EXPORT_${snake(iface).toUpperCase()}`;
}

function exportMacro(fms: FunctionModel[], iface: string): string[] {
  const ns = `::tessera::generated::${snake(iface)}`;
  const lines: string[] = [];
  for (const fm of fms) {
    const cName = `tessera_export_${snake(iface)}_${snake(fm.fn.name)}`;
    const params = coreParams(fm);
    const args = ['(handler_expr)', ...fm.flatParams.map((p) => flatName(p.words))].join(', ');
    const ret = coreResult(fm);
    lines.push(`__attribute__((export_name("${fm.coreName}"))) ${ret} ${cName}(${params.join(', ')}) {`);
    lines.push(`  ${ret === 'void' ? '' : 'return '}${ns}::${ident(fm.fn.name)}(${args});`);
    lines.push('}');
    if (fm.postReturn !== undefined) {
      lines.push(`__attribute__((export_name("${fm.postReturn}"))) void tessera_post_${snake(iface)}_${snake(fm.fn.name)}(${ret}) {`);
      lines.push('  ::tessera::detail::end_call();');
      lines.push('}');
    }
  }
  return [
    `/** Defines the core exports of \`${iface}\` (once per module), each calling the function above on \`handler_expr\`. */`,
    `#define ${macroName(iface)}(handler_expr) \\`,
    ...['extern "C" {', ...lines].map((l) => `  ${l} \\`),
    '  }',
  ];
}

// ---------------------------------------------------------------------------------------
// Imports.

function importFunction(em: Emitter, fm: FunctionModel): { decl: string[]; wrapper: string[] } {
  const fn = fm.fn;
  const cName = `tessera_import_${snake(fm.iface)}_${snake(fn.name)}`;
  const coreArgs: string[] = [];
  const prep: string[] = [];
  const params: string[] = [];
  for (const p of fn.params) {
    const r = resolve(p.type);
    const name = ident(p.name);
    if (r.kind === 'primitive' && r.name === 'string') {
      params.push(`std::string_view ${name}`);
      prep.push(`const LentString ${name}_utf8(${name});`);
      coreArgs.push(`${name}_utf8.ptr()`, `${name}_utf8.len()`);
    } else if (isBytes(p.type)) {
      params.push(`const Bytes& ${name}`);
      coreArgs.push(`lend_bytes(${name}).ptr`, `lend_bytes(${name}).len`);
    } else if (r.kind === 'enum' || (r.kind === 'primitive' && r.name === 'bool')) {
      params.push(`${em.names.cppType(p.type)} ${name}`);
      coreArgs.push(`static_cast<std::uint32_t>(${name})`);
    } else if (r.kind === 'primitive') {
      params.push(`${em.names.cppType(p.type)} ${name}`);
      coreArgs.push(name);
    } else if (r.kind === 'list') {
      // Lowered into the per-call arena, freed when the export that makes this call returns.
      params.push(`const ${em.names.cppType(p.type)}& ${name}`);
      prep.push(`const Lowered ${name}_lowered = ${em.lowerList(r, name)};`);
      coreArgs.push(`${name}_lowered.ptr`, `${name}_lowered.len`);
    } else {
      unsupported(`an import argument of kind ${r.kind}`);
    }
  }
  if (fm.paramsSpill) unsupported('an import with more than 16 flat arguments');
  const coreParamTypes = fm.flatParams.map((p) => `${CORE[p.core]} ${flatName(p.words)}`);
  const result = fn.result === undefined ? 'void' : em.names.cppType(fn.result);
  const body = [...prep];
  if (fm.returnArea !== undefined) {
    coreParamTypes.push('std::uint8_t* ret_area');
    body.push(`alignas(${fm.returnArea.align}) std::uint8_t ret_area[${fm.returnArea.size}];`);
    body.push(`${cName}(${[...coreArgs, 'ret_area'].join(', ')});`);
    body.push(`return ${em.liftMem(fn.result!, 'ret_area')};`);
  } else if (fn.result === undefined) {
    body.push(`${cName}(${coreArgs.join(', ')});`);
  } else {
    const r = resolve(fn.result);
    body.push(`return ${r.kind === 'enum' || (r.kind === 'primitive' && r.name === 'bool') ? `static_cast<${result}>(${cName}(${coreArgs.join(', ')}))` : `${cName}(${coreArgs.join(', ')})`};`);
  }
  const coreRet = fm.flatResults.length === 0 ? 'void' : CORE[fm.flatResults[0]!];
  return {
    decl: [`__attribute__((import_module("${fm.module}"), import_name("${fm.coreName}"))) ${coreRet} ${cName}(${coreParamTypes.join(', ')});`],
    wrapper: [signatureComment(fn), `inline ${result} ${ident(fn.name)}(${params.join(', ')}) {`, ...indent(body), '}'],
  };
}

// ---------------------------------------------------------------------------------------
// Files.

function abiFile(pkg: WitPackage, iface: WitInterface, role: 'export' | 'import' | 'types', names: Names, em: Emitter, typeFiles: Set<string>): GeneratedFile {
  const ns = snake(iface.name);
  const blocks: string[] = [];
  let decls: string[] = [];
  if (role === 'export') {
    const model = interfaceModel(pkg, iface.name, 'export');
    const area = model.functions.filter((f) => f.returnArea).map((f) => f.returnArea!);
    if (area.length > 0) {
      const size = Math.max(...area.map((a) => a.size));
      const align = Math.max(...area.map((a) => a.align));
      blocks.push(`/** Where each export's result is lowered for the host to read: the largest of their return areas. */\nalignas(${align}) inline std::uint8_t ret_area[${size}];`);
    }
    for (const fm of model.functions) blocks.push(exportFunction(em, fm).join('\n'));
  } else if (role === 'import') {
    const model = interfaceModel(pkg, iface.name, 'import');
    for (const fm of model.functions) {
      const { decl, wrapper } = importFunction(em, fm);
      decls.push(...decl);
      blocks.push(wrapper.join('\n'));
    }
  }
  const helpers = helpersOf(em, iface.name);
  const uses = new Set<string>();
  for (const { type } of namedTypes(iface)) collectUses(type, uses);
  for (const fn of iface.functions) {
    fn.params.forEach((p) => collectUses(p.type, uses));
    if (fn.result) collectUses(fn.result, uses);
  }
  uses.delete(iface.name);
  const includes = ['#include <cstdint>', '#include <optional>', '#include <string>', '#include <string_view>', '#include <utility>', '#include <variant>', '#include <vector>', '', '#include "../../detail/runtime.h"', '#include "../../types.h"'];
  if (typeFiles.has(iface.name)) includes.push(`#include "../${fileName(iface.name)}"`);
  for (const u of [...uses].sort()) includes.push(`#include "${fileName(u)}"`);
  const lines = [
    generatedHeader('//').trimEnd(),
    `// The canonical-ABI glue of WIT interface \`${iface.name}\` of ${pkg.namespace}:${pkg.name}@${pkg.version}${role === 'export' ? ', which a world exports' : role === 'import' ? ', which the host provides' : ''}.`,
    '#pragma once',
    '',
    ...includes,
    '',
  ];
  if (decls.length > 0) lines.push('extern "C" {', ...decls, '}', '');
  if (helpers.length > 0) {
    lines.push('namespace tessera::generated {', '', 'using namespace ::tessera::detail;', ...helpers, '', '}  // namespace tessera::generated');
  }
  if (blocks.length > 0) {
    if (helpers.length > 0) lines.push('');
    lines.push(`namespace tessera::generated::${ns} {`, '', 'using namespace ::tessera::detail;', '', blocks.join('\n\n'), '', `}  // namespace tessera::generated::${ns}`);
  }
  if (role === 'export') lines.push('', ...exportMacro(interfaceModel(pkg, iface.name, 'export').functions, iface.name));
  lines.push('');
  return { path: `${CPP_OUT_DIR}/abi/${fileName(iface.name)}`, text: lines.join('\n') };
}

function packageFile(pkg: WitPackage): GeneratedFile {
  const hosts = interfaceRoles(pkg).imported;
  const quoted = hosts.map((h) => `"${h}"`);
  const spelled = quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`;
  const text = `${generatedHeader('//')}// What every world of ${pkg.namespace}:${pkg.name}@${pkg.version} shares.
#pragma once

/** The WIT package version this SDK implements: it names every import, export and manifest. */
#define TESSERA_ABI_VERSION "${pkg.version}"

/** The host interfaces a world may import: the capabilities a manifest may name. */
#define TESSERA_DETAIL_HOST_INTERFACES ${quoted.join(', ')}
/** The same, as a sentence for messages. */
#define TESSERA_DETAIL_HOST_INTERFACES_TEXT ${JSON.stringify(spelled)}

/** Defines \`cabi_realloc\`, through which the host allocates in the component's memory (once per module). */
#define TESSERA_DETAIL_EXPORT_CABI_REALLOC()                                                                           \\
  extern "C" __attribute__((export_name("cabi_realloc"))) void* tessera_export_cabi_realloc(                          \\
      void* old_ptr, std::size_t old_size, std::size_t align, std::size_t new_size) {                                 \\
    return ::tessera::detail::cabi_realloc(old_ptr, old_size, align, new_size);                                      \\
  }
`;
  return { path: `${CPP_OUT_DIR}/package.h`, text };
}

export function generateCpp(pkg: WitPackage): GeneratedFile[] {
  const { exported, imported } = interfaceRoles(pkg);
  const names = new Names(new Set(imported.filter((i) => !exported.includes(i))));
  const built = builtRecords(pkg, exported);
  const files: GeneratedFile[] = [packageFile(pkg)];
  const typeFiles = new Set<string>();
  for (const iface of pkg.interfaces.values()) {
    const f = typesFile(pkg, iface, names, built);
    if (f !== undefined) {
      files.push(f);
      typeFiles.add(iface.name);
    }
  }
  // Glue: the interfaces that use others' types first, so that every helper they need is known
  // when the defining interface's file is written (`types` last).
  const em = new Emitter(names);
  const order = [...pkg.interfaces.values()].sort((a, b) => Number(a.functions.length === 0) - Number(b.functions.length === 0));
  const glue: GeneratedFile[] = [];
  for (const iface of order) {
    const role = exported.includes(iface.name) ? 'export' : imported.includes(iface.name) ? 'import' : 'types';
    glue.push(abiFile(pkg, iface, role, names, em, typeFiles));
  }
  return [...files, ...glue];
}
