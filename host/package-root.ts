// Where the package's files are, from the module that is running. In a checkout, host/ runs
// as its .ts sources; in the installed package it runs as dist/host/, compiled to .js at
// `prepack` (tsconfig.build.json), because Node does not strip types under node_modules.
// abi/, components-wasm/, sdk/ and the templates sit in the package root in both layouts.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Whether this code runs compiled (dist/host/*.js) rather than from its sources (host/*.ts). */
const COMPILED = import.meta.url.endsWith('.js');

/** The package's root folder (the checkout, or node_modules/tessera-sidecar), no trailing separator. */
export const PACKAGE_ROOT = fileURLToPath(new URL(COMPILED ? '../..' : '..', import.meta.url)).replace(/[\\/]$/, '');

/** A file of the package, by its path from the root (`packageFile('abi', 'wit')`). */
export function packageFile(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments);
}

/**
 * A module beside `importMetaUrl` by its name without extension, as the running code has it:
 * a worker's entry file (`new Worker(url)`) is a path that the compiler does not rewrite.
 */
export function siblingModule(name: string, importMetaUrl: string): URL {
  return new URL(`./${name}${COMPILED ? '.js' : '.ts'}`, importMetaUrl);
}
