// `tessera component new`'s scaffolding (host/toolchain/scaffold.ts), without building: the
// names it accepts, the type a name gives, the files it writes and where they find the SDK,
// and the folders it refuses to write into. The new folders are built and tested end to end
// in test/host/cli/component-command.test.ts.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import { ComponentBuildError } from '../../../host/toolchain/build-error.ts';
import { nameProblem, scaffoldComponent, typeFor } from '../../../host/toolchain/scaffold.ts';
import { tempDir } from '../../support/temp-dir.ts';

const SDK = fileURLToPath(new URL('../../../sdk/', import.meta.url));

describe('component names and types', () => {
  test('lower-case words joined by single hyphens are names; anything else says what a name is', () => {
    for (const good of ['cache', 'orders-cache', 'state-redis', 'k8s-store2']) assert.equal(nameProblem(good, 'as'), undefined, good);
    for (const bad of ['', 'Cache', '2cache', 'cache-', 'a--b', 'a_b', 'a b', '../x', 'x/y', 'é', 'a'.repeat(65)]) {
      assert.match(nameProblem(bad, 'as') ?? '', /is not a component name: use lower-case letters, digits and single hyphens/, JSON.stringify(bad));
    }
  });

  test('Rust keywords and built-in crates are refused for Rust only', () => {
    for (const name of ['test', 'std', 'fn', 'tessera-sdk']) {
      assert.match(nameProblem(name, 'rust') ?? '', /cannot name a Rust crate/, name);
      assert.equal(nameProblem(name, 'cpp'), undefined, name);
    }
  });

  test('the type is state.<name>, without a leading "state-"', () => {
    assert.equal(typeFor('state', 'orders-cache'), 'state.orders-cache');
    assert.equal(typeFor('state', 'state-redis'), 'state.redis');
    assert.equal(typeFor('state', 'state'), 'state.state');
  });

  test('a binding\'s type is bindings.<name>, without a leading "binding-" or "bindings-"', () => {
    assert.equal(typeFor('binding', 'webhook'), 'bindings.webhook');
    assert.equal(typeFor('binding', 'binding-cron'), 'bindings.cron');
    assert.equal(typeFor('binding', 'bindings-http'), 'bindings.http');
    assert.equal(typeFor('pubsub', 'pubsub-kafka'), 'pubsub.kafka');
  });
});

describe('scaffoldComponent', () => {
  test('writes each language\'s files, with the SDK found by a path that resolves from the new folder', async () => {
    const dir = await tempDir('tessera-scaffold-');
    try {
      const made = await Promise.all(
        (['as', 'rust', 'cpp'] as const).map((language) => scaffoldComponent({ kind: 'state', language, name: `kv-${language}`, parentDir: dir.path })),
      );
      assert.deepEqual(
        made.map((m) => m.files),
        [
          ['README.md', 'assembly/index.ts', 'assembly/store.ts', 'manifest.json'],
          ['Cargo.toml', 'README.md', '.gitignore', 'src/lib.rs', 'src/store.rs'],
          ['README.md', 'compile_flags.txt', 'store.cpp'],
        ],
      );
      assert.deepEqual(made.map((m) => m.type), ['state.kv-as', 'state.kv-rust', 'state.kv-cpp']);

      const asDir = join(dir.path, 'kv-as');
      const manifest = JSON.parse(await readFile(join(asDir, 'manifest.json'), 'utf8')) as { type: string; abi: string; capabilities: string[] };
      assert.deepEqual([manifest.type, manifest.abi, manifest.capabilities], ['state.kv-as', ABI_VERSION, ['log', 'clock']]);
      const imports = [...(await readFile(join(asDir, 'assembly', 'index.ts'), 'utf8')).matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
      assert.deepEqual(imports.slice(0, 2).map((p) => resolve(asDir, 'assembly', p)), [join(SDK, 'assemblyscript/assembly/state-exports'), join(SDK, 'assemblyscript/assembly/index')]);

      const cargo = await readFile(join(dir.path, 'kv-rust', 'Cargo.toml'), 'utf8');
      assert.match(cargo, /^name = "kv-rust"$/m);
      const sdkPath = /tessera-sdk = \{ path = "([^"]+)" \}/.exec(cargo)?.[1];
      assert.equal(resolve(dir.path, 'kv-rust', sdkPath ?? ''), join(SDK, 'rust'));
      assert.equal(await readFile(join(dir.path, 'kv-rust', '.gitignore'), 'utf8'), '/target/\n');
      assert.match(await readFile(join(dir.path, 'kv-rust', 'src', 'lib.rs'), 'utf8'), /type: "state\.kv-rust",/);

      assert.match(await readFile(join(dir.path, 'kv-cpp', 'store.cpp'), 'utf8'), /^TESSERA_MANIFEST\("state\.kv-cpp", "v1", /m);
      assert.match(await readFile(join(dir.path, 'kv-cpp', 'compile_flags.txt'), 'utf8'), new RegExp(`^-I${join(SDK, 'cpp', 'include')}$`, 'm'));
      for (const m of made) {
        const readme = await readFile(join(m.dir, 'README.md'), 'utf8');
        assert.doesNotMatch(readme, /\{\{/, 'every placeholder is filled');
        assert.match(readme, /node \/.*\/host\/cli\/tessera\.mjs component build/);
      }
    } finally {
      await dir.remove();
    }
  });

  test('writes into an empty folder, refuses a non-empty one or a file, and a bad name, changing nothing', async () => {
    const dir = await tempDir('tessera-scaffold-');
    try {
      await mkdir(join(dir.path, 'empty'));
      await scaffoldComponent({ kind: 'state', language: 'cpp', name: 'empty', parentDir: dir.path });
      await mkdir(join(dir.path, 'taken'));
      await writeFile(join(dir.path, 'taken', 'notes.txt'), 'mine');
      await writeFile(join(dir.path, 'file'), 'x');
      const refusals: [string, RegExp][] = [
        ['taken', /taken exists and is not empty: choose another name, or remove it first/],
        ['file', /file exists and is not a folder/],
        ['Bad', /"Bad" is not a component name/],
      ];
      for (const [name, message] of refusals) {
        await assert.rejects(scaffoldComponent({ kind: 'state', language: 'as', name, parentDir: dir.path }), (err: Error) => err instanceof ComponentBuildError && message.test(err.message));
      }
      assert.equal(await readFile(join(dir.path, 'taken', 'notes.txt'), 'utf8'), 'mine');
    } finally {
      await dir.remove();
    }
  });
});
