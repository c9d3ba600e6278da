// Parses the WIT package in abi/wit/ into resolved types, so the host derives every binding
// from WIT at start-up. Reads the subset the ABI uses (with `@since` gates); refuses the rest by name.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import { TesseraError } from '../../errors.ts';
import type {
  WitCase,
  WitField,
  WitFunction,
  WitInterface,
  WitNamed,
  WitPackage,
  WitPrimitiveName,
  WitType,
  WitWorld,
} from './ast.ts';
import { compareVersions } from './versions.ts';
import { lex, syntaxError, type Pos, type Token } from './lexer.ts';

export interface WitSource {
  file: string;
  text: string;
}

/** Reads every `.wit` file of `dir` (one package). */
export function loadWitPackage(dir: string): WitPackage {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.wit'))
    .sort();
  if (files.length === 0) throw new TesseraError('ERR_COMPONENT_LOAD', `no .wit files in ${dir}`);
  return parseWitPackage(files.map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') })));
}

/** Parses the files of one WIT package and resolves every name in it. */
export function parseWitPackage(sources: WitSource[]): WitPackage {
  return resolve(sources.map(parseFile));
}

const PRIMITIVES = new Set<string>(['bool', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'f32', 'f64', 'char', 'string']);

// A keyword is only a name when written with `%` (`%type`).
const KEYWORDS = new Set<string>([
  ...PRIMITIVES,
  'use', 'type', 'func', 'float32', 'float64', 'record', 'resource', 'own', 'borrow', 'flags', 'variant', 'enum',
  'option', 'result', 'future', 'stream', 'error-context', 'list', 'tuple', 'as', 'from', 'static', 'interface',
  'import', 'export', 'world', 'package', 'constructor', 'include', 'with', 'async',
]);

// Features of WIT that ABI 0.1.0 leaves out, refused where they appear.
const UNSUPPORTED = new Set<string>(['resource', 'own', 'borrow', 'future', 'stream', 'error-context', 'async', 'include']);

// ---- Parsing into unresolved syntax ----

type SynType =
  | { kind: 'primitive'; name: WitPrimitiveName }
  | { kind: 'list'; element: SynType }
  | { kind: 'option'; inner: SynType; pos: Pos }
  | { kind: 'result'; ok: SynType | undefined; err: SynType | undefined }
  | { kind: 'tuple'; elements: SynType[] }
  | { kind: 'ref'; name: string; pos: Pos };

type SynTypeDef =
  | { kind: 'alias'; type: SynType }
  | { kind: 'record'; fields: { name: string; type: SynType; docs?: string }[] }
  | { kind: 'variant'; cases: { name: string; type: SynType | undefined; docs?: string }[] }
  | { kind: 'enum'; cases: string[]; caseDocs: Map<string, string> }
  | { kind: 'flags'; flags: string[] };

interface SynInterface {
  name: string;
  pos: Pos;
  /** Local name -> where it comes from. */
  uses: Map<string, { from: string; name: string; pos: Pos }>;
  typedefs: Map<string, { def: SynTypeDef; pos: Pos; docs?: string }>;
  funcs: { name: string; params: { name: string; type: SynType }[]; result: SynType | undefined; pos: Pos; docs?: string }[];
  docs?: string;
  since?: string;
}

interface SynWorld {
  name: string;
  pos: Pos;
  imports: { name: string; pos: Pos; since?: string }[];
  exports: { name: string; pos: Pos; since?: string }[];
  since?: string;
}

interface SynFile {
  file: string;
  pkg: { namespace: string; name: string; version: string; pos: Pos } | undefined;
  interfaces: SynInterface[];
  worlds: SynWorld[];
}

class Parser {
  readonly #file: string;
  readonly #tokens: Token[];
  #i = 0;

  constructor(file: string, tokens: Token[]) {
    this.#file = file;
    this.#tokens = tokens;
  }

  get #tok(): Token {
    return this.#tokens[this.#i]!;
  }

  /** The `///` doc comment before the next token, if any. */
  docs(): string | undefined {
    return this.#tok.docs;
  }

  pos(tok: Token = this.#tok): Pos {
    return { file: this.#file, line: tok.line, col: tok.col };
  }

  error(message: string, tok: Token = this.#tok): TesseraError {
    return syntaxError(this.pos(tok), message);
  }

  #show(tok: Token): string {
    return tok.kind === 'eof' ? 'end of file' : `\`${tok.escaped ? '%' : ''}${tok.text}\``;
  }

  /** Whether the next token is the punctuation or keyword `text` (consumed when it is). */
  eat(text: string): boolean {
    const t = this.#tok;
    if (t.text !== text || t.escaped || t.kind === 'version' || t.kind === 'since') return false;
    this.#i++;
    return true;
  }

  peekKeyword(): string | undefined {
    const t = this.#tok;
    return t.kind === 'id' && !t.escaped && KEYWORDS.has(t.text) ? t.text : undefined;
  }

  /** Whether the token after the next one is `text`. */
  secondIs(text: string): boolean {
    return this.#tokens[this.#i + 1]?.text === text;
  }

  atEof(): boolean {
    return this.#tok.kind === 'eof';
  }

  expect(text: string, what: string): void {
    if (!this.eat(text)) throw this.error(`expected \`${text}\` ${what}, found ${this.#show(this.#tok)}`);
  }

  /** A name: an identifier that is not a keyword unless escaped with `%`. */
  name(what: string): string {
    const t = this.#tok;
    if (t.kind !== 'id') throw this.error(`expected ${what}, found ${this.#show(t)}`);
    if (!t.escaped && KEYWORDS.has(t.text)) {
      throw this.error(`expected ${what}, found the keyword \`${t.text}\` (write \`%${t.text}\` to use it as a name)`);
    }
    this.#i++;
    return t.text;
  }

  unsupported(tok: Token = this.#tok): TesseraError {
    return this.error(`\`${tok.text}\` is not supported by ABI ${ABI_VERSION}`, tok);
  }

  /** `@x.y.z`, lexed as one token. */
  version(missing: string): string {
    const t = this.#tok;
    if (t.kind !== 'version') throw this.error(missing);
    this.#i++;
    return t.text;
  }

  /** The version of a `@since(version = x.y.z)` gate before the next item, if there is one. */
  since(): string | undefined {
    const t = this.#tok;
    if (t.kind !== 'since') return undefined;
    this.#i++;
    return t.text;
  }

  /** `a, b, c` up to `close`, trailing comma allowed. */
  commaList<T>(close: string, what: string, item: () => T): T[] {
    const items: T[] = [];
    while (!this.eat(close)) {
      items.push(item());
      if (!this.eat(',')) {
        this.expect(close, `to close the ${what}`);
        break;
      }
    }
    return items;
  }

  type(): SynType {
    const t = this.#tok;
    const pos = this.pos();
    const kw = this.peekKeyword();
    if (kw === undefined) return { kind: 'ref', name: this.name('a type'), pos };
    if (UNSUPPORTED.has(kw)) throw this.unsupported();
    this.#i++;
    if (PRIMITIVES.has(kw)) return { kind: 'primitive', name: kw as WitPrimitiveName };
    switch (kw) {
      case 'list': {
        this.expect('<', 'after `list`');
        const element = this.type();
        this.expect('>', 'to close `list<`');
        return { kind: 'list', element };
      }
      case 'option': {
        this.expect('<', 'after `option`');
        const inner = this.type();
        this.expect('>', 'to close `option<`');
        return { kind: 'option', inner, pos };
      }
      case 'result': {
        if (!this.eat('<')) return { kind: 'result', ok: undefined, err: undefined };
        const ok = this.eat('_') ? undefined : this.type();
        const err = this.eat(',') ? (this.eat('_') ? undefined : this.type()) : undefined;
        if (ok === undefined && err === undefined) throw this.error('`result<_>` says nothing: write `result`', t);
        this.expect('>', 'to close `result<`');
        return { kind: 'result', ok, err };
      }
      case 'tuple': {
        this.expect('<', 'after `tuple`');
        const elements = this.commaList('>', '`tuple<`', () => this.type());
        if (elements.length === 0) throw this.error('`tuple<>` is empty: a tuple needs at least one element', t);
        return { kind: 'tuple', elements };
      }
      default:
        throw this.error(`expected a type, found the keyword \`${kw}\``, t);
    }
  }
}

function parseFile(source: WitSource): SynFile {
  const p = new Parser(source.file, lex(source.file, source.text));
  const out: SynFile = { file: source.file, pkg: undefined, interfaces: [], worlds: [] };
  if (p.peekKeyword() === 'package') {
    const pos = p.pos();
    p.eat('package');
    const namespace = p.name('a package namespace');
    p.expect(':', 'between the package namespace and name');
    const name = p.name('a package name');
    const version = p.version(`the package needs a version: \`package ${namespace}:${name}@${ABI_VERSION};\``);
    p.expect(';', 'after the package declaration');
    out.pkg = { namespace, name, version, pos };
  }
  while (!p.atEof()) {
    const since = p.since();
    const kw = p.peekKeyword();
    if (kw === 'interface') out.interfaces.push({ ...parseInterface(p), ...(since && { since }) });
    else if (kw === 'world') out.worlds.push({ ...parseWorld(p), ...(since && { since }) });
    else if (since !== undefined) throw p.error('`@since(...)` gates an `interface` or a `world` here');
    else if (kw === 'package') throw p.error('the package declaration must come first, once per file');
    else if (kw === 'use') throw p.error(`top-level \`use\` is not supported by ABI ${ABI_VERSION}: \`use\` inside an interface`);
    else if (p.eat('@')) throw p.error(`feature gates other than \`@since(version = x.y.z)\` are not supported by ABI ${ABI_VERSION}`);
    else throw p.error('expected `interface` or `world`');
  }
  return out;
}

function parseInterface(p: Parser): SynInterface {
  const docs = p.docs();
  p.eat('interface');
  const pos = p.pos();
  const iface: SynInterface = { name: p.name('an interface name'), pos, uses: new Map(), typedefs: new Map(), funcs: [], ...(docs && { docs }) };
  const declare = (name: string, namePos: Pos): void => {
    if (iface.uses.has(name) || iface.typedefs.has(name)) throw syntaxError(namePos, `type \`${name}\` is defined twice in interface \`${iface.name}\``);
  };
  p.expect('{', `to open interface \`${iface.name}\``);
  while (!p.eat('}')) {
    const kw = p.peekKeyword();
    const itemPos = p.pos();
    const itemDocs = p.docs();
    if (kw !== undefined && p.secondIs(':')) {
      throw p.error(`the keyword \`${kw}\` cannot name a function (write \`%${kw}\` to use it as a name)`);
    }
    if (kw === 'use') {
      p.eat('use');
      const from = p.name('an interface name after `use`');
      if (p.eat(':')) throw p.error(`\`use\` of another package is not supported by ABI ${ABI_VERSION}`);
      p.expect('.', `after \`use ${from}\``);
      p.expect('{', `after \`use ${from}.\``);
      for (const item of p.commaList('}', '`use` list', () => {
        const namePos = p.pos();
        const name = p.name('a type name');
        const local = p.eat('as') ? p.name('a name after `as`') : name;
        return { name, local, namePos };
      })) {
        declare(item.local, item.namePos);
        iface.uses.set(item.local, { from, name: item.name, pos: item.namePos });
      }
      p.expect(';', 'after the `use` list');
    } else if (kw === 'type' || kw === 'record' || kw === 'variant' || kw === 'enum' || kw === 'flags') {
      p.eat(kw);
      const namePos = p.pos();
      const name = p.name(`a ${kw} name`);
      declare(name, namePos);
      iface.typedefs.set(name, { def: parseTypeDef(p, kw, name), pos: namePos, ...(itemDocs && { docs: itemDocs }) });
    } else if (kw !== undefined) {
      if (UNSUPPORTED.has(kw)) throw p.unsupported();
      throw p.error(`expected a type, a \`use\` or a function in interface \`${iface.name}\`, found the keyword \`${kw}\``);
    } else {
      const name = p.name(`a type, a \`use\` or a function in interface \`${iface.name}\``);
      p.expect(':', `after the function name \`${name}\``);
      if (p.peekKeyword() === 'async') throw p.unsupported();
      p.expect('func', `after \`${name}:\``);
      p.expect('(', 'to open the parameter list');
      const params = p.commaList(')', 'parameter list', () => {
        const paramPos = p.pos();
        const param = p.name('a parameter name');
        p.expect(':', `after the parameter name \`${param}\``);
        return { name: param, type: p.type(), pos: paramPos };
      });
      const seen = new Set<string>();
      for (const param of params) {
        if (seen.has(param.name)) throw syntaxError(param.pos, `parameter \`${param.name}\` of \`${name}\` is declared twice`);
        seen.add(param.name);
      }
      let result: SynType | undefined;
      if (p.eat('->')) {
        if (p.eat('(')) throw p.error(`named results are not supported by ABI ${ABI_VERSION}: return one type`);
        result = p.type();
      }
      p.expect(';', `after the function \`${name}\``);
      if (iface.funcs.some((f) => f.name === name)) throw syntaxError(itemPos, `function \`${name}\` is defined twice in interface \`${iface.name}\``);
      iface.funcs.push({ name, params: params.map(({ name: n, type }) => ({ name: n, type })), result, pos: itemPos, ...(itemDocs && { docs: itemDocs }) });
    }
  }
  return iface;
}

function parseTypeDef(p: Parser, kw: 'type' | 'record' | 'variant' | 'enum' | 'flags', name: string): SynTypeDef {
  const start = p.pos();
  const unique = (labels: { name: string; pos: Pos }[], what: string): string[] => {
    if (labels.length === 0) throw syntaxError(start, `${kw} \`${name}\` has no ${what}s: empty types are not allowed`);
    const seen = new Set<string>();
    for (const l of labels) {
      if (seen.has(l.name)) throw syntaxError(l.pos, `${what} \`${l.name}\` appears twice in ${kw} \`${name}\``);
      seen.add(l.name);
    }
    return labels.map((l) => l.name);
  };
  const label = (what: string): { name: string; pos: Pos; docs?: string } => {
    const pos = p.pos();
    const docs = p.docs();
    return { name: p.name(`a ${what} name`), pos, ...(docs && { docs }) };
  };
  if (kw === 'type') {
    p.expect('=', `after \`type ${name}\``);
    const type = p.type();
    p.expect(';', `after \`type ${name} = ...\``);
    return { kind: 'alias', type };
  }
  p.expect('{', `to open ${kw} \`${name}\``);
  switch (kw) {
    case 'record': {
      const fields = p.commaList('}', `record \`${name}\``, () => {
        const l = label('field');
        p.expect(':', `after the field name \`${l.name}\``);
        return { ...l, type: p.type() };
      });
      unique(fields, 'field');
      return { kind: 'record', fields: fields.map((f) => ({ name: f.name, type: f.type, ...(f.docs && { docs: f.docs }) })) };
    }
    case 'variant': {
      const cases = p.commaList('}', `variant \`${name}\``, () => {
        const l = label('case');
        let type: SynType | undefined;
        if (p.eat('(')) {
          type = p.type();
          p.expect(')', `to close the payload of case \`${l.name}\``);
        }
        return { ...l, type };
      });
      unique(cases, 'case');
      return { kind: 'variant', cases: cases.map((c) => ({ name: c.name, type: c.type, ...(c.docs && { docs: c.docs }) })) };
    }
    case 'enum': {
      const labels = p.commaList('}', `enum \`${name}\``, () => label('case'));
      const caseDocs = new Map(labels.filter((l) => l.docs !== undefined).map((l) => [l.name, l.docs!]));
      return { kind: 'enum', cases: unique(labels, 'case'), caseDocs };
    }
    case 'flags': {
      const flags = unique(p.commaList('}', `flags \`${name}\``, () => label('flag')), 'flag');
      // The current Canonical ABI caps flags at 32 (one i32); more was dropped from the spec.
      if (flags.length > 32) throw syntaxError(start, `flags \`${name}\` has ${flags.length} flags: at most 32 are supported`);
      return { kind: 'flags', flags };
    }
  }
}

function parseWorld(p: Parser): SynWorld {
  p.eat('world');
  const pos = p.pos();
  const world: SynWorld = { name: p.name('a world name'), pos, imports: [], exports: [] };
  p.expect('{', `to open world \`${world.name}\``);
  while (!p.eat('}')) {
    const since = p.since();
    const kw = p.peekKeyword();
    if (kw !== 'import' && kw !== 'export') {
      if (kw !== undefined && UNSUPPORTED.has(kw)) throw p.unsupported();
      throw p.error(`expected \`import\` or \`export\` in world \`${world.name}\` (ABI ${ABI_VERSION} worlds only import and export interfaces)`);
    }
    p.eat(kw);
    const itemPos = p.pos();
    const name = p.name(`an interface name after \`${kw}\``);
    if (p.eat(':')) {
      throw p.error(`\`${kw} ${name}: ...\` is not supported by ABI ${ABI_VERSION}: ${kw} an interface of this package by name`);
    }
    p.expect(';', `after \`${kw} ${name}\``);
    const list = kw === 'import' ? world.imports : world.exports;
    if (world.imports.some((i) => i.name === name) || world.exports.some((e) => e.name === name)) {
      throw syntaxError(itemPos, `interface \`${name}\` appears twice in world \`${world.name}\``);
    }
    list.push({ name, pos: itemPos, ...(since && { since }) });
  }
  return world;
}

// ---- Resolution ----

function resolve(files: SynFile[]): WitPackage {
  const declared = files.filter((f) => f.pkg !== undefined);
  const first = declared[0]?.pkg;
  if (first === undefined) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `no package declaration in ${files.map((f) => f.file).join(', ')}: add \`package ns:name@x.y.z;\``);
  }
  for (const f of declared) {
    const pkg = f.pkg!;
    if (pkg.namespace !== first.namespace || pkg.name !== first.name || pkg.version !== first.version) {
      throw syntaxError(pkg.pos, `package ${pkg.namespace}:${pkg.name}@${pkg.version} differs from ${first.namespace}:${first.name}@${first.version} declared in ${first.pos.file}`);
    }
  }

  const syn = new Map<string, SynInterface>();
  const synWorlds = new Map<string, SynWorld>();
  const checkGate = (since: string | undefined, pos: Pos): void => {
    if (since !== undefined && compareVersions(since, first.version) > 0) throw syntaxError(pos, `@since(version = ${since}) is later than the package's version ${first.version}`);
  };
  for (const f of files) {
    for (const item of [...f.interfaces, ...f.worlds]) checkGate(item.since, item.pos);
    for (const w of f.worlds) for (const item of [...w.imports, ...w.exports]) checkGate(item.since, item.pos);
    for (const i of f.interfaces) {
      if (syn.has(i.name) || synWorlds.has(i.name)) throw syntaxError(i.pos, `\`${i.name}\` is defined twice in the package`);
      syn.set(i.name, i);
    }
    for (const w of f.worlds) {
      if (syn.has(w.name) || synWorlds.has(w.name)) throw syntaxError(w.pos, `\`${w.name}\` is defined twice in the package`);
      synWorlds.set(w.name, w);
    }
  }

  // One WitNamed per definition, so every reference shares it; `undefined` marks one being resolved.
  const named = new Map<string, WitNamed | undefined>();

  const lookup = (iface: SynInterface, name: string, pos: Pos, seen = new Set<SynInterface>()): WitNamed => {
    const used = iface.uses.get(name);
    if (used !== undefined) {
      const from = syn.get(used.from);
      if (from === undefined) throw syntaxError(used.pos, `\`use ${used.from}.{...}\`: no interface \`${used.from}\` in the package`);
      if (seen.has(from)) throw syntaxError(used.pos, `\`use ${used.from}.{${used.name}}\` goes round in a circle`);
      seen.add(iface);
      return lookup(from, used.name, used.pos, seen);
    }
    if (!iface.typedefs.has(name)) throw syntaxError(pos, `interface \`${iface.name}\` defines no type \`${name}\``);
    return define(iface, name);
  };

  const define = (iface: SynInterface, name: string): WitNamed => {
    const key = `${iface.name}/${name}`;
    const done = named.get(key);
    if (done !== undefined) return done;
    const { def, pos } = iface.typedefs.get(name)!;
    if (named.has(key)) throw syntaxError(pos, `type \`${name}\` refers to itself; recursive types are not allowed`);
    named.set(key, undefined);
    const ty = (t: SynType): WitType => resolveType(iface, t);
    let type: WitType;
    switch (def.kind) {
      case 'alias':
        type = ty(def.type);
        break;
      case 'record':
        type = { kind: 'record', fields: def.fields.map((f): WitField => ({ name: f.name, type: ty(f.type), ...(f.docs && { docs: f.docs }) })) };
        break;
      case 'variant':
        type = { kind: 'variant', cases: def.cases.map((c): WitCase => ({ name: c.name, type: c.type && ty(c.type), ...(c.docs && { docs: c.docs }) })) };
        break;
      case 'enum':
        type = def.caseDocs.size > 0 ? { kind: 'enum', cases: def.cases, caseDocs: def.caseDocs } : { kind: 'enum', cases: def.cases };
        break;
      case 'flags':
        type = { kind: 'flags', flags: def.flags };
        break;
    }
    const result: WitNamed = { kind: 'named', name, interface: iface.name, type };
    named.set(key, result);
    return result;
  };

  const resolveType = (iface: SynInterface, t: SynType): WitType => {
    switch (t.kind) {
      case 'primitive':
        return { kind: 'primitive', name: t.name };
      case 'ref':
        return lookup(iface, t.name, t.pos);
      case 'list':
        return { kind: 'list', element: resolveType(iface, t.element) };
      case 'option': {
        const inner = resolveType(iface, t.inner);
        let base = inner;
        while (base.kind === 'named') base = base.type;
        // jco lifts option<T> to `T | undefined`, which cannot tell none from some(none).
        if (base.kind === 'option') throw syntaxError(t.pos, 'option<option<...>> is not supported: a nested option cannot be told apart from none in JavaScript');
        return { kind: 'option', inner };
      }
      case 'result':
        return { kind: 'result', ok: t.ok && resolveType(iface, t.ok), err: t.err && resolveType(iface, t.err) };
      case 'tuple':
        return { kind: 'tuple', elements: t.elements.map((e) => resolveType(iface, e)) };
    }
  };

  const interfaces = new Map<string, WitInterface>();
  for (const iface of syn.values()) {
    const types = new Map<string, WitType>();
    for (const name of iface.typedefs.keys()) types.set(name, define(iface, name).type);
    for (const [local, used] of iface.uses) lookup(iface, local, used.pos);
    const functions = iface.funcs.map(
      (f): WitFunction => ({
        name: f.name,
        params: f.params.map((p) => ({ name: p.name, type: resolveType(iface, p.type) })),
        result: f.result && resolveType(iface, f.result),
        ...(f.docs && { docs: f.docs }),
      }),
    );
    const typeDocs = new Map([...iface.typedefs].filter(([, t]) => t.docs !== undefined).map(([name, t]) => [name, t.docs!]));
    interfaces.set(iface.name, { name: iface.name, types, functions, typeDocs, ...(iface.docs && { docs: iface.docs }), ...(iface.since && { since: iface.since }) });
  }

  const worlds = new Map<string, WitWorld>();
  for (const w of synWorlds.values()) {
    for (const item of [...w.imports, ...w.exports]) {
      if (!interfaces.has(item.name)) throw syntaxError(item.pos, `world \`${w.name}\` names \`${item.name}\`, which is no interface of this package`);
      // A module of an earlier version must see a world whole: an interface added later
      // joins an older world only under a gate of its own version or later.
      const added = interfaces.get(item.name)!.since;
      const gate = item.since ?? w.since;
      if (added !== undefined && (gate === undefined || compareVersions(gate, added) < 0)) {
        throw syntaxError(item.pos, `interface \`${item.name}\` is @since(version = ${added}): world \`${w.name}\` names it under \`@since(version = ${added})\` or later`);
      }
    }
    const itemSince = new Map([...w.imports, ...w.exports].flatMap((i) => (i.since === undefined ? [] : [[i.name, i.since] as const])));
    worlds.set(w.name, { name: w.name, imports: w.imports.map((i) => i.name), exports: w.exports.map((e) => e.name), ...(w.since && { since: w.since }), ...(itemSince.size > 0 && { itemSince }) });
  }

  return { namespace: first.namespace, name: first.name, version: first.version, interfaces, worlds };
}
