// What the tests of the bundled Rust components share: the WIT error a call rejected with,
// the crates' own unit tests run natively with Debian's cargo as the builder runs it, jco's
// check of a module against a WIT world, and a rebuild from a copy of the sources in another
// folder compared with the committed bytes.
import { componentEmbed, componentNew } from '@bytecodealliance/jco';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { isTesseraError } from '../../host/errors.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import type { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { buildRustComponent, DEBIAN_RUST } from '../../host/toolchain/rust.ts';
import type { RedisServer } from './redis-server.ts';
import { tempDir } from './temp-dir.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const noTarget = (path: string): boolean => !/[/\\]target$/.test(path);

/** The WIT error case a call rejected with; fails the test when it succeeded or threw something else. */
export async function componentErrorOf(call: Promise<unknown>): Promise<{ tag: string; val: string }> {
  try {
    await call;
  } catch (err) {
    if (isTesseraError(err) && err.componentError) return err.componentError;
    throw err;
  }
  assert.fail('the call succeeded');
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(stdout)));
  });
}

/** Runs `cargo test` (native, offline, locked) in each crate folder and asserts every test passed. */
export async function cargoTestPasses(crateDirs: string[]): Promise<void> {
  const dir = await tempDir('tessera-cargo-test-');
  try {
    // Debian's toolchain by path, and none of the caller's RUST*/CARGO_* settings, as the builder runs it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key === 'CARGO_HOME' || !/^(RUST|CARGO_)/.test(key)));
    for (const crate of crateDirs) {
      const args = ['test', '--offline', '--locked', '--manifest-path', join(crate, 'Cargo.toml'), '--target-dir', dir.path];
      const out = await run(DEBIAN_RUST.cargo, args, { ...env, RUSTC: DEBIAN_RUST.rustc }).catch((err: { stderr?: string; message: string }) =>
        assert.fail(err.stderr ?? err.message),
      );
      assert.match(out, /test result: ok\. \d+ passed; 0 failed/, crate);
    }
  } finally {
    await dir.remove();
  }
}

/** Asserts wit-component (jco embed + new) accepts the module as `world`: it checks every core signature, import and export against the WIT. */
export async function acceptedAsWorld(bytes: Uint8Array, world: string): Promise<void> {
  const witDir = join(ROOT, 'abi', 'wit');
  let wit = `package tessera:components@${ABI_VERSION};\n`;
  for (const file of (await readdir(witDir)).sort()) wit += (await readFile(join(witDir, file), 'utf8')).replace(/^package .*;$/m, '');
  const component = await componentNew(await componentEmbed({ binary: bytes, witSource: wit, world, stringEncoding: 'utf8' }));
  assert.ok(component.byteLength > bytes.byteLength);
}

/**
 * Copies the SDK, `folders` (paths from the checkout: the component and the shared crates it
 * uses) into another folder, builds the component (the first folder) there and asserts the
 * bytes are the committed `<folder>.wasm`'s.
 */
export async function rebuildIsCommitted(folders: string[]): Promise<void> {
  const dir = await tempDir('tessera-rebuild-');
  try {
    for (const folder of [join('sdk', 'rust'), ...folders]) await cp(join(ROOT, folder), join(dir.path, folder), { recursive: true, filter: noTarget });
    const component = folders[0]!;
    const name = component.split(/[/\\]/).at(-1)!;
    const out = join(dir.path, 'rebuilt.wasm');
    await buildRustComponent(join(dir.path, component), out);
    const [rebuilt, committed] = [await readFile(out), await readFile(join(ROOT, component, `${name}.wasm`))];
    assert.equal(rebuilt.length, committed.length, 'size');
    assert.ok(rebuilt.equals(committed), `the committed ${name}.wasm is not what its sources build: rebuild it (npm run build:components)`);
  } finally {
    await dir.remove();
  }
}

/**
 * Builds the SDK README's ```rust block that holds `marker`, with the README's Cargo.toml, as
 * crate `name` beside a copy of the SDK (as a crate in components-wasm/ would sit); `edit`
 * may change the source first. Resolves to the module's bytes.
 */
export async function buildReadmeExample(marker: string, name: string, edit: (source: string) => string = (source) => source): Promise<Uint8Array> {
  const readme = await readFile(join(ROOT, 'sdk', 'rust', 'README.md'), 'utf8');
  const source = [...readme.matchAll(/```rust\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes(marker));
  const manifest = /```toml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(source && manifest, `README.md has a \`\`\`toml block and a \`\`\`rust block with ${marker}`);
  const dir = await tempDir(`tessera-${name}-`);
  try {
    await cp(join(ROOT, 'sdk', 'rust'), join(dir.path, 'sdk', 'rust'), { recursive: true, filter: noTarget });
    const crate = join(dir.path, 'components-wasm', name);
    await mkdir(join(crate, 'src'), { recursive: true });
    await writeFile(join(crate, 'Cargo.toml'), manifest.replace('name = "state-kv"', `name = "${name}"`));
    await writeFile(join(crate, 'src', 'lib.rs'), edit(source));
    const out = join(crate, `${name}.wasm`);
    await buildRustComponent(crate, out);
    return new Uint8Array(await readFile(out));
  } finally {
    await dir.remove();
  }
}

export interface OnRedisOptions {
  server: RedisServer;
  /** Component metadata over `redisHost`. */
  config?: Record<string, string>;
  /** The tcp grants; the server's address when unset. */
  grants?: string[];
}

/** One instance of a bundled Redis component, configured for `server` and granted its address. */
export function startOnRedis(compiled: CompiledComponent, name: string, options: OnRedisOptions): Promise<LiveComponent> {
  return LiveComponent.start(compiled, {
    name,
    config: new Map(Object.entries({ redisHost: options.server.address, ...options.config })),
    logger: silentLogger,
    grants: { tcp: options.grants ?? [options.server.address] },
  });
}
