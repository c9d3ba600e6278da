// The toolchain layer's front door (host/toolchain/index.ts): a folder's language from its
// files, one error type from every builder with the packages a missing toolchain needs, and
// the byte-for-byte comparison `components-wasm/build.ts --check` makes, on a Rust component
// made by `tessera component new` in a temporary folder.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ComponentBuildError, installCommand } from '../../../host/toolchain/build-error.ts';
import { npmInstallFolder } from '../../../host/toolchain/build-support.ts';
import { buildComponent, defaultOutFile, detectLanguage, differenceFromCommitted } from '../../../host/toolchain/index.ts';
import { scaffoldComponent } from '../../../host/toolchain/scaffold.ts';
import { tempDir } from '../../support/temp-dir.ts';

const COMPONENTS = fileURLToPath(new URL('../../../components-wasm/', import.meta.url));
const CHECKOUT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');

/** A ComponentBuildError for a missing toolchain, with these packages and their install command (and the folder to run it in) in its message. */
function missing(manager: 'apt' | 'npm', packages: string[], folder?: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ComponentBuildError, String(err));
    assert.deepEqual(err.missing, { manager, packages, ...(folder === undefined ? {} : { folder }) });
    assert.ok(err.message.endsWith(`install it with \`${installCommand({ manager, packages })}\`${folder === undefined ? '' : ` in ${folder}`}`), err.message);
    return true;
  };
}

describe('detectLanguage', () => {
  test('tells the bundled components apart by their files', async () => {
    const languages = await Promise.all(['state-memory', 'state-memory-rust', 'state-memory-cpp'].map((name) => detectLanguage(join(COMPONENTS, name))));
    assert.deepEqual(languages, ['as', 'rust', 'cpp']);
  });

  test('refuses a folder of none of the layouts, and a missing folder, saying what a component folder holds', async () => {
    const dir = await tempDir('tessera-detect-');
    try {
      await mkdir(join(dir.path, 'assembly'));
      await writeFile(join(dir.path, 'assembly', 'index.ts'), '');
      await writeFile(join(dir.path, 'main.c'), '');
      await assert.rejects(detectLanguage(dir.path), /is no component folder: it needs assembly\/index\.ts and manifest\.json \(AssemblyScript\), a Cargo\.toml \(Rust\), \*\.cpp files \(C\+\+\) or index\.js and manifest\.json \(JavaScript \(componentize-js\)\); `tessera component new` makes one/);
      await assert.rejects(detectLanguage(join(dir.path, 'nope')), (err: Error) => err instanceof ComponentBuildError && /cannot read the component folder .*nope/.test(err.message));
    } finally {
      await dir.remove();
    }
  });

  test('a folder builds to <folder>/<folder name>.wasm', () => {
    assert.equal(defaultOutFile('/src/orders-cache/'), '/src/orders-cache/orders-cache.wasm');
  });
});

describe('a missing toolchain is a ComponentBuildError naming the packages to install', () => {
  test('AssemblyScript: the pinned npm package, and the folder to install it in (this checkout)', async () => {
    const pinned = (JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.assemblyscript;
    await assert.rejects(
      buildComponent(join(COMPONENTS, 'state-memory'), { outFile: '/nonexistent/x.wasm', toolchains: { asc: 'assemblyscript-not-installed/asc' } }),
      missing('npm', [`assemblyscript@${pinned}`], CHECKOUT),
    );
  });

  test('the folder an npm package goes in: the checkout, or the app folder Tessera is installed in', () => {
    assert.equal(npmInstallFolder('/src/tessera'), '/src/tessera');
    assert.equal(npmInstallFolder('/home/me/app/node_modules/tessera-sidecar'), '/home/me/app');
    assert.equal(npmInstallFolder('/home/me/app/node_modules/tool/node_modules/tessera-sidecar'), '/home/me/app/node_modules/tool');
  });

  test("Rust: Debian's rustc, cargo and wasm32 std", async () => {
    const rust = { debian: { cargo: '/nonexistent/cargo', rustc: '/usr/bin/rustc' }, searchPath: '' };
    await assert.rejects(
      buildComponent(join(COMPONENTS, 'state-memory-rust'), { outFile: '/nonexistent/x.wasm', toolchains: { rust } }),
      missing('apt', ['rustc', 'cargo', 'libstd-rust-dev-wasm32']),
    );
  });

  test('C++: every package without clang, or only the pieces a clang lacks', async () => {
    const all = ['clang', 'lld', 'wasi-libc', 'libc++-14-dev-wasm32', 'libc++abi-14-dev-wasm32', 'libclang-rt-14-dev-wasm32'];
    await assert.rejects(buildComponent(join(COMPONENTS, 'state-memory-cpp'), { outFile: '/nonexistent/x.wasm', toolchains: { clang: '/nonexistent/clang++' } }), missing('apt', all));
    const dir = await tempDir('tessera-clang-');
    try {
      // A clang++ that runs but finds no wasm32 linker, libc, libc++ or builtins.
      const clang = join(dir.path, 'clang++');
      await writeFile(clang, '#!/bin/sh\necho fake\n', { mode: 0o755 });
      await assert.rejects(
        buildComponent(join(COMPONENTS, 'state-memory-cpp'), { outFile: '/nonexistent/x.wasm', toolchains: { clang } }),
        (err: unknown) => missing('apt', all.slice(1))(err) && /clang\+\+ is there but .*the wasm-ld linker \(lld\)/.test((err as Error).message),
      );
    } finally {
      await dir.remove();
    }
  });
});

describe('differenceFromCommitted', () => {
  test('is undefined for the bytes its sources build; else names the file, both sizes and the first differing byte', async () => {
    const dir = await tempDir('tessera-rebuild-');
    try {
      const { dir: crate } = await scaffoldComponent({ kind: 'state', language: 'rust', name: 'probe', parentDir: dir.path });
      const { outFile, bytes, language } = await buildComponent(crate);
      assert.equal(language, 'rust');
      assert.equal(outFile, join(crate, 'probe.wasm'));
      assert.equal(await differenceFromCommitted(crate), undefined, 'a rebuild gives the same bytes');

      const changed = Uint8Array.from(bytes);
      changed[100] = changed[100]! ^ 0xff;
      await writeFile(outFile, changed);
      assert.equal(
        await differenceFromCommitted(crate),
        `${outFile} differs from what its sources build (committed ${bytes.length} bytes, built ${bytes.length}, first difference at byte 100)`,
      );
      await rm(outFile);
      assert.equal(await differenceFromCommitted(crate), `${outFile} is missing`);
    } finally {
      await dir.remove();
    }
  });
});
