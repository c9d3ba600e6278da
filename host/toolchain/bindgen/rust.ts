// The Rust SDK's side of the generated glue (sdk/rust/src/generated/), in the style of
// wit-bindgen's output:
// - `types.rs`: the WIT's records, enums and variants of the exported interfaces as Rust types;
// - `abi.rs`: how each of those sits in linear memory (`load_…`/`store_…` per named type,
//   written once) and the return area of the exports;
// - one module per exported interface: its `Guest` trait (the WIT's functions over owned Rust
//   values) and, per function, the straight-line body of its export: lift the flat arguments,
//   call the guest, lower the answer into the return area;
// - one module per imported interface: the `extern` imports under their canonical names and a
//   safe function per import that lowers its arguments and lifts its result;
// - `macros.rs`: per exported interface, a macro that writes its `extern "C"` exports under
//   their canonical names (`tessera:components/state@0.1.0#get`) and their post-returns.
// The SDK's hand-written part (src/rt.rs) holds the memory discipline (allocator, keep list,
// aligned loads and stores) with no layout in it: every offset comes from model.ts.
import { describeType, type WitFunction, type WitInterface, type WitNamed, type WitPackage, type WitType } from '../../sandbox/wit/ast.ts';
import {
  docComment,
  functionModel,
  generatedHeader,
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

export const RUST_OUT_DIR = 'sdk/rust/src/generated';

const HEADER = generatedHeader('//');

// ---------------------------------------------------------------------------------------
// Names.

const KEYWORDS = new Set(
  'as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ref return self static struct super trait true type unsafe use where while abstract become box do final macro override priv typeof unsized virtual yield try'.split(' '),
);

function ident(witName: string): string {
  const s = snake(witName);
  return KEYWORDS.has(s) ? `r#${s}` : s;
}

function flatName(words: string[]): string {
  const s = words.join('_').toLowerCase();
  return KEYWORDS.has(s) ? `r#${s}` : s;
}

/** WIT types the SDK writes by hand, with an idiomatic API: the generated code converts at the boundary. */
const HAND_WRITTEN = new Map<string, { name: string; fromWit: (e: string) => string; toWit: (e: string) => string }>([
  ['types/metadata', { name: 'Metadata', fromWit: (e) => `Metadata::from(${e})`, toWit: (e) => `${e}.into_pairs()` }],
]);

function handWritten(t: WitNamed) {
  return HAND_WRITTEN.get(`${t.interface}/${t.name}`);
}

function typeName(t: WitNamed): string {
  return handWritten(t)?.name ?? pascal(t.name);
}

function unsupported(what: string): never {
  throw new Error(`bindgen (Rust): ${what} is not supported by the Rust generator yet`);
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
  char: 'char',
  string: 'String',
};

function rustType(t: WitType): string {
  switch (t.kind) {
    case 'named':
      return typeName(t);
    case 'primitive':
      return PRIMITIVES[t.name]!;
    case 'list':
      return `Vec<${rustType(t.element)}>`;
    case 'option':
      return `Option<${rustType(t.inner)}>`;
    case 'result':
      return `Result<${t.ok === undefined ? '()' : rustType(t.ok)}, ${t.err === undefined ? '()' : rustType(t.err)}>`;
    case 'tuple':
      return `(${t.elements.map(rustType).join(', ')}${t.elements.length === 1 ? ',' : ''})`;
    default:
      return unsupported(`an anonymous ${t.kind}`);
  }
}

function isBytes(t: WitType): boolean {
  if (t.kind !== 'list') return false;
  const e = resolve(t.element);
  return e.kind === 'primitive' && e.name === 'u8';
}

// ---------------------------------------------------------------------------------------
// Code shapes: an expression may span lines; statements are lines, indented by nesting.

function embed(expr: string, indent: string): string {
  return expr.replaceAll('\n', `\n${indent}`);
}

/** `head(a, b)tail` on one line within rustfmt's 120 columns (rustfmt.toml), else one item a line. */
function wrapped(lead: string, head: string, items: string[], tail: string): string[] {
  const line = `${lead}${head}(${items.join(', ')})${tail}`;
  if (line.length <= 120 || items.length === 0) return [line];
  return [`${lead}${head}(`, ...items.map((i) => `${lead}    ${i},`), `${lead})${tail}`];
}

function indent(lines: string[], by = '    '): string[] {
  return lines.map((l) => (l === '' ? l : by + l));
}

/** An address: a base expression plus a constant offset from model.ts. */
class Addr {
  readonly base: string;
  readonly off: number;
  constructor(base: string, off = 0) {
    this.base = base;
    this.off = off;
  }
  add(n: number): Addr {
    return new Addr(this.base, this.off + n);
  }
  toString(): string {
    return this.off === 0 ? this.base : `${this.base} + ${this.off}`;
  }
}

const U32: WitType = { kind: 'primitive', name: 'u32' };
/** Where a string's or list's pointer and length sit, as a record of two u32 (model.ts). */
const [PTR_AT, LEN_AT] = recordFields([
  { name: 'ptr', type: U32 },
  { name: 'len', type: U32 },
]).map((f) => f.offset) as [number, number];

/** The memory access and conversions of each scalar: the load/store width and value casts. */
const SCALARS: Record<string, { mem: string; lift: (v: string) => string; lower: (v: string) => string }> = {
  bool: { mem: 'u8', lift: (v) => `${v} != 0`, lower: (v) => `${v} as u8` },
  u8: { mem: 'u8', lift: (v) => v, lower: (v) => v },
  s8: { mem: 'u8', lift: (v) => `${v} as i8`, lower: (v) => `${v} as u8` },
  u16: { mem: 'u16', lift: (v) => v, lower: (v) => v },
  s16: { mem: 'u16', lift: (v) => `${v} as i16`, lower: (v) => `${v} as u16` },
  u32: { mem: 'u32', lift: (v) => v, lower: (v) => v },
  s32: { mem: 'u32', lift: (v) => `${v} as i32`, lower: (v) => `${v} as u32` },
  u64: { mem: 'u64', lift: (v) => v, lower: (v) => v },
  s64: { mem: 'u64', lift: (v) => `${v} as i64`, lower: (v) => `${v} as u64` },
  f32: { mem: 'f32', lift: (v) => v, lower: (v) => v },
  f64: { mem: 'f64', lift: (v) => v, lower: (v) => v },
  char: { mem: 'u32', lift: (v) => `lift_char(${v})`, lower: (v) => `${v} as u32` },
};

/** A flat core value as the Rust type of the scalar: `x as u32` from an i32 parameter. */
const FROM_FLAT: Record<string, (v: string) => string> = {
  bool: (v) => `${v} != 0`,
  u8: (v) => `${v} as u8`,
  s8: (v) => `${v} as i8`,
  u16: (v) => `${v} as u16`,
  s16: (v) => `${v} as i16`,
  u32: (v) => `${v} as u32`,
  s32: (v) => v,
  u64: (v) => `${v} as u64`,
  s64: (v) => v,
  f32: (v) => v,
  f64: (v) => v,
  char: (v) => `lift_char(${v} as u32)`,
};

/** A scalar as its flat core value: `x as i32`. */
const TO_FLAT: Record<string, (v: string) => string> = {
  bool: (v) => `${v} as i32`,
  u8: (v) => `${v} as i32`,
  s8: (v) => `${v} as i32`,
  u16: (v) => `${v} as i32`,
  s16: (v) => `${v} as i32`,
  u32: (v) => `${v} as i32`,
  s32: (v) => v,
  u64: (v) => `${v} as i64`,
  s64: (v) => v,
  f32: (v) => v,
  f64: (v) => v,
  char: (v) => `${v} as i32`,
};

const DISCRIMINANT_MEM = { 1: 'u8', 2: 'u16', 4: 'u32' } as const;

function loadDiscriminant(size: 1 | 2 | 4, at: Addr): string {
  return size === 4 ? `load_u32(${at})` : `load_${DISCRIMINANT_MEM[size]}(${at}) as u32`;
}

function storeDiscriminant(size: 1 | 2 | 4, at: Addr, value: number): string {
  return `store_${DISCRIMINANT_MEM[size]}(${at}, ${value})`;
}

/** The discriminant size of a named enum. */
function enumDiscriminant(t: WitNamed): 1 | 2 | 4 {
  const cases = t.type.kind === 'enum' ? t.type.cases : [];
  return variantLayout(t, cases.map(() => undefined)).discriminantSize;
}

/** The helper functions a named type gets (`load_x`, `store_x`, `lift_x`), or undefined for a plain alias. */
function helperKind(t: WitNamed): 'enum' | 'composite' | 'list' | undefined {
  if (handWritten(t) !== undefined) return resolve(t).kind === 'list' ? 'list' : 'composite';
  switch (t.type.kind) {
    case 'enum':
      return 'enum';
    case 'record':
    case 'variant':
      return 'composite';
    case 'flags':
      return unsupported(`flags (\`${t.name}\`)`);
    case 'list':
      return 'list';
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Lifting from memory: an expression of the Rust value at `at`.

function liftMem(t: WitType, at: Addr): string {
  switch (t.kind) {
    case 'named': {
      const kind = helperKind(t);
      if (kind === 'enum') return `lift_${snake(t.name)}(${loadDiscriminant(enumDiscriminant(t), at)})`;
      if (kind !== undefined) return `load_${snake(t.name)}(${at})`;
      return liftMem(t.type, at);
    }
    case 'primitive': {
      if (t.name === 'string') return `lift_string(load_u32(${at.add(PTR_AT)}) as usize, load_u32(${at.add(LEN_AT)}) as usize)`;
      const s = SCALARS[t.name]!;
      return s.lift(`load_${s.mem}(${at})`);
    }
    case 'list':
      return liftList(t, `load_u32(${at.add(PTR_AT)}) as usize`, `load_u32(${at.add(LEN_AT)}) as usize`);
    case 'option': {
      const v = variantLayout(t, [undefined, t.inner]);
      const some = liftMem(t.inner, at.add(v.payloadOffset));
      return `match discriminant(${loadDiscriminant(v.discriminantSize, at)}, 2, "${describeType(t)}") {\n    0 => None,\n    _ => Some(${embed(some, '    ')}),\n}`;
    }
    case 'result': {
      const v = variantLayout(t, [t.ok, t.err]);
      const ok = t.ok === undefined ? '()' : liftMem(t.ok, at.add(v.payloadOffset));
      const err = t.err === undefined ? '()' : liftMem(t.err, at.add(v.payloadOffset));
      return `match discriminant(${loadDiscriminant(v.discriminantSize, at)}, 2, "${describeType(t)}") {\n    0 => Ok(${embed(ok, '    ')}),\n    _ => Err(${embed(err, '    ')}),\n}`;
    }
    case 'tuple': {
      const fields = recordFields(t.elements.map((type, i) => ({ name: String(i), type })));
      const elements = fields.map((f) => liftMem(f.type, at.add(f.offset)));
      const line = `(${elements.join(', ')}${elements.length === 1 ? ',' : ''})`;
      // As rustfmt lays out a tuple too long for its line: one element a line.
      return line.length <= 80 && !line.includes('\n') ? line : `(\n${elements.map((e) => `    ${embed(e, '    ')},`).join('\n')}\n)`;
    }
    default:
      return unsupported(`an anonymous ${t.kind}`);
  }
}

function liftList(t: WitType & { kind: 'list' }, ptr: string, len: string): string {
  if (isBytes(t)) return `lift_bytes(${ptr}, ${len})`;
  const { size, align } = layoutOf(t.element);
  const element = liftMem(t.element, new Addr('at'));
  const load = element.includes('\n') ? `{\n    ${embed(element, '    ')}\n}` : element;
  return `lift_list(${ptr}, ${len}, ${size}, ${align}, |at| ${load})`;
}

// ---------------------------------------------------------------------------------------
// Lowering into memory: statements that write `value` at `at`, keeping what it points to.

function lowerMem(value: string, t: WitType, at: Addr): string[] {
  switch (t.kind) {
    case 'named': {
      const kind = helperKind(t);
      if (kind === 'enum') {
        const mem = DISCRIMINANT_MEM[enumDiscriminant(t)];
        return [`store_${mem}(${at}, ${value} as ${mem});`];
      }
      if (kind !== undefined) return [`store_${snake(t.name)}(${at}, ${value});`];
      return lowerMem(value, t.type, at);
    }
    case 'primitive': {
      if (t.name === 'string') return [`store_bytes(${at.add(PTR_AT)}, ${at.add(LEN_AT)}, ${value}.into_bytes());`];
      const s = SCALARS[t.name]!;
      return [`store_${s.mem}(${at}, ${s.lower(value)});`];
    }
    case 'list': {
      if (isBytes(t)) return [`store_bytes(${at.add(PTR_AT)}, ${at.add(LEN_AT)}, ${value});`];
      const { size, align } = layoutOf(t.element);
      return [
        '{',
        ...indent([
          `let list = ${value};`,
          `let base = keep_array(list.len(), ${size}, ${align});`,
          `store_u32(${at.add(PTR_AT)}, base as u32);`,
          `store_u32(${at.add(LEN_AT)}, list.len() as u32);`,
          `for (i, e) in list.into_iter().enumerate() {`,
          ...indent([`let at = base + i * ${size};`, ...lowerMem('e', t.element, new Addr('at'))]),
          '}',
        ]),
        '}',
      ];
    }
    case 'option': {
      const v = variantLayout(t, [undefined, t.inner]);
      return [
        `match ${value} {`,
        ...indent([
          'Some(e) => {',
          ...indent([`${storeDiscriminant(v.discriminantSize, at, 1)};`, ...lowerMem('e', t.inner, at.add(v.payloadOffset))]),
          '}',
          `None => ${storeDiscriminant(v.discriminantSize, at, 0)},`,
        ]),
        '}',
      ];
    }
    case 'result': {
      const v = variantLayout(t, [t.ok, t.err]);
      const arm = (name: string, payload: WitType | undefined, index: number): string[] =>
        payload === undefined
          ? [`${name}(()) => ${storeDiscriminant(v.discriminantSize, at, index)},`]
          : [`${name}(e) => {`, ...indent([`${storeDiscriminant(v.discriminantSize, at, index)};`, ...lowerMem('e', payload, at.add(v.payloadOffset))]), '}'];
      return [`match ${value} {`, ...indent([...arm('Ok', t.ok, 0), ...arm('Err', t.err, 1)]), '}'];
    }
    case 'tuple': {
      const fields = recordFields(t.elements.map((type, i) => ({ name: String(i), type })));
      const names = fields.map((f) => `e${f.name}`);
      return [
        '{',
        ...indent([`let (${names.join(', ')}${names.length === 1 ? ',' : ''}) = ${value};`, ...fields.flatMap((f, i) => lowerMem(names[i]!, f.type, at.add(f.offset)))]),
        '}',
      ];
    }
    default:
      return unsupported(`an anonymous ${t.kind}`);
  }
}

// ---------------------------------------------------------------------------------------
// Flat values: the core parameters of an export (lifted) and of an import (lowered).

/** Each flat slot's Rust type: `usize` for a string's or list's pointer and length, else the core type. */
function flatSlots(t: WitType): string[] {
  const r = resolve(t);
  switch (r.kind) {
    case 'primitive':
      return r.name === 'string' ? ['usize', 'usize'] : [r.name === 'u64' || r.name === 's64' ? 'i64' : r.name === 'f32' || r.name === 'f64' ? r.name : 'i32'];
    case 'list':
      return ['usize', 'usize'];
    case 'record':
      return r.fields.flatMap((f) => flatSlots(f.type));
    case 'tuple':
      return r.elements.flatMap(flatSlots);
    case 'option':
      return ['i32', ...flatSlots(r.inner)];
    case 'enum':
    case 'flags':
      return ['i32'];
    default:
      return unsupported(`a ${r.kind} passed flat`);
  }
}

class Cursor {
  private i = 0;
  private readonly names: string[];
  constructor(names: string[]) {
    this.names = names;
  }
  next(): string {
    const name = this.names[this.i++];
    if (name === undefined) throw new Error('bindgen (Rust): flat parameters ran out');
    return name;
  }
}

function liftFlat(t: WitType, flat: Cursor): string {
  switch (t.kind) {
    case 'named': {
      const hand = handWritten(t);
      if (hand !== undefined && resolve(t).kind === 'list') return `lift_${snake(t.name)}(${flat.next()}, ${flat.next()})`;
      const r = t.type;
      if (r.kind === 'enum') return `lift_${snake(t.name)}(${flat.next()} as u32)`;
      if (r.kind === 'record') {
        const fields = r.fields.map((f) => `    ${ident(f.name)}: ${embed(liftFlat(f.type, flat), '    ')},`);
        return `${typeName(t)} {\n${fields.join('\n')}\n}`;
      }
      if (r.kind === 'list' && helperKind(t) === 'list') return `lift_${snake(t.name)}(${flat.next()}, ${flat.next()})`;
      return liftFlat(r, flat);
    }
    case 'primitive':
      if (t.name === 'string') return `lift_string(${flat.next()}, ${flat.next()})`;
      return FROM_FLAT[t.name]!(flat.next());
    case 'list':
      return liftList(t, flat.next(), flat.next());
    case 'option': {
      const tag = flat.next();
      const some = liftFlat(t.inner, flat);
      return `match discriminant(${tag} as u32, 2, "${describeType(t)}") {\n    0 => None,\n    _ => Some(${embed(some, '    ')}),\n}`;
    }
    case 'tuple':
      return `(${t.elements.map((e) => liftFlat(e, flat)).join(', ')}${t.elements.length === 1 ? ',' : ''})`;
    default:
      return unsupported(`a ${t.kind} passed flat`);
  }
}

/** A scalar or enum result or argument as its one flat value. */
function lowerFlat(value: string, t: WitType): string {
  const r = resolve(t);
  if (r.kind === 'primitive' && r.name !== 'string') return TO_FLAT[r.name]!(value);
  if (r.kind === 'enum') return `${value} as i32`;
  return unsupported(`a flat ${describeType(t)}`);
}

function paramNames(m: FunctionModel): { name: string; type: string }[] {
  if (m.paramsSpill) return [{ name: 'args', type: 'usize' }];
  const slots = m.fn.params.flatMap((p) => flatSlots(p.type));
  if (slots.length !== m.flatParams.length) throw new Error(`bindgen (Rust): ${m.coreName}: ${slots.length} flat slots, the model says ${m.flatParams.length}`);
  return m.flatParams.map((p, i) => ({ name: flatName(p.words), type: slots[i]! }));
}

const CORE_RUST: Record<CoreType, string> = { i32: 'i32', i64: 'i64', f32: 'f32', f64: 'f64' };

function exportResultType(m: FunctionModel): string {
  if (m.flatResults.length === 0) return '';
  return m.returnArea !== undefined ? ' -> *mut u8' : ` -> ${CORE_RUST[m.flatResults[0]!]}`;
}

function witSignature(fn: WitFunction): string {
  const params = fn.params.map((p) => `${p.name}: ${describeType(p.type)}`).join(', ');
  return `\`${fn.name}: func(${params})${fn.result === undefined ? '' : ` -> ${describeType(fn.result)}`}\``;
}

// ---------------------------------------------------------------------------------------
// Files.

function derives(t: WitType): string {
  const hasFloat = (x: WitType, seen = new Set<WitType>()): boolean => {
    if (seen.has(x)) return false;
    seen.add(x);
    const r = resolve(x);
    switch (r.kind) {
      case 'primitive':
        return r.name === 'f32' || r.name === 'f64';
      case 'list':
        return hasFloat(r.element, seen);
      case 'option':
        return hasFloat(r.inner, seen);
      case 'result':
        return [r.ok, r.err].some((e) => e !== undefined && hasFloat(e, seen));
      case 'tuple':
        return r.elements.some((e) => hasFloat(e, seen));
      case 'record':
        return r.fields.some((f) => hasFloat(f.type, seen));
      case 'variant':
        return r.cases.some((c) => c.type !== undefined && hasFloat(c.type, seen));
      default:
        return false;
    }
  };
  const defaultable = (x: WitType): boolean => {
    if (x.kind === 'named' && handWritten(x) !== undefined) return true;
    const r = resolve(x);
    switch (r.kind) {
      case 'primitive':
      case 'list':
      case 'option':
        return true;
      case 'tuple':
        return r.elements.every(defaultable);
      case 'record':
        return r.fields.every((f) => defaultable(f.type));
      default:
        return false;
    }
  };
  const list = ['Clone'];
  if (t.kind === 'enum') list.push('Copy');
  list.push('Debug');
  if (t.kind === 'record' && defaultable(t)) list.push('Default');
  list.push('PartialEq');
  if (!hasFloat(t)) list.push('Eq');
  if (t.kind === 'enum') list.push('Hash');
  return `#[derive(${list.join(', ')})]`;
}

/** A WIT doc comment as `///` lines (none when it has none). */
function docs(text: string | undefined, indent: string): string[] {
  const comment = docComment(text, indent, '///');
  return comment === '' ? [] : comment.trimEnd().split('\n');
}

function typeDeclaration(iface: WitInterface, name: string, t: WitType): string[] {
  const rust = pascal(name);
  const witDocs = docs(iface.typeDocs.get(name), '');
  const doc = [...witDocs, ...(witDocs.length > 0 ? ['///'] : []), `/// WIT \`${name}\` of interface \`${iface.name}\`.`].join('\n');
  switch (t.kind) {
    case 'record':
      return [doc, derives(t), `pub struct ${rust} {`, ...t.fields.flatMap((f) => [...docs(f.docs, '    '), `    pub ${ident(f.name)}: ${rustType(f.type)},`]), '}'];
    case 'enum':
      return [doc, derives(t), `pub enum ${rust} {`, ...t.cases.flatMap((c) => [...docs(t.caseDocs?.get(c), '    '), `    ${pascal(c)},`]), '}'];
    case 'variant': {
      const lines = [
        doc,
        derives(t),
        `pub enum ${rust} {`,
        ...t.cases.flatMap((c) => [...docs(c.docs, '    '), `    ${pascal(c.name)}${c.type === undefined ? '' : `(${rustType(c.type)})`},`]),
        '}',
        '',
      ];
      const pattern = (c: { name: string; type: WitType | undefined }, bind: string): string => `${rust}::${pascal(c.name)}${c.type === undefined ? '' : `(${bind})`}`;
      lines.push(`impl ${rust} {`);
      lines.push('    /// The WIT name of the case.');
      lines.push('    pub fn case(&self) -> &\'static str {');
      lines.push('        match self {');
      for (const c of t.cases) lines.push(`            ${pattern(c, '_')} => "${c.name}",`);
      lines.push('        }');
      lines.push('    }');
      const isString = (x: WitType | undefined): boolean => {
        const r = x === undefined ? undefined : resolve(x);
        return r?.kind === 'primitive' && r.name === 'string';
      };
      const allStrings = t.cases.every((c) => isString(c.type));
      if (allStrings) {
        const one = `            ${t.cases.map((c) => pattern(c, 'm')).join(' | ')} => m,`;
        const arms = one.length <= 120 ? [one] : t.cases.map((c, i) => `            ${i === 0 ? '' : '| '}${pattern(c, 'm')}${i === t.cases.length - 1 ? ' => m,' : ''}`);
        lines.push('', '    /// The message every case carries.', '    pub fn message(&self) -> &str {', '        match self {', ...arms, '        }', '    }');
        lines.push('', '    pub fn into_message(self) -> String {', '        match self {', ...arms, '        }', '    }');
      }
      lines.push('}');
      return lines;
    }
    case 'flags':
      return unsupported(`flags (\`${name}\`)`);
    default:
      return [doc, `pub type ${rust} = ${rustType(t)};`];
  }
}

function namedRef(iface: string, name: string, type: WitType): WitNamed {
  return { kind: 'named', name, interface: iface, type };
}

/** `load_x`, `store_x` (and `lift_x` for an enum or a list) for one named type. */
function typeHelpers(n: WitNamed): string[] {
  const kind = helperKind(n);
  if (kind === undefined) return [];
  const rust = typeName(n);
  const fn = snake(n.name);
  const at = new Addr('at');
  const t = n.type;
  if (t.kind === 'enum') {
    const cases = t.cases;
    return [
      `pub(crate) fn lift_${fn}(value: u32) -> ${rust} {`,
      `    match discriminant(value, ${cases.length}, "${n.name}") {`,
      ...cases.map((c, i) => `        ${i === cases.length - 1 ? '_' : String(i)} => ${rust}::${pascal(c)},`),
      '    }',
      '}',
    ];
  }
  const hand = handWritten(n);
  const lines: string[] = [];
  if (kind === 'list') {
    const list = resolve(n) as WitType & { kind: 'list' };
    const lifted = liftList(list, 'ptr', 'len');
    lines.push(`pub(crate) unsafe fn lift_${fn}(ptr: usize, len: usize) -> ${rust} {`, `    ${embed(hand === undefined ? lifted : hand.fromWit(lifted), '    ')}`, '}', '');
    lines.push(`pub(crate) unsafe fn load_${fn}(at: usize) -> ${rust} {`, `    lift_${fn}(load_u32(${at.add(PTR_AT)}) as usize, load_u32(${at.add(LEN_AT)}) as usize)`, '}', '');
    lines.push(`pub(crate) unsafe fn store_${fn}(at: usize, value: ${rust}) {`, ...indent(lowerMem(hand === undefined ? 'value' : hand.toWit('value'), list, at)), '}');
    return lines;
  }
  if (t.kind === 'record') {
    const fields = recordFields(t.fields);
    lines.push(`pub(crate) unsafe fn load_${fn}(at: usize) -> ${rust} {`, `    ${rust} {`);
    for (const f of fields) lines.push(`        ${ident(f.name)}: ${embed(liftMem(f.type, at.add(f.offset)), '        ')},`);
    lines.push('    }', '}', '');
    lines.push(`pub(crate) unsafe fn store_${fn}(at: usize, value: ${rust}) {`);
    for (const f of fields) lines.push(...indent(lowerMem(`value.${ident(f.name)}`, f.type, at.add(f.offset))));
    lines.push('}');
    return lines;
  }
  if (t.kind === 'variant') {
    const v = variantLayout(n, t.cases.map((c) => c.type));
    const payload = at.add(v.payloadOffset);
    const shared = t.cases[0]?.type;
    if (shared !== undefined && t.cases.every((c) => c.type !== undefined && describeType(c.type) === describeType(shared))) {
      // Every case carries the same payload (as `error` its message): it is lifted and
      // lowered once, and only the case is matched.
      const cases = t.cases.map((c, i) => ({ pattern: `${rust}::${pascal(c.name)}`, arm: i === t.cases.length - 1 ? '_' : String(i), i }));
      lines.push(
        `pub(crate) unsafe fn load_${fn}(at: usize) -> ${rust} {`,
        `    let case = discriminant(${loadDiscriminant(v.discriminantSize, at)}, ${t.cases.length}, "${n.name}");`,
        `    let e = ${embed(liftMem(shared, payload), '    ')};`,
        '    match case {',
        ...cases.map((c) => `        ${c.arm} => ${c.pattern}(e),`),
        '    }',
        '}',
        '',
        `pub(crate) unsafe fn store_${fn}(at: usize, value: ${rust}) {`,
        '    let (case, e) = match value {',
        ...cases.map((c) => `        ${c.pattern}(e) => (${c.i}, e),`),
        '    };',
        `    store_${DISCRIMINANT_MEM[v.discriminantSize]}(${at}, case);`,
        ...indent(lowerMem('e', shared, payload)),
        '}',
      );
      return lines;
    }
    lines.push(`pub(crate) unsafe fn load_${fn}(at: usize) -> ${rust} {`, `    match discriminant(${loadDiscriminant(v.discriminantSize, at)}, ${t.cases.length}, "${n.name}") {`);
    t.cases.forEach((c, i) => {
      const arm = i === t.cases.length - 1 ? '_' : String(i);
      const value = c.type === undefined ? `${rust}::${pascal(c.name)}` : `${rust}::${pascal(c.name)}(${embed(liftMem(c.type, payload), '        ')})`;
      lines.push(`        ${arm} => ${value},`);
    });
    lines.push('    }', '}', '');
    lines.push(`pub(crate) unsafe fn store_${fn}(at: usize, value: ${rust}) {`, '    match value {');
    t.cases.forEach((c, i) => {
      if (c.type === undefined) {
        lines.push(`        ${rust}::${pascal(c.name)} => ${storeDiscriminant(v.discriminantSize, at, i)},`);
        return;
      }
      lines.push(`        ${rust}::${pascal(c.name)}(e) => {`, `            ${storeDiscriminant(v.discriminantSize, at, i)};`, ...indent(lowerMem('e', c.type, payload), '            '), '        }');
    });
    lines.push('    }', '}');
    return lines;
  }
  return unsupported(`a named ${t.kind}`);
}

function file(path: string, about: string[], body: string[]): GeneratedFile {
  const head = [HEADER.trimEnd(), ...about.map((l) => `// ${l}`)];
  return { path: `${RUST_OUT_DIR}/${path}`, text: [...head, '', ...body].join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n' };
}

const GLUE_USES = [
  '#![allow(unused_imports, clippy::all)]',
  'use super::abi::*;',
  'use super::types::*;',
  'use crate::rt::*;',
  'use crate::Metadata;',
  'use alloc::string::String;',
  'use alloc::vec::Vec;',
];

function typesFile(pkg: WitPackage, ifaces: WitInterface[]): GeneratedFile {
  const body = ['use crate::Metadata;', 'use alloc::string::String;', 'use alloc::vec::Vec;', ''];
  const seen = new Map<string, string>();
  for (const iface of ifaces) {
    for (const { name, type } of namedTypes(iface)) {
      if (handWritten(namedRef(iface.name, name, type)) !== undefined) continue;
      const rust = pascal(name);
      const other = seen.get(rust);
      if (other !== undefined) unsupported(`two types named ${rust} (interfaces ${other} and ${iface.name})`);
      seen.set(rust, iface.name);
      body.push(...typeDeclaration(iface, name, type), '');
    }
  }
  return file('types.rs', [`The types of the interfaces of ${pkg.namespace}:${pkg.name}@${pkg.version} a component exports, as Rust types.`], body);
}

function abiFile(pkg: WitPackage, ifaces: WitInterface[], exports: FunctionModel[]): GeneratedFile {
  const body = ['#![allow(dead_code, unused_imports, clippy::all)]', 'use super::types::*;', 'use crate::rt::*;', 'use crate::Metadata;', 'use alloc::string::String;', 'use alloc::vec::Vec;', ''];
  for (const iface of ifaces) {
    for (const { name, type } of namedTypes(iface)) {
      const helpers = typeHelpers(namedRef(iface.name, name, type));
      if (helpers.length > 0) body.push(`// ${name}`, ...helpers, '');
    }
  }
  // The results the exports write to their return area, each lowered by one helper however
  // many exports return it (a named type's is its `store_x` above).
  const results = new Map<string, WitType>();
  for (const m of exports) if (m.returnArea !== undefined && m.fn.result!.kind !== 'named') results.set(resultStore(m.fn.result!), m.fn.result!);
  for (const [store, t] of results) {
    body.push(`// ${describeType(t)}`, ...wrapped('', `pub(crate) unsafe fn ${store}`, ['at: usize', `value: ${rustType(t)}`], ' {'), ...indent(lowerMem('value', t, new Addr('at'))), '}', '');
  }
  const areas = exports.map((m) => m.returnArea).filter((a) => a !== undefined);
  const size = Math.max(0, ...areas.map((a) => a.size));
  const align = Math.max(1, ...areas.map((a) => a.align));
  body.push(
    '/// Where an export whose result does not fit one core value writes it: as large and as aligned',
    '/// as the largest such result. One serves every export, as calls never overlap.',
    `#[repr(C, align(${align}))]`,
    `struct RetArea([u8; ${size}]);`,
    '',
    `static RET_AREA: Global<RetArea> = Global::new(RetArea([0; ${size}]));`,
    '',
    'pub(crate) unsafe fn ret_area() -> usize {',
    '    RET_AREA.get().0.as_mut_ptr() as usize',
    '}',
  );
  return file('abi.rs', [`Where the values of ${pkg.namespace}:${pkg.name}@${pkg.version} sit in linear memory: lifting and lowering per named type.`], body);
}

/** A readable name for a type, as its helpers are named: `result<option<get-response>, error>` -> `result_option_get_response_error`. */
function typeSlug(t: WitType | undefined): string {
  if (t === undefined) return 'unit';
  switch (t.kind) {
    case 'named':
      return snake(t.name);
    case 'primitive':
      return t.name;
    case 'list':
      return `list_${typeSlug(t.element)}`;
    case 'option':
      return `option_${typeSlug(t.inner)}`;
    case 'result':
      return `result_${typeSlug(t.ok)}_${typeSlug(t.err)}`;
    case 'tuple':
      return `tuple_${t.elements.map(typeSlug).join('_')}`;
    default:
      return unsupported(`an anonymous ${t.kind}`);
  }
}

/** The helper that writes an export's result into its return area. */
function resultStore(t: WitType): string {
  return `store_${typeSlug(t)}`;
}

function exportFunction(m: FunctionModel): string[] {
  const fn = m.fn;
  const params = paramNames(m);
  const lines = [`/// ${witSignature(fn)}`];
  const sig = ['guest: &mut G', ...params.map((p) => `${p.name}: ${p.type}`)];
  if (sig.length > 7) lines.push('#[allow(clippy::too_many_arguments)]');
  lines.push(...wrapped('', `pub unsafe fn ${ident(fn.name)}<G: Guest>`, sig, `${exportResultType(m)} {`));
  const body: string[] = ['begin_call();'];
  if (m.paramsSpill) {
    const fields = recordFields(fn.params);
    const { size, align } = layoutOf({ kind: 'tuple', elements: fn.params.map((p) => p.type) });
    for (const f of fields) body.push(`let ${ident(f.name)} = ${embed(liftMem(f.type, new Addr('args', f.offset)), '')};`);
    body.push(`free(args, ${size}, ${align});`);
  } else {
    const flat = new Cursor(params.map((p) => p.name));
    for (const p of fn.params) body.push(`let ${ident(p.name)} = ${embed(liftFlat(p.type, flat), '')};`);
  }
  const call = `guest.${ident(fn.name)}(${fn.params.map((p) => ident(p.name)).join(', ')})`;
  if (fn.result === undefined) {
    body.push(`${call};`);
  } else if (m.returnArea === undefined) {
    body.push(`let result = ${call};`, lowerFlat('result', fn.result));
  } else {
    body.push('let ret = ret_area();', `${resultStore(fn.result)}(ret, ${call});`, 'ret as *mut u8');
  }
  lines.push(...indent(body.flatMap((l) => l.split('\n'))), '}');
  return lines;
}

function exportFile(pkg: WitPackage, iface: WitInterface): GeneratedFile {
  const models = iface.functions.map((fn) => functionModel(pkg, iface.name, fn, 'export'));
  const body = [...GLUE_USES, ''];
  body.push(`/// What a component implements to export interface \`${iface.name}\`: its functions over Rust values.`, 'pub trait Guest {');
  for (const fn of iface.functions) {
    const params = ['&mut self', ...fn.params.map((p) => `${ident(p.name)}: ${rustType(p.type)}`)];
    const witDocs = docs(fn.docs, '    ');
    body.push(...witDocs, ...(witDocs.length > 0 ? ['    ///'] : []), `    /// ${witSignature(fn)}`, ...wrapped('    ', `fn ${ident(fn.name)}`, params, `${fn.result === undefined ? '' : ` -> ${rustType(fn.result)}`};`));
  }
  body.push('}', '');
  for (const m of models) body.push(...exportFunction(m), '');
  return file(`${snake(iface.name)}.rs`, [`The exports of interface \`${iface.name}\` (${pkg.namespace}:${pkg.name}/${iface.name}@${pkg.version}): lift the`, 'arguments, call the guest, lower the result into the return area.'], body);
}

/** Statements that write an element (`value`, a place of type T) at `at`: strings and bytes lent by pointer, scalars stored. */
function lendMem(value: string, t: WitType, at: Addr): string[] {
  const r = resolve(t);
  if ((r.kind === 'primitive' && r.name === 'string') || isBytes(r)) {
    return [`store_u32(${at.add(PTR_AT)}, ${value}.as_ptr() as u32);`, `store_u32(${at.add(LEN_AT)}, ${value}.len() as u32);`];
  }
  if (r.kind === 'primitive') {
    const s = SCALARS[r.name]!;
    return [`store_${s.mem}(${at}, ${s.lower(value)});`];
  }
  if (r.kind === 'tuple' || r.kind === 'record') {
    const fields = recordFields(r.kind === 'tuple' ? r.elements.map((type, i) => ({ name: String(i), type })) : r.fields);
    const access = (f: { name: string }): string => (r.kind === 'tuple' ? `${value}.${f.name}` : `${value}.${ident(f.name)}`);
    return fields.flatMap((f) => lendMem(access(f), f.type, at.add(f.offset)));
  }
  return unsupported(`an import argument holding a ${r.kind} in a list`);
}

/**
 * A list argument of an import: its elements laid out in a buffer that borrows their strings
 * (the host reads them during the call, and nothing is copied); the buffer lives until the
 * call returns.
 */
function lendList(name: string, t: WitType & { kind: 'list' }): { prep: string[]; flat: string[] } {
  const { size } = layoutOf(t.element);
  const prep = [
    `let ${name}_lent: Vec<u64> = {`,
    ...indent([
      `let mut buf: Vec<u64> = alloc::vec![0; (${name}.len() * ${size} + 7) / 8];`,
      'let base = buf.as_mut_ptr() as usize;',
      `for (i, e) in ${name}.iter().enumerate() {`,
      ...indent([`let at = base + i * ${size};`, ...lendMem('(*e)', t.element, new Addr('at'))]),
      '}',
      'buf',
    ]),
    '};',
  ];
  return { prep, flat: [`${name}_lent.as_ptr() as usize`, `${name}.len()`] };
}

function importParam(p: { name: string; type: WitType }): { decl: string; flat: string[]; prep: string[] } {
  const name = ident(p.name);
  const r = resolve(p.type);
  if (r.kind === 'primitive' && r.name === 'string') return { decl: `${name}: &str`, flat: [`${name}.as_ptr() as usize`, `${name}.len()`], prep: [] };
  if (isBytes(r)) return { decl: `${name}: &[u8]`, flat: [`${name}.as_ptr() as usize`, `${name}.len()`], prep: [] };
  if (r.kind === 'list') return { decl: `${name}: &[${rustType(r.element)}]`, ...lendList(name, r) };
  return { decl: `${name}: ${rustType(p.type)}`, flat: [lowerFlat(name, p.type)], prep: [] };
}

function importFile(pkg: WitPackage, iface: WitInterface): GeneratedFile {
  const models = iface.functions.map((fn) => functionModel(pkg, iface.name, fn, 'import'));
  const body = [...GLUE_USES, ''];
  for (const { name, type } of namedTypes(iface)) body.push(...typeDeclaration(iface, name, type), '');
  for (const { name, type } of namedTypes(iface)) {
    const helpers = typeHelpers(namedRef(iface.name, name, type));
    if (helpers.length > 0) body.push('#[allow(dead_code)]', ...helpers, '');
  }
  body.push(`#[link(wasm_import_module = "${models[0]?.module ?? ''}")]`, 'extern "C" {');
  for (const m of models) {
    const slots = m.fn.params.flatMap((p) => flatSlots(p.type));
    const names = m.flatParams.map((p, i) => `${flatName(p.words)}: ${slots[i]}`);
    if (m.returnArea !== undefined) names.push('ret_area: usize');
    const result = m.flatResults.length === 0 ? '' : ` -> ${CORE_RUST[m.flatResults[0]!]}`;
    body.push(`    #[link_name = "${m.coreName}"]`, ...wrapped('    ', `fn host_${snake(m.fn.name)}`, names, `${result};`));
  }
  body.push('}', '');
  for (const m of models) {
    const fn = m.fn;
    if (m.paramsSpill) unsupported(`an import with more than 16 flat parameters (\`${fn.name}\`)`);
    const params = fn.params.map(importParam);
    const args = params.flatMap((p) => p.flat);
    const result = fn.result === undefined ? '' : ` -> ${rustType(fn.result)}`;
    const witDocs = docs(fn.docs, '');
    body.push(...witDocs, ...(witDocs.length > 0 ? ['///'] : []), `/// ${witSignature(fn)}`, ...wrapped('', `pub fn ${ident(fn.name)}`, params.map((p) => p.decl), `${result} {`));
    const inner: string[] = params.flatMap((p) => p.prep);
    if (fn.result === undefined) {
      inner.push(`host_${snake(fn.name)}(${args.join(', ')})`);
    } else if (m.returnArea === undefined) {
      inner.push(`let ret = host_${snake(fn.name)}(${args.join(', ')});`, liftFlat(fn.result, new Cursor(['ret'])));
    } else {
      const { size, align } = m.returnArea;
      inner.push(
        `#[repr(C, align(${align}))]`,
        `struct RetArea([u8; ${size}]);`,
        `let mut ret = RetArea([0; ${size}]);`,
        'let at = ret.0.as_mut_ptr() as usize;',
        `host_${snake(fn.name)}(${[...args, 'at'].join(', ')});`,
        liftMem(fn.result, new Addr('at')),
      );
    }
    const lines = inner.flatMap((l) => l.split('\n'));
    const oneLine = `    unsafe { ${lines[0]} }`;
    body.push(
      '    // SAFETY: the host reads the arguments during the call; what it returns in memory it',
      '    // allocated with our cabi_realloc, and it becomes ours.',
      ...(lines.length === 1 && oneLine.length <= 120 ? [oneLine] : ['    unsafe {', ...indent(lines, '        '), '    }']),
      '}',
      '',
    );
  }
  return file(`${snake(iface.name)}.rs`, [`The imports of host interface \`${iface.name}\` (${models[0]?.module ?? iface.name}), as safe functions.`], body);
}

function macrosFile(pkg: WitPackage, exported: WitInterface[]): GeneratedFile {
  const body: string[] = [];
  for (const iface of exported) {
    const mod = snake(iface.name);
    body.push(
      `/// Exports interface \`${iface.name}\` under its canonical names, each over \`$guest\`: an expression`,
      `/// (evaluated in each export) of a \`&mut\` to an implementation of \`${mod}::Guest\`.`,
      '#[doc(hidden)]',
      '#[macro_export]',
      `macro_rules! __tessera_export_${mod} {`,
      '    ($guest:expr) => {',
    );
    for (const fn of iface.functions) {
      const m = functionModel(pkg, iface.name, fn, 'export');
      const params = paramNames(m);
      const name = `${mod}_${snake(fn.name)}`;
      const args = ['$guest', ...params.map((p) => p.name)];
      body.push(
        `        #[export_name = "${m.coreName}"]`,
        ...wrapped('        ', `unsafe extern "C" fn __tessera_${name}`, params.map((p) => `${p.name}: ${p.type}`), `${exportResultType(m)} {`),
        ...wrapped('            ', `$crate::__private::${mod}::${ident(fn.name)}`, args, ''),
        '        }',
      );
      if (m.postReturn !== undefined) {
        const ret = m.returnArea !== undefined ? '*mut u8' : CORE_RUST[m.flatResults[0]!];
        body.push(`        #[export_name = "${m.postReturn}"]`, `        unsafe extern "C" fn __tessera_post_${name}(_ret: ${ret}) {`, '            $crate::__private::post_return()', '        }');
      }
    }
    body.push('    };', '}', '');
  }
  return file('macros.rs', [`The export macros of ${pkg.namespace}:${pkg.name}@${pkg.version}: per exported interface, its \`extern "C"\``, 'functions and post-returns under the canonical names.'], body);
}

export function generateRust(pkg: WitPackage): GeneratedFile[] {
  const { exported, imported } = interfaceRoles(pkg);
  const all = [...pkg.interfaces.values()];
  const exportedIfaces = all.filter((i) => exported.includes(i.name));
  const importedIfaces = all.filter((i) => imported.includes(i.name) && !exported.includes(i.name));
  const typeIfaces = all.filter((i) => !importedIfaces.includes(i));
  const exportModels = exportedIfaces.flatMap((i) => i.functions.map((fn) => functionModel(pkg, i.name, fn, 'export')));
  const modules = [...exportedIfaces, ...importedIfaces].map((i) => snake(i.name));
  const mod = file(
    'mod.rs',
    [`The canonical-ABI glue of ${pkg.namespace}:${pkg.name}@${pkg.version} for the Rust SDK (see host/toolchain/bindgen/rust.ts).`],
    [
      'pub(crate) mod abi;',
      'mod macros;',
      'pub mod types;',
      '',
      ...modules.sort().map((m) => `pub mod ${m};`),
      '',
      '/// The WIT package version this SDK builds against: the ABI version (abi/ABI.md).',
      `pub const ABI_VERSION: &str = "${pkg.version}";`,
      '',
      '/// The host interfaces a world may import: the capabilities a manifest may name, in its order.',
      `pub const HOST_INTERFACES: [&str; ${imported.length}] = [${imported.map((i) => `"${i}"`).join(', ')}];`,
      '',
      '/// The post-return of every export: drops what the last result pointed to.',
      'pub unsafe fn post_return() {',
      '    crate::rt::release()',
      '}',
    ],
  );
  return [
    mod,
    typesFile(pkg, typeIfaces),
    abiFile(pkg, typeIfaces, exportModels),
    macrosFile(pkg, exportedIfaces),
    ...exportedIfaces.map((i) => exportFile(pkg, i)),
    ...importedIfaces.map((i) => importFile(pkg, i)),
  ];
}
