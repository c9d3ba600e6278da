// `tessera component new`: a new component folder from the templates in
// templates/<kind>/<language>/, with its name, type, the path to this checkout's SDK and the
// command that builds it filled in. Template files end in `.tmpl` (so no tool mistakes them
// for sources of this repository); `gitignore.tmpl` becomes `.gitignore`.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { ComponentBuildError } from './build-error.ts';
import { packageFile } from '../package-root.ts';
import { kindOf } from '../sandbox/kinds/index.ts';
import { SDK_DIRS } from './build-support.ts';
import type { ComponentLanguage } from './index.ts';

/** The languages `tessera component new` writes templates for (JavaScript components are built, not scaffolded). */
export type ScaffoldLanguage = Exclude<ComponentLanguage, 'js'>;

const TEMPLATES_DIR = packageFile('host', 'toolchain', 'templates');

/** The kinds `new` can make, as the command names them. */
export const SCAFFOLD_KINDS = ['state', 'pubsub', 'binding'] as const;
export type ScaffoldKind = (typeof SCAFFOLD_KINDS)[number];

/** Each kind `new` makes: the manifest kind (host/sandbox/kinds/) whose type prefix its types take, and what it is called. */
const KINDS: Record<ScaffoldKind, { manifestKind: string; noun: string }> = {
  state: { manifestKind: 'state-store', noun: 'state store' },
  pubsub: { manifestKind: 'pubsub', noun: 'pub/sub broker' },
  binding: { manifestKind: 'binding', noun: 'input/output binding' },
};

/** What a kind's component is called (`state store`), for messages. */
export const kindNoun = (kind: ScaffoldKind): string => KINDS[kind].noun;

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 64;
/** Names cargo refuses for a package: Rust keywords and the crates every program links. */
const RUST_RESERVED = new Set(
  ('as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ' +
    'ref return self static struct super trait true type unsafe use where while abstract become box do final macro override ' +
    'priv try typeof unsized virtual yield std core alloc test proc_macro tessera_sdk').split(' '),
);

/** The command that runs this package's CLI (its `tessera` launcher), as the new folder's README writes it. */
const CLI = packageFile('host', 'cli', 'tessera.mjs');
export const TESSERA_COMMAND = `node ${/\s/.test(CLI) ? JSON.stringify(CLI) : CLI}`;

const SDK_READMES: Record<ScaffoldLanguage, string> = {
  as: packageFile('sdk', 'assemblyscript', 'README.md'),
  rust: packageFile('sdk', 'rust', 'README.md'),
  cpp: packageFile('sdk', 'cpp', 'README.md'),
};

/** What is wrong with a component name for `language`, or undefined when it is a good one. */
export function nameProblem(name: string, language: ScaffoldLanguage): string | undefined {
  if (!NAME.test(name) || name.length > MAX_NAME_LENGTH) {
    return `"${name}" is not a component name: use lower-case letters, digits and single hyphens, starting with a letter, at most ${MAX_NAME_LENGTH} characters (e.g. "orders-cache")`;
  }
  if (language === 'rust' && RUST_RESERVED.has(name.replaceAll('-', '_'))) {
    return `"${name}" cannot name a Rust crate (it is a Rust keyword or a built-in crate): choose another name`;
  }
  return undefined;
}

/**
 * The component type a name gives, under its kind's type prefix: `orders-cache` ->
 * `state.orders-cache`, `webhook` -> `bindings.webhook`; a leading `state-` (`pubsub-`,
 * `binding-` or `bindings-`) is dropped.
 */
export function typeFor(kind: ScaffoldKind, name: string): string {
  const prefix = kindOf(KINDS[kind].manifestKind)!.typePrefix;
  const redundant = [`${kind}-`, `${prefix.slice(0, -1)}-`].find((p) => name.startsWith(p) && name.length > p.length);
  return `${prefix}${redundant === undefined ? name : name.slice(redundant.length)}`;
}

async function templateFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await templateFiles(path)));
    else files.push(path);
  }
  return files.sort();
}

/** Refuses a path that is a file, or a folder with anything in it. */
async function checkTarget(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing === undefined) return;
  if (!existing.isDirectory()) throw new ComponentBuildError(`${dir} exists and is not a folder: choose another name`);
  if ((await readdir(dir)).length > 0) throw new ComponentBuildError(`${dir} exists and is not empty: choose another name, or remove it first`);
}

/** A relative path as an import or Cargo path wants it: always starting with `.`. */
function relativeFrom(from: string, to: string): string {
  const path = relative(from, to);
  return path.startsWith('.') ? path : `./${path}`;
}

export interface ScaffoldOptions {
  kind: ScaffoldKind;
  language: ScaffoldLanguage;
  name: string;
  /** The folder to create `<name>/` in. */
  parentDir: string;
}

/** Writes a new component folder; resolves to it and its files (relative to it). */
export async function scaffoldComponent(options: ScaffoldOptions): Promise<{ dir: string; type: string; files: string[] }> {
  const { kind, language, name } = options;
  const problem = nameProblem(name, language);
  if (problem !== undefined) throw new ComponentBuildError(problem);
  const dir = resolve(options.parentDir, name);
  await checkTarget(dir);
  const type = typeFor(kind, name);
  const templateDir = join(TEMPLATES_DIR, kind, language);
  if ((await stat(templateDir).catch(() => undefined)) === undefined) {
    throw new ComponentBuildError(`there is no ${language} template for ${kind} components yet (this Tessera has no ${relative(packageFile(), templateDir)}/)`);
  }
  const files: string[] = [];
  for (const template of await templateFiles(templateDir)) {
    const path = relative(templateDir, template).replace(/\.tmpl$/, '').replace(/(^|[\\/])gitignore$/, '$1.gitignore');
    const target = join(dir, path);
    const values: Record<string, string> = {
      name,
      type,
      abi: ABI_VERSION,
      sdk: relativeFrom(dirname(target), SDK_DIRS[language]),
      'sdk-dir': SDK_DIRS[language],
      'sdk-readme': SDK_READMES[language],
      tessera: TESSERA_COMMAND,
    };
    const text = (await readFile(template, 'utf8')).replace(/\{\{([a-z-]+)\}\}/g, (whole, key: string) => values[key] ?? whole);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text, { flag: 'wx' });
    files.push(path);
  }
  return { dir, type, files };
}
