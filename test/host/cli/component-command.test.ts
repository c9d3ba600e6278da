// `tessera component` as a user runs it, through the real CLI: help and usage errors; `test`
// passing a bundled store and pubsub.redis (given its YAML metadata and grant) and failing a
// broken store; and for each language, `new`, `build`
// and `test` end to end in a temporary folder; a missing toolchain names what to install.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '../../support/redis-server.ts';
import { runTessera } from '../../support/sidecar-process.ts';
import { bindingModule } from '../../support/binding-wat.ts';
import { stateStoreModule } from '../../support/state-store-wat.ts';
import { tempDir } from '../../support/temp-dir.ts';
import { needs } from '../../support/tools.ts';

const PUBSUB_REDIS = fileURLToPath(new URL('../../../components-wasm/pubsub-redis/pubsub-redis.wasm', import.meta.url));
const STATE_MEMORY = fileURLToPath(new URL('../../../components-wasm/state-memory/state-memory.wasm', import.meta.url));
/** A build can take a while on a busy two-core machine (C++ with LTO, a cold cargo). */
const BUILD_TIMEOUT_MS = 180_000;

let work: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  work = await tempDir('tessera-component-cli-');
});
after(() => work.remove());

/** Runs `tessera component ...` in `cwd` (the temporary folder by default). */
const component = (args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}) =>
  runTessera(['component', ...args], { cwd: work.path, ...options });

const rowsOf = (stdout: string, outcome: 'pass' | 'FAIL' | 'skip'): string[] =>
  stdout.split('\n').filter((line) => new RegExp(`  ${outcome}(  |$)`).test(line));

describe('tessera component: help and usage errors', { concurrency: true }, () => {
  test('tessera --help lists the component command; tessera component --help documents new, build and test', async () => {
    const top = await runTessera(['--help']);
    assert.match(top.stdout, /^ {2}component +scaffold \(new\), build and test/m);
    const help = await component(['--help']);
    assert.equal(help.code, 0);
    for (const text of ['new state|pubsub|binding --lang rust|cpp|as NAME', 'build [DIR]', 'test [--cpu-budget N] [--metadata K=V]... [--annotation K=V]... [--bad-metadata K=V]... FILE.wasm...', '--metadata redisHost=', '--bad-metadata (bindings)', '-l, --lang L', 'apt-get install', 'npm install']) assert.ok(help.stdout.includes(text), text);
    assert.equal((await component(['build', '--help'])).stdout, help.stdout);
  });

  test('exits 2 naming the problem for a missing --lang, an unknown language, kind or command, a missing file argument', async () => {
    const cases: [string[], RegExp][] = [
      [['new', 'state', 'cache'], /--lang is required: rust, cpp or as/],
      [['new', 'state', '--lang', 'go', 'cache'], /--lang must be rust, cpp or as, got "go"/],
      [['new', 'secretstore', '--lang', 'rust', 'cache'], /cannot make a "secretstore" component; kinds: state, pubsub, binding/],
      [['new', 'binding', '--lang', 'rust'], /usage: tessera component new state\|pubsub\|binding --lang rust\|cpp\|as NAME/],
      [['frobnicate'], /unknown component command "frobnicate"/],
      [['test'], /usage: tessera component test \[--cpu-budget N\] \[--metadata K=V\]\.\.\. \[--annotation K=V\]\.\.\. \[--bad-metadata K=V\]\.\.\. FILE\.wasm\.\.\./],
      [['test', '--metadata', 'redisHost', 'x.wasm'], /--metadata takes KEY=VALUE, got "redisHost"/],
      [['test', '--bad-metadata', 'schedule', 'x.wasm'], /--bad-metadata takes KEY=VALUE, got "schedule"/],
      [['test', '--annotation', 'tessera.dev/cpu-budget=1M', 'x.wasm'], /--annotation tessera\.dev\/cpu-budget is no capability grant/],
      [['test', '--annotation', 'tessera.dev/allow-tcp=nowhere', 'x.wasm'], /--annotation: component "component-under-test": annotation "tessera\.dev\/allow-tcp"/],
      [['build', 'a', 'b'], /usage: tessera component build \[DIR\]/],
    ];
    const results = await Promise.all(cases.map(([args]) => component(args)));
    for (const [i, [args, message]] of cases.entries()) {
      assert.equal(results[i]!.code, 2, args.join(' '));
      assert.match(results[i]!.stderr, message);
    }
  });

  test('new refuses a bad name and a folder that is not empty, with exit 1 and the reason', async () => {
    await mkdir(join(work.path, 'taken'));
    await writeFile(join(work.path, 'taken', 'keep.txt'), 'mine');
    const taken = await component(['new', 'state', '--lang', 'as', 'taken']);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /taken exists and is not empty: choose another name, or remove it first/);
    const bad = await component(['new', 'state', '--lang', 'cpp', 'My_Store']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /"My_Store" is not a component name/);
    const notComponent = await component(['build', 'taken']);
    assert.equal(notComponent.code, 1);
    assert.match(notComponent.stderr, /taken is no component folder/);
  });
});

describe('tessera component test', { concurrency: true }, () => {
  test('passes the bundled state.memory: a table of every check, exit 0', async () => {
    const { code, stdout } = await component(['test', STATE_MEMORY]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^conformance of state\.memory v1 \(.*state-memory\.wasm\)$/m);
    assert.match(stdout, /^features: ETAG, TRANSACTIONAL, TTL, QUERY_API; snapshot: exported$/m);
    assert.equal(rowsOf(stdout, 'FAIL').length, 0);
    assert.ok(rowsOf(stdout, 'pass').length >= 40, stdout);
    assert.match(stdout, /^PASS: \d+ passed, 0 failed, 2 skipped \(\d+\.\d s\)$/m);
  });

  test('fails a store that answers ok and keeps nothing: exit 1, each failing check on its line with the reason', async () => {
    const file = join(work.path, 'skeleton.wasm');
    await writeFile(file, stateStoreModule());
    const { code, stdout } = await component(['test', file]);
    assert.equal(code, 1, stdout);
    const failed = rowsOf(stdout, 'FAIL');
    assert.ok(failed.some((row) => /^set-get +an int round-trips +FAIL {2}get "conformance\|\|an-int" found nothing after set$/.test(row)), failed.join('\n'));
    assert.ok(failed.some((row) => row.startsWith('bulk ')), failed.join('\n'));
    assert.match(stdout, /^FAIL: \d+ passed, \d+ failed, \d+ skipped/m);
  });

  test('passes pubsub.redis given its redisHost (--metadata) and the tcp grant (--annotation): the pub/sub table, exit 0', needs('redis'), async () => {
    const redis = await RedisServer.start();
    try {
      const { code, stdout } = await component(['test', '--metadata', `redisHost=${redis.address}`, '--annotation', `tessera.dev/allow-tcp=${redis.address}`, PUBSUB_REDIS]);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /^conformance of pubsub\.redis v1 \(.*pubsub-redis\.wasm\)$/m);
      assert.match(stdout, /^consumer groups +another consumerID gets every message as well +pass$/m);
      assert.equal(rowsOf(stdout, 'FAIL').length, 0);
      const without = await component(['test', PUBSUB_REDIS]);
      assert.equal(without.code, 1);
      assert.match(without.stdout, /^load +.* +FAIL {2}.*redisHost/m);
    } finally {
      await redis.stop();
    }
  });

  test('checks a binding with the binding suite: directions, one line per check, --bad-metadata refused or not', async () => {
    const refusing = join(work.path, 'refusing-binding.wasm');
    await writeFile(refusing, bindingModule({ input: true, refusesMetadata: true }));
    const passed = await component(['test', '--bad-metadata', 'mode=loud', refusing]);
    assert.equal(passed.code, 0, passed.stdout);
    assert.match(passed.stdout, /^conformance of bindings\.echo-letters v1 \(.*refusing-binding\.wasm\)$/m);
    assert.match(passed.stdout, /^directions: input, output$/m);
    assert.match(passed.stdout, /^init +init refuses bad metadata \(--bad-metadata\) with invalid-argument, naming the key or the value +pass$/m);
    assert.match(passed.stdout, /^operations +operations\(\) lists .* +pass {2}operations: echo$/m);
    assert.match(passed.stdout, /^PASS: \d+ passed, 0 failed, 0 skipped/m);

    const accepting = join(work.path, 'accepting-binding.wasm');
    await writeFile(accepting, bindingModule());
    const failed = await component(['test', '--bad-metadata', 'mode=loud', accepting]);
    assert.equal(failed.code, 1, failed.stdout);
    assert.deepEqual(
      rowsOf(failed.stdout, 'FAIL').map((row) => row.split(/ {2,}/).slice(0, 2)),
      [['init', 'init refuses bad metadata (--bad-metadata) with invalid-argument, naming the key or the value']],
    );
    assert.match(failed.stdout, /FAIL {2}init accepted mode=loud; metadata it cannot use fails init with invalid-argument$/m);
  });

  test('exits 1 for a file it cannot read', async () => {
    const { code, stderr } = await component(['test', 'missing.wasm']);
    assert.equal(code, 1);
    assert.match(stderr, /cannot read missing\.wasm: ENOENT/);
  });
});

describe('tessera component new, build, test: end to end per language', { concurrency: true }, () => {
  for (const [lang, source] of [['as', 'assembly/store.ts'], ['rust', 'src/store.rs'], ['cpp', 'store.cpp']] as const) {
    test(`--lang ${lang}: the new store builds and passes the kit`, lang === 'rust' ? needs('rust') : lang === 'cpp' ? needs('clang') : {}, async () => {
      const name = `kv-${lang}`;
      const made = await component(['new', 'state', '--lang', lang, name]);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, new RegExp(`^created ${name}/ \\(.+ state store, type state\\.${name}\\):$`, 'm'));
      assert.ok(made.stdout.includes(`  ${source}\n`), made.stdout);

      const dir = join(work.path, name);
      const built = await component(['build'], { cwd: dir, timeoutMs: BUILD_TIMEOUT_MS });
      assert.equal(built.code, 0, built.stderr);
      assert.match(built.stdout, new RegExp(`^built ${name}\\.wasm: \\d+ bytes \\((AssemblyScript|Rust|C\\+\\+)\\)$`, 'm'));

      const tested = await component(['test', `${name}.wasm`], { cwd: dir });
      assert.equal(tested.code, 0, tested.stdout);
      assert.match(tested.stdout, /^PASS: \d+ passed, 0 failed, \d+ skipped/m);
      assert.deepEqual(
        rowsOf(tested.stdout, 'skip').map((row) => row.split(/ {2,}/)[0]),
        // Every scaffold exports snapshot (not snapshot-stream), so its data crosses a hot swap; none exports query.
        ['features', 'features', 'query', 'query', 'query', 'snapshot'],
        'only checks for stores without a feature, the query checks, and the snapshot-stream check of a scaffold that does not export it, are skipped',
      );
      // Every scaffold exports snapshot, so its data crosses a hot swap: the kit's round trip ran.
      assert.ok(rowsOf(tested.stdout, 'pass').some((row) => row.startsWith('snapshot ')), tested.stdout);
    });
  }

  // The binding templates are written beside this command; until a language's lands, `new` refuses it cleanly.
  for (const [lang, language] of [['as', 'AssemblyScript'], ['rust', 'Rust'], ['cpp', 'C++']] as const) {
    const template = fileURLToPath(new URL(`../../../host/toolchain/templates/binding/${lang}/`, import.meta.url));
    test(`--lang ${lang}: new binding makes a bindings.* component that builds and passes the binding kit, or is refused while there is no template`, lang === 'rust' ? needs('rust') : lang === 'cpp' ? needs('clang') : {}, async (t) => {
      const name = `hook-${lang}`;
      const made = await component(['new', 'binding', '--lang', lang, name]);
      if (!existsSync(template)) {
        t.diagnostic(`no ${template} yet: checked the refusal`);
        assert.equal(made.code, 1, made.stdout);
        assert.match(made.stderr, new RegExp(`there is no ${lang} template for binding components yet \\(this Tessera has no host/toolchain/templates/binding/${lang}/\\)`));
        assert.equal(existsSync(join(work.path, name)), false, 'no folder is left behind');
        return;
      }
      assert.equal(made.code, 0, made.stderr);
      assert.ok(made.stdout.startsWith(`created ${name}/ (${language} input/output binding, type bindings.${name}):\n`), made.stdout);
      const dir = join(work.path, name);
      const built = await component(['build'], { cwd: dir, timeoutMs: BUILD_TIMEOUT_MS });
      assert.equal(built.code, 0, built.stderr);
      const tested = await component(['test', `${name}.wasm`], { cwd: dir });
      assert.equal(tested.code, 0, tested.stdout);
      assert.match(tested.stdout, new RegExp(`^conformance of bindings\\.${name} `, 'm'));
      assert.match(tested.stdout, /^PASS: /m);
    });
  }

  test('a store that advertises TTL but ignores ttlInSeconds fails exactly the TTL checks', async () => {
    const made = await component(['new', 'state', '--lang', 'as', 'no-ttl']);
    assert.equal(made.code, 0, made.stderr);
    const dir = join(work.path, 'no-ttl');
    const store = join(dir, 'assembly', 'store.ts');
    const source = await readFile(store, 'utf8');
    const ignoring = source.replace('const expiresAt: u64 = ttl > 0 ? now + <u64>ttl * 1000 : 0;', 'const expiresAt: u64 = 0;');
    assert.notEqual(ignoring, source);
    await writeFile(store, ignoring);
    const built = await component(['build', 'no-ttl'], { timeoutMs: BUILD_TIMEOUT_MS });
    assert.equal(built.code, 0, built.stderr);
    const tested = await component(['test', 'no-ttl/no-ttl.wasm']);
    assert.equal(tested.code, 1, tested.stdout);
    assert.deepEqual(
      rowsOf(tested.stdout, 'FAIL').map((row) => row.split(/ {2,}/).slice(0, 2)),
      [
        ['ttl', 'ttlInSeconds=1: readable at once and half a second later, gone once it expires'],
        ['ttl', 'an expiring item carries ttlExpireTime, an RFC 3339 time when it expires'],
      ],
      tested.stdout,
    );
    assert.match(tested.stdout, /still found \d+\.\d s after a set with ttlInSeconds=1/);
  });

  test('without the C++ toolchain (an empty PATH), build exits 1 naming the apt-get line', async () => {
    const made = await component(['new', 'state', '--lang', 'cpp', 'no-clang']);
    assert.equal(made.code, 0, made.stderr);
    const { code, stderr } = await component(['build', 'no-clang'], { env: { PATH: '' } });
    assert.equal(code, 1, stderr);
    assert.match(
      stderr,
      /^tessera: cannot build C\+\+ components: clang\+\+ was not found; install it with `apt-get install clang lld wasi-libc libc\+\+-14-dev-wasm32 libc\+\+abi-14-dev-wasm32 libclang-rt-14-dev-wasm32`$/m,
    );
  });
});
