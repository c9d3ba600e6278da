// What the component builders share: where the package's SDKs are, running a tool, and
// small path helpers.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PACKAGE_ROOT, packageFile } from '../package-root.ts';

/**
 * Where `npm install` puts a package the host at `packageRoot` can import: the folder whose
 * node_modules holds Tessera when it is installed as a package (the app's folder), else the
 * checkout itself.
 */
export function npmInstallFolder(packageRoot: string): string {
  const at = packageRoot.lastIndexOf(`${sep}node_modules${sep}`);
  return at === -1 ? packageRoot : packageRoot.slice(0, at) || sep;
}

export const NPM_INSTALL_FOLDER = npmInstallFolder(PACKAGE_ROOT);

/** The guest SDKs a component builds against: always this package's (the checkout, or the installed package). */
export const SDK_DIRS = {
  as: packageFile('sdk', 'assemblyscript', 'assembly'),
  rust: packageFile('sdk', 'rust'),
  cpp: packageFile('sdk', 'cpp', 'include'),
} as const;

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a tool; a failure rejects with the error carrying the tool's `stdout` and `stderr`. */
export function run(file: string, args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolvePromise({ stdout, stderr });
    });
  });
}

/** A failed tool's own words: its stderr when it wrote any, else the error. */
export function toolOutput(err: unknown): string {
  return (err as Partial<RunResult>).stderr?.trim() || (err as Error).message;
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** The deepest folder that holds every one of `paths` (absolute paths). */
export function commonAncestor(paths: string[]): string {
  let parts = paths[0]!.split(sep);
  for (const path of paths.slice(1)) {
    const other = path.split(sep);
    let n = 0;
    while (n < parts.length && n < other.length && parts[n] === other[n]) n++;
    parts = parts.slice(0, n);
  }
  return parts.join(sep) || sep;
}

/** A path as a user would type it from the working directory: relative inside it, else absolute. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}
