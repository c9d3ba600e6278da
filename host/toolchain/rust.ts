// Builds a Rust component crate (sdk/rust/README.md) into its `.wasm` with Debian's rustc and
// cargo, reproducibly: the same sources give the same bytes from any checkout path, which is
// what lets `components-wasm/build.ts --check` compare a rebuild with the committed file.
// Without Debian's toolchain, a cargo on PATH whose rustc has the wasm32 target (rustup's)
// builds it too, with a warning that the bytes are not the reproducible build.
import { constants } from 'node:fs';
import { access, copyFile, cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { ComponentBuildError, type MissingToolchain } from './build-error.ts';
import { commonAncestor, exists, run, toolOutput, type RunResult } from './build-support.ts';
import { checkBuiltModule } from './built-module-check.ts';

/** Debian's toolchain. A rustup one may shadow it on PATH, so it is named by path. */
export const DEBIAN_RUST: RustToolchain = { cargo: '/usr/bin/cargo', rustc: '/usr/bin/rustc' };

const TARGET = 'wasm32-unknown-unknown';
/** What Debian needs for this build. */
export const RUST_PACKAGES: MissingToolchain = { manager: 'apt', packages: ['rustc', 'cargo', 'libstd-rust-dev-wasm32'] };

export interface RustToolchain {
  cargo: string;
  rustc: string;
}

export interface RustBuildOptions {
  /** Debian's toolchain, which makes the reproducible build (tests play a machine without it). */
  debian?: RustToolchain;
  /** The PATH searched for another cargo and rustc (rustup's) when Debian's cannot build. */
  searchPath?: string;
  /** Told when the build is not the reproducible Debian one. */
  warn?: (message: string) => void;
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}

/** Why `toolchain` cannot build for wasm32 (a tool missing, no wasm32 std), or undefined when it can. */
async function toolchainProblem(toolchain: RustToolchain, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const tool of [toolchain.cargo, toolchain.rustc]) {
    if (!(await isExecutable(tool))) return `${tool} is missing`;
  }
  const sysroot = await run(toolchain.rustc, ['--print', 'sysroot'], { cwd: '/', env }).catch(() => undefined);
  if (sysroot === undefined) return `${toolchain.rustc} --print sysroot failed`;
  const std = join(sysroot.stdout.trim(), 'lib', 'rustlib', TARGET, 'lib');
  if (!(await stat(std).then((s) => s.isDirectory(), () => false))) return `${toolchain.rustc} has no ${TARGET} standard library (no ${std})`;
  return undefined;
}

/** `cargo` on `searchPath`, and the `rustc` beside it (rustup puts both proxies in one folder), else on `searchPath`. */
async function toolchainOnPath(searchPath: string): Promise<RustToolchain | undefined> {
  const find = async (name: string, dirs: string[]): Promise<string | undefined> => {
    for (const dir of dirs) if (dir !== '' && (await isExecutable(join(dir, name)))) return join(dir, name);
    return undefined;
  };
  const dirs = searchPath.split(delimiter);
  const cargo = await find('cargo', dirs);
  if (cargo === undefined) return undefined;
  const rustc = (await find('rustc', [dirname(cargo)])) ?? (await find('rustc', dirs));
  return rustc === undefined ? undefined : { cargo, rustc };
}

/**
 * Debian's toolchain when it can build; else a cargo on PATH that can (with `reproducible`
 * false); else refuses naming the apt line, and the rustup line for a cargo on PATH that
 * lacks only the wasm32 target.
 */
async function chooseToolchain(options: RustBuildOptions, env: NodeJS.ProcessEnv): Promise<{ toolchain: RustToolchain; reproducible: boolean }> {
  const debian = options.debian ?? DEBIAN_RUST;
  const problem = await toolchainProblem(debian, env);
  if (problem === undefined) return { toolchain: debian, reproducible: true };
  const onPath = await toolchainOnPath(options.searchPath ?? process.env.PATH ?? '');
  const same = onPath !== undefined && onPath.cargo === debian.cargo && onPath.rustc === debian.rustc;
  const other = onPath === undefined || same ? undefined : await toolchainProblem(onPath, env);
  if (onPath !== undefined && !same && other === undefined) return { toolchain: onPath, reproducible: false };
  const rustup = other === undefined ? '' : ` (${other}: with rustup, \`rustup target add ${TARGET}\` adds it)`;
  throw ComponentBuildError.missingToolchain(`cannot build Rust components: ${problem}${rustup}`, RUST_PACKAGES);
}

/**
 * The environment cargo runs in: ours, minus every RUST* and CARGO_* variable but
 * CARGO_HOME and RUSTUP_HOME (where the tools live), so neither a rustup override, a
 * wrapper, extra flags nor a profile override in the caller's shell can change the bytes.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'CARGO_HOME' || key === 'RUSTUP_HOME' || !/^(RUST|CARGO_)/.test(key)) env[key] = value;
  }
  return env;
}

/** The directories of the local crates a build compiles: the component and its path dependencies. */
async function localCrates(cargo: string, manifestPath: string, lockFlags: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const { stdout } = await run(cargo, ['metadata', '--format-version', '1', '--manifest-path', manifestPath, ...lockFlags], {
    cwd: dirname(manifestPath),
    env,
  });
  const metadata = JSON.parse(stdout) as { packages: { source: string | null; manifest_path: string }[] };
  return metadata.packages.filter((p) => p.source === null).map((p) => dirname(p.manifest_path));
}

/** A Cargo.toml cut at its table headers (`[name]`, `[[name]]`); the first part has no header. */
function tables(toml: string): { name: string; text: string }[] {
  const out = [{ name: '', text: '' }];
  for (const line of toml.split('\n')) {
    const header = /^\s*\[\[?\s*([^\]\s]+)/.exec(line);
    if (header) out.push({ name: header[1]!, text: '' });
    out.at(-1)!.text += `${line}\n`;
  }
  return out;
}

/**
 * Copies the local crates into `stage`, at the same paths relative to one another, under a
 * generated workspace root that carries the component's `[profile.*]` tables.
 *
 * Why: cargo's `-C metadata` hash of a path crate outside the workspace root includes its
 * absolute path, and that hash reorders the functions of the module, so a component whose
 * own folder were the workspace root would build different bytes from every checkout.
 * Inside one root only relative paths count. Timestamps are kept, so cargo's fingerprints
 * still let an unchanged stage build nothing.
 */
async function stageWorkspace(crateDir: string, crates: string[], stage: string): Promise<string> {
  const root = commonAncestor(crates);
  await rm(stage, { recursive: true, force: true });
  for (const dir of crates) {
    // Entry by entry: the stage lies inside the component's own target/.
    for (const entry of await readdir(dir)) {
      if (entry === 'target' || entry === 'Cargo.lock') continue;
      await cp(join(dir, entry), join(stage, relative(root, dir), entry), { recursive: true, preserveTimestamps: true });
    }
  }
  const member = relative(root, crateDir) || '.';
  const text = (parts: { text: string }[]): string => parts.map((t) => t.text).join('');
  const manifestOf = async (dir: string) => tables(await readFile(join(dir, 'Cargo.toml'), 'utf8'));
  const notWorkspace = (t: { name: string }): boolean => t.name !== 'workspace';
  // A path dependency that is a workspace of its own (a library crate that keeps out of any
  // workspace around it) would be a second root in the stage's: its copy goes without.
  for (const dir of crates) {
    const own = dir === crateDir ? [] : await manifestOf(dir);
    if (!own.every(notWorkspace)) await writeFile(join(stage, relative(root, dir), 'Cargo.toml'), text(own.filter(notWorkspace)));
  }
  const manifest = (await manifestOf(crateDir)).filter(notWorkspace);
  const isProfile = (t: { name: string }): boolean => t.name === 'profile' || t.name.startsWith('profile.');
  if (member === '.') {
    await writeFile(join(stage, 'Cargo.toml'), `${text(manifest)}\n[workspace]\n`);
  } else {
    await writeFile(join(stage, member, 'Cargo.toml'), text(manifest.filter((t) => !isProfile(t))));
    const header = `# Generated by host/toolchain/rust.ts from ${member}/Cargo.toml.\n[workspace]\nmembers = [${JSON.stringify(member)}]\n\n`;
    await writeFile(join(stage, 'Cargo.toml'), header + text(manifest.filter(isProfile)));
  }
  return member;
}

/** The cdylib's `.wasm`, from cargo's JSON messages. */
function wasmArtifact(stdout: string): string | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line) as { reason?: string; target?: { kind?: string[] }; filenames?: string[] };
    if (message.reason !== 'compiler-artifact' || !message.target?.kind?.includes('cdylib')) continue;
    const wasm = message.filenames?.find((f) => f.endsWith('.wasm'));
    if (wasm) return wasm;
  }
  return undefined;
}

/**
 * Builds the crate in `dir` (a `cdylib` using `tessera-sdk`) for wasm32 with Debian's cargo
 * (or one on PATH, with a warning), offline and `--locked` when it has a Cargo.lock, with
 * its `[profile.release]`; checks the module loads in this host and that its manifest's
 * capabilities are exactly the host interfaces it imports; then writes it to `outFile`.
 * Build output goes to `dir/target/`.
 */
export async function buildRustComponent(dir: string, outFile: string, options: RustBuildOptions = {}): Promise<Uint8Array> {
  const crateDir = resolve(dir);
  const env = cleanEnv();
  const { toolchain, reproducible } = await chooseToolchain(options, env);
  if (!reproducible) {
    const version = (await run(toolchain.rustc, ['--version'], { cwd: crateDir, env }).catch(() => ({ stdout: 'rustc, version unknown' }))).stdout.trim();
    options.warn?.(
      `built with ${toolchain.cargo} (${version}), not Debian's ${DEBIAN_RUST.cargo}: this is not the reproducible Debian build, ` +
        'so its bytes may differ from the committed .wasm and from other machines',
    );
  }
  if (!(await exists(join(crateDir, 'Cargo.toml')))) throw new ComponentBuildError(`${crateDir} has no Cargo.toml`);
  const lockFile = join(crateDir, 'Cargo.lock');
  const locked = await exists(lockFile);
  const lockFlags = ['--offline', ...(locked ? ['--locked'] : [])];
  const cargoEnv = { ...env, RUSTC: toolchain.rustc };

  const crates = await localCrates(toolchain.cargo, join(crateDir, 'Cargo.toml'), lockFlags, cargoEnv).catch((err) => {
    throw new ComponentBuildError(`${crateDir}: cargo metadata failed: ${toolOutput(err)}`);
  });
  const targetDir = join(crateDir, 'target');
  const stage = join(targetDir, 'tessera-stage');
  const member = await stageWorkspace(crateDir, crates, stage);
  if (locked) await copyFile(lockFile, join(stage, 'Cargo.lock'));

  const cargoHome = env.CARGO_HOME ?? join(homedir(), '.cargo');
  // Inside the stage cargo hands rustc workspace-relative paths, so no checkout path reaches
  // the module. Crates from a registry would come by absolute path from the cargo home:
  // remapped. The stage itself is not: rustc cannot show a source line or a label from a
  // remapped file of another crate, which would hide the SDK's compile-time manifest errors.
  const rustflags = [`--remap-path-prefix=${cargoHome}=/cargo`];
  const args = [
    'build', '--release', '--target', TARGET, '--manifest-path', join(stage, member, 'Cargo.toml'),
    '--target-dir', targetDir, '--message-format', 'json-render-diagnostics', ...lockFlags,
  ];
  let built: RunResult;
  try {
    built = await run(toolchain.cargo, args, { cwd: stage, env: { ...cargoEnv, CARGO_ENCODED_RUSTFLAGS: rustflags.join('\x1f') } });
  } catch (err) {
    throw new ComponentBuildError(`${crateDir}: cargo build failed:\n${toolOutput(err)}`);
  }
  // A first build writes the lockfile; it belongs beside the sources, to be committed.
  if (!locked) await copyFile(join(stage, 'Cargo.lock'), lockFile);
  const wasm = wasmArtifact(built.stdout);
  if (!wasm) throw new ComponentBuildError(`${crateDir}: cargo built no .wasm: is it a \`crate-type = ["cdylib"]\` library?`);

  const bytes = new Uint8Array(await readFile(wasm));
  await checkBuiltModule(crateDir, bytes, "the export macro's `capabilities`");
  await mkdir(dirname(resolve(outFile)), { recursive: true });
  await writeFile(outFile, bytes);
  return bytes;
}
