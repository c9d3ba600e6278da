// The toolchain layer's front door: which language a component folder is written in, and
// building it with that language's builder into `<folder>/<folder name>.wasm`.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { AS_PACKAGES, buildAssemblyScriptComponent } from './assemblyscript.ts';
import { ComponentBuildError, type MissingToolchain } from './build-error.ts';
import { exists, shownPath } from './build-support.ts';
import { CPP_PACKAGES, buildCppComponent } from './cpp.ts';
import { JS_ENTRY, JS_PACKAGES, buildJavaScriptComponent, sameInterface } from './javascript.ts';
import { RUST_PACKAGES, buildRustComponent, type RustBuildOptions } from './rust.ts';

/** Where the toolchains are, when not where a Debian machine has them (tests play a machine without one). */
export interface Toolchains {
  /** The module specifier of the AssemblyScript compiler (`assemblyscript/asc`). */
  asc?: string;
  /** Where Debian's cargo and rustc are, and the PATH searched for another. */
  rust?: Omit<RustBuildOptions, 'warn'>;
  /** The clang++ driver, a path or a name looked up on PATH. */
  clang?: string;
}

interface Language {
  name: string;
  /**
   * How a committed build is compared with a rebuild: byte for byte, or (for builders that
   * are not reproducible, such as componentize-js's engine snapshot) by what the host reads.
   */
  reproducible: boolean;
  /** The files that make a folder this language's, for messages. */
  layout: string;
  /** Whether the folder (`entries`: the names in it) is in this language. */
  detect(dir: string, entries: string[]): Promise<boolean>;
  /** `warn` hears what the user should know of a build that succeeded (a toolchain that is not the reproducible one). */
  build(dir: string, outFile: string, toolchains: Toolchains, warn: (message: string) => void): Promise<Uint8Array>;
  /** What the builder needs installed. */
  packages: MissingToolchain;
}

/** The languages, in the order a folder's layout is tried: the first that matches wins. */
const LANGUAGES = {
  as: {
    name: 'AssemblyScript',
    reproducible: true,
    layout: 'assembly/index.ts and manifest.json',
    detect: async (dir, entries) => entries.includes('manifest.json') && (await exists(join(dir, 'assembly', 'index.ts'))),
    build: (dir, outFile, t) => buildAssemblyScriptComponent(dir, outFile, t.asc),
    packages: AS_PACKAGES,
  },
  rust: {
    name: 'Rust',
    reproducible: true,
    layout: 'a Cargo.toml',
    detect: async (_dir, entries) => entries.includes('Cargo.toml'),
    build: (dir, outFile, t, warn) => buildRustComponent(dir, outFile, { ...t.rust, warn }),
    packages: RUST_PACKAGES,
  },
  cpp: {
    name: 'C++',
    reproducible: true,
    layout: '*.cpp files',
    detect: async (_dir, entries) => entries.some((name) => name.endsWith('.cpp')),
    build: (dir, outFile, t) => buildCppComponent(dir, outFile, t.clang),
    packages: CPP_PACKAGES,
  },
  js: {
    name: 'JavaScript (componentize-js)',
    reproducible: false,
    layout: `${JS_ENTRY} and manifest.json`,
    detect: async (_dir, entries) => entries.includes(JS_ENTRY) && entries.includes('manifest.json'),
    build: (dir, outFile) => buildJavaScriptComponent(dir, outFile),
    packages: JS_PACKAGES,
  },
} satisfies Record<string, Language>;

export type ComponentLanguage = keyof typeof LANGUAGES;

export const languageName = (language: ComponentLanguage): string => LANGUAGES[language].name;

/** What each language's builder needs installed. */
export function toolchainPackages(): [ComponentLanguage, MissingToolchain][] {
  return (Object.keys(LANGUAGES) as ComponentLanguage[]).map((language) => [language, LANGUAGES[language].packages]);
}

/** The language of a component folder, by its layout (see LANGUAGES). */
export async function detectLanguage(dir: string): Promise<ComponentLanguage> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new ComponentBuildError(`cannot read the component folder ${dir}: ${(err as Error).message}`);
  }
  const languages = Object.entries(LANGUAGES) as [ComponentLanguage, Language][];
  for (const [language, { detect }] of languages) if (await detect(dir, entries)) return language;
  const layouts = languages.map(([, { name, layout }]) => `${layout} (${name})`);
  throw new ComponentBuildError(
    `${dir} is no component folder: it needs ${layouts.slice(0, -1).join(', ')} or ${layouts.at(-1)}; \`tessera component new\` makes one`,
  );
}

/** Where a folder's build goes: `<folder>/<folder name>.wasm`. */
export function defaultOutFile(dir: string): string {
  const folder = resolve(dir);
  return join(folder, `${basename(folder)}.wasm`);
}

export interface BuiltComponent {
  language: ComponentLanguage;
  outFile: string;
  bytes: Uint8Array;
}

/** Builds a component folder with its language's builder; fails with a ComponentBuildError. */
export async function buildComponent(
  dir: string,
  options: { outFile?: string; toolchains?: Toolchains; warn?: (message: string) => void } = {},
): Promise<BuiltComponent> {
  const language = await detectLanguage(dir);
  const outFile = options.outFile ?? defaultOutFile(dir);
  const bytes = await LANGUAGES[language].build(dir, outFile, options.toolchains ?? {}, options.warn ?? (() => {}));
  return { language, outFile, bytes };
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/**
 * Rebuilds a folder into a scratch folder and compares the result with the `.wasm` beside
 * its sources: undefined when they are the same bytes, else what differs.
 */
export async function differenceFromCommitted(dir: string): Promise<string | undefined> {
  const committedFile = defaultOutFile(dir);
  const scratch = await mkdtemp(join(tmpdir(), 'tessera-rebuild-'));
  try {
    const warnings: string[] = [];
    const { bytes: built, language } = await buildComponent(dir, { outFile: join(scratch, basename(committedFile)), warn: (w) => warnings.push(w) });
    const committed = await readFile(committedFile).catch(() => undefined);
    const shown = shownPath(committedFile);
    if (committed === undefined) return `${shown} is missing`;
    if (Buffer.compare(committed, built) === 0) return undefined;
    if (!LANGUAGES[language].reproducible) {
      return sameInterface(committed, built) ? undefined : `${shown} differs from what its sources build in its manifest, imports or exports`;
    }
    return (
      `${shown} differs from what its sources build (committed ${committed.length} bytes, built ${built.length}, ` +
      `first difference at byte ${firstDifference(committed, built)})${warnings.map((w) => `; ${w}`).join('')}`
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
