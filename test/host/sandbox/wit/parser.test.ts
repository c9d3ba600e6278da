import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadWitPackage, parseWitPackage } from '../../../../host/sandbox/wit/parser.ts';
import { describeType, type WitType } from '../../../../host/sandbox/wit/ast.ts';
import { isTesseraError } from '../../../../host/errors.ts';
import { ABI_VERSION } from '../../../../abi/ts/manifest.ts';
import { packageAt } from '../../../../host/sandbox/wit/versions.ts';

const WIT_DIR = fileURLToPath(new URL('../../../../abi/wit', import.meta.url));

function parse(text: string, file = 'test.wit') {
  return parseWitPackage([{ file, text }]);
}

function refuses(text: string, pattern: RegExp): void {
  assert.throws(
    () => parse(text),
    (err: unknown) => isTesseraError(err, 'ERR_COMPONENT_LOAD') && pattern.test(err.message),
  );
}

function strip(t: WitType): WitType {
  return t.kind === 'named' ? strip(t.type) : t;
}

test('loads the tessera:components package from abi/wit', () => {
  const pkg = loadWitPackage(WIT_DIR);
  assert.equal(`${pkg.namespace}:${pkg.name}@${pkg.version}`, `tessera:components@${ABI_VERSION}`);
  assert.deepEqual(
    [...pkg.interfaces.keys()].sort(),
    ['binding', 'clock', 'http', 'input', 'log', 'output', 'pubsub', 'query', 'random', 'redis', 'sleep', 'snapshot', 'snapshot-stream', 'state', 'tcp', 'timezone', 'types'],
  );
  assert.deepEqual(pkg.worlds.get('state-store'), {
    name: 'state-store',
    imports: ['log', 'clock', 'random', 'sleep', 'tcp', 'http', 'timezone', 'redis'],
    exports: ['state'],
    itemSince: new Map([
      ['http', '0.1.1'],
      ['timezone', '0.1.1'],
      ['redis', '0.1.3'],
    ]),
  });
  assert.equal(pkg.interfaces.get('http')?.since, '0.1.1');
  assert.equal(pkg.worlds.get('output-binding')?.since, '0.1.1');
  assert.deepEqual(pkg.worlds.get('snapshotting-state-store')?.exports, ['state', 'snapshot', 'snapshot-stream']);
  assert.equal(pkg.interfaces.get('query')?.since, '0.1.2');
  assert.equal(pkg.interfaces.get('redis')?.since, '0.1.3');
  assert.deepEqual(pkg.worlds.get('queryable-state-store')?.exports, ['state', 'query']);
});

test('resolves the types of state.get, through `use` and aliases', () => {
  const pkg = loadWitPackage(WIT_DIR);
  const state = pkg.interfaces.get('state')!;
  assert.deepEqual(
    state.functions.map((f) => f.name),
    ['init', 'features', 'get', 'set', 'delete', 'bulk-get', 'bulk-set', 'bulk-delete', 'transact', 'ping'],
  );
  const get = state.functions.find((f) => f.name === 'get')!;
  assert.equal(get.params.length, 1);
  assert.equal(get.params[0]!.name, 'req');
  assert.equal(describeType(get.params[0]!.type), 'get-request');
  assert.equal(describeType(get.result), 'result<option<get-response>, error>');

  const req = strip(get.params[0]!.type);
  assert.equal(req.kind, 'record');
  assert.deepEqual(
    req.kind === 'record' && req.fields.map((f) => `${f.name}: ${describeType(f.type)}`),
    ['key: string', 'consistency: consistency', 'metadata: metadata'],
  );
  const metadata = req.kind === 'record' ? req.fields[2]!.type : undefined;
  assert.equal(metadata?.kind === 'named' && metadata.interface, 'types');
  assert.equal(describeType(metadata?.kind === 'named' ? metadata.type : undefined), 'list<tuple<string, string>>');

  // A `use`d type is the very definition, shared with the interface that defines it.
  const result = get.result!;
  assert.equal(result.kind, 'result');
  const err = result.kind === 'result' ? result.err : undefined;
  assert.equal(err?.kind === 'named' && err.type, pkg.interfaces.get('types')!.types.get('error'));
  const response = state.types.get('get-response')!;
  assert.deepEqual(
    response.kind === 'record' && response.fields.map((f) => `${f.name}: ${describeType(f.type)}`),
    ['value: list<u8>', 'etag: option<string>', 'content-type: option<string>', 'metadata: metadata'],
  );
  assert.deepEqual(state.types.get('concurrency'), { kind: 'enum', cases: ['last-write', 'first-write'] });
});

test('reads comments, trailing commas, %-escaped names, results and types declared after use', () => {
  const pkg = parse(`
    // a line comment
    /* a block comment /* nested */ still a comment */
    package demo:kit@1.2.3-rc.1;

    /// doc comment
    interface kit {
      f: func(%type: later, %list: list<u8>,) -> result<_, string>;
      g: func() -> result;
      h: func(x: tuple<u8, s64,>) -> result<u32>;
      record later { a: u8, b: flag-set, }
      flags flag-set { read, write, }
      variant v { none, some(string), }
      enum e { one, two, }
      type alias = option<v>;
    }
    world w { export kit; }`);
  const kit = pkg.interfaces.get('kit')!;
  const f = kit.functions[0]!;
  assert.deepEqual(f.params.map((p) => p.name), ['type', 'list']);
  assert.equal(describeType(f.params[0]!.type), 'later');
  assert.equal(describeType(f.result), 'result<_, string>');
  assert.equal(describeType(kit.functions[1]!.result), 'result');
  assert.equal(describeType(kit.functions[2]!.params[0]!.type), 'tuple<u8, s64>');
  assert.equal(describeType(kit.functions[2]!.result), 'result<u32, _>');
  assert.deepEqual([...kit.types.keys()], ['later', 'flag-set', 'v', 'e', 'alias']);
  assert.equal(pkg.version, '1.2.3-rc.1');
  assert.deepEqual(pkg.worlds.get('w')?.exports, ['kit']);
});

test('reads one package spread over several files', () => {
  const pkg = parseWitPackage([
    { file: 'a.wit', text: 'package x:y@0.1.0;\ninterface a { use b.{t as u}; f: func(v: u); }' },
    { file: 'b.wit', text: 'interface b { type t = u32; }' },
  ]);
  assert.deepEqual(pkg.interfaces.get('a')!.functions[0]!.params[0]!.type, { kind: 'named', name: 't', interface: 'b', type: { kind: 'primitive', name: 'u32' } });
});

test('syntax errors name the file, line and column', () => {
  assert.throws(
    () => parse('package a:b@0.1.0;\ninterface i {\n  f: func() -> u32\n}', 'broken.wit'),
    (err: unknown) => isTesseraError(err, 'ERR_COMPONENT_LOAD') && /^broken\.wit:4:1: expected `;` after the function `f`, found `}`$/.test(err.message),
  );
  refuses('package a:b@0.1.0;\ninterface i {\n  f: func(x: u32) -> strin;\n}', /^test\.wit:3:22: interface `i` defines no type `strin`/);
  refuses('package a:b@0.1.0;\n/* never closed', /^test\.wit:2:1: unterminated block comment/);
  refuses('package a:b@0.1.0;\ninterface i { f: func(my_arg: u8); }', /^test\.wit:2:23: `my_arg` is not a valid WIT identifier/);
  refuses('package a:b@0.1.0;\ninterface i { type: func(); }', /^test\.wit:2:15: the keyword `type` cannot name a function \(write `%type` to use it as a name\)/);
  refuses('package a:b;\ninterface i {}', /^test\.wit:1:12: the package needs a version/);
  refuses('interface i {}', /no package declaration/);
  refuses('package a:b@0.1.0;\ninterface i { f: func() -> u32 $ }', /^test\.wit:2:32: unexpected character "\$"/);
});

test('refuses what the ABI does not support, by name', () => {
  const pkg = 'package a:b@0.1.0;\n';
  refuses(`${pkg}interface i { resource r; }`, /^test\.wit:2:15: `resource` is not supported by ABI \d+\.\d+\.\d+/);
  refuses(`${pkg}interface i { f: func(h: borrow<r>); }`, /`borrow` is not supported by ABI \d+\.\d+\.\d+/);
  refuses(`${pkg}interface i { f: func(h: own<r>); }`, /`own` is not supported by ABI \d+\.\d+\.\d+/);
  refuses(`${pkg}interface i { f: func() -> future<u8>; }`, /`future` is not supported by ABI \d+\.\d+\.\d+/);
  refuses(`${pkg}interface i { f: func() -> stream<u8>; }`, /`stream` is not supported by ABI \d+\.\d+\.\d+/);
  refuses(`${pkg}interface i { f: async func(); }`, /`async` is not supported by ABI \d+\.\d+\.\d+/);
  refuses(`${pkg}interface i { f: func() -> (a: u32, b: u32); }`, /named results are not supported by ABI \d+\.\d+\.\d+/);
  refuses(`${pkg}interface i { use wasi:io/streams.{x}; }`, /`use` of another package is not supported/);
  refuses(`${pkg}world w { import f: func(); }`, /`import f: \.\.\.` is not supported by ABI \d+\.\d+\.\d+/);
  refuses(`${pkg}world w { include other; }`, /`include` is not supported by ABI \d+\.\d+\.\d+/);
});

test('refuses option<option<T>>, directly or through an alias', () => {
  const pkg = 'package a:b@0.1.0;\n';
  refuses(`${pkg}interface i { f: func(x: option<option<u8>>); }`, /^test\.wit:2:26: option<option<\.\.\.>> is not supported/);
  refuses(`${pkg}interface i { type o = option<u8>; f: func(x: option<o>); }`, /option<option<\.\.\.>> is not supported/);
  parse(`${pkg}interface i { f: func(x: option<result<option<u8>>>, y: list<option<u8>>); }`);
});

test('refuses types the canonical ABI cannot lay out and names that do not resolve', () => {
  const pkg = 'package a:b@0.1.0;\n';
  refuses(`${pkg}interface i { record r {} }`, /record `r` has no fields: empty types are not allowed/);
  refuses(`${pkg}interface i { enum e {} }`, /enum `e` has no cases/);
  refuses(`${pkg}interface i { f: func(t: tuple<>); }`, /`tuple<>` is empty/);
  const many = Array.from({ length: 33 }, (_, i) => `x${i}`).join(', ');
  refuses(`${pkg}interface i { flags big { ${many} } }`, /flags `big` has 33 flags: at most 32 are supported/);
  refuses(`${pkg}interface i { record r { a: r } }`, /type `r` refers to itself/);
  refuses(`${pkg}interface i { type a = b; type b = list<a>; }`, /refers to itself/);
  refuses(`${pkg}interface i { use nowhere.{t}; }`, /no interface `nowhere` in the package/);
  refuses(`${pkg}interface i { use j.{t}; }\ninterface j { use i.{t}; }`, /goes round in a circle/);
  refuses(`${pkg}interface i { record r { a: u8, a: u8 } }`, /field `a` appears twice in record `r`/);
  refuses(`${pkg}interface i { f: func(a: u8, a: u8); }`, /parameter `a` of `f` is declared twice/);
  refuses(`${pkg}interface i { f: func(); f: func(); }`, /function `f` is defined twice/);
  refuses(`${pkg}interface i { type t = u8; enum t { a } }`, /type `t` is defined twice/);
  refuses(`${pkg}interface i {}\ninterface i {}`, /`i` is defined twice in the package/);
  refuses(`${pkg}world w { import missing; }`, /world `w` names `missing`, which is no interface of this package/);
  assert.throws(
    () => parseWitPackage([
      { file: 'a.wit', text: 'package a:b@0.1.0;' },
      { file: 'c.wit', text: 'package a:b@0.2.0;' },
    ]),
    /c\.wit:1:1: package a:b@0\.2\.0 differs from a:b@0\.1\.0 declared in a\.wit/,
  );
});

test('keeps `///` doc comments on the interface, types, fields, cases and functions they precede; `//` comments are not docs', () => {
  const pkg = parse(`package tessera:components@0.1.0;
/// A store.
/// Two lines.
interface kv {
  /// How sure.
  enum level {
    /// Not at all.
    low,
    high,
  }
  // an ordinary comment
  record item {
    /// The key.
    key: string,
    value: list<u8>,
  }
  variant outcome {
    /// It went well.
    ok,
    failed(string),
  }
  /// Reads one.
  get: func(key: string) -> option<item>;
  // not a doc
  put: func(it: item);
}
`);
  const kv = pkg.interfaces.get('kv')!;
  assert.equal(kv.docs, 'A store.\nTwo lines.');
  assert.deepEqual([...kv.typeDocs], [['level', 'How sure.']]);
  const level = kv.types.get('level')!;
  assert.ok(level.kind === 'enum');
  assert.deepEqual([...level.caseDocs!], [['low', 'Not at all.']]);
  const item = kv.types.get('item')!;
  assert.ok(item.kind === 'record');
  assert.deepEqual(item.fields.map((f) => f.docs), ['The key.', undefined]);
  const outcome = kv.types.get('outcome')!;
  assert.ok(outcome.kind === 'variant');
  assert.deepEqual(outcome.cases.map((c) => c.docs), ['It went well.', undefined]);
  assert.deepEqual(kv.functions.map((f) => f.docs), ['Reads one.', undefined]);
});

test('@since gates interfaces, worlds and world items; the package as of an earlier version leaves them out', () => {
  const pkg = parse(`package a:b@0.2.1;
interface old { f: func(); }
/// Documents the gated interface.
@since(version = 0.2.1)
interface new { g: func(); }
world w {
  import old;
  @since(version = 0.2.1)
  import new;
}
@since(version = 0.2.1)
world later { import new; }
`);
  assert.equal(pkg.interfaces.get('new')?.since, '0.2.1');
  assert.equal(pkg.interfaces.get('new')?.docs, 'Documents the gated interface.', 'the docs before a gate reach the item');
  const before = packageAt(pkg, '0.2.0');
  assert.equal(before.version, '0.2.0');
  assert.deepEqual([...before.interfaces.keys()], ['old']);
  assert.deepEqual([...before.worlds.keys()], ['w']);
  assert.deepEqual(before.worlds.get('w')?.imports, ['old']);
  assert.equal(packageAt(pkg, '0.2.1'), pkg);

  refuses('package a:b@0.1.0;\n@since(version = 0.2.0)\ninterface i { f: func(); }', /^test\.wit:3:11: @since\(version = 0\.2\.0\) is later than the package's version 0\.1\.0/);
  refuses('package a:b@0.2.0;\n@since(version = 0.2.0)\ninterface i { f: func(); }\nworld w { import i; }', /interface `i` is @since\(version = 0\.2\.0\): world `w` names it under `@since\(version = 0\.2\.0\)` or later/);
  refuses('package a:b@0.2.0;\n@since(version = 0.2.0)\nuse i;', /`@since\(\.\.\.\)` gates an `interface` or a `world` here/);
  refuses('package a:b@0.2.0;\n@since(version = two)\ninterface i {}', /`two` is not a semantic version/);
});
