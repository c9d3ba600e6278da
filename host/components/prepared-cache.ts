// A disk cache of the bundled components as prepared: the hardened (capped, metered) bytes of
// a core module and what its checks found, so a start compiles them without metering them
// again, and each bundled module's manifest, so a start does not read a module for its type. Read and written by the load worker only. Keyed by the module's sha256, its limits,
// and a fingerprint of the code that checks and hardens (host/sandbox, abi/) and of Node; the
// entries of the four fingerprints written last are kept. Only the host's own
// modules are cached, and only in a folder of this user's that nobody else can write
// (TESSERA_CACHE_DIR, else $XDG_CACHE_HOME/tessera or ~/.cache/tessera; `off` turns it off).
// A cache that cannot be read or written is a slower start, never a failure.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../../abi/ts/manifest.ts';
import type { CompiledParts, PreparedComponent } from '../sandbox/compiled-component.ts';
import { packageFile } from '../package-root.ts';
import { compileHardened } from '../sandbox/compile-hardened.ts';
import { BUNDLED_DIR } from './bundled-dir.ts';

/** What the fingerprint covers: every file of the code that checks and hardens a module. */
const CODE_DIRS = [fileURLToPath(new URL('../sandbox/', import.meta.url)), packageFile('abi')];
const ENTRY_LIMIT_BYTES = 64 * 1024 * 1024;

interface Entry {
  parts: CompiledParts;
  /** sha256 of the hardened bytes that follow, checked on every read. */
  hardened: string;
}

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

function cacheRoot(): string | undefined {
  const configured = process.env.TESSERA_CACHE_DIR;
  if (configured === 'off') return undefined;
  if (configured) return configured;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tessera');
}

/** How many fingerprints' entries are kept: other checkouts and versions on this machine keep theirs. */
const FINGERPRINTS_KEPT = 4;

/** The folder of this code's entries, made if need be; undefined when the cache is off or not safe to use. */
function openFolder(): string | undefined {
  const root = cacheRoot();
  if (root === undefined) return undefined;
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const info = statSync(root);
    // Entries are trusted code: a folder another user owns or may write is not used.
    if (info.uid !== process.getuid?.() || (info.mode & 0o022) !== 0) return undefined;
    const hash = createHash('sha256').update(`${process.version}\0`);
    for (const dir of CODE_DIRS) {
      for (const file of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
        const path = join(dir, file);
        if (statSync(path).isFile()) hash.update(`${file}\0`).update(readFileSync(path));
      }
    }
    const folder = join(root, `prepared-${hash.digest('hex').slice(0, 16)}`);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    return folder;
  } catch {
    return undefined;
  }
}

let opened: { folder: string | undefined } | undefined;
const entriesFolder = (): string | undefined => (opened ??= { folder: openFolder() }).folder;

/** Removes the entries of all but the most recently written fingerprints. */
function prune(root: string): void {
  const folders = readdirSync(root)
    .filter((name) => name.startsWith('prepared-'))
    .map((name) => ({ path: join(root, name), mtimeMs: statSync(join(root, name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const { path } of folders.slice(FINGERPRINTS_KEPT)) rmSync(path, { recursive: true, force: true });
}

const isBundled = (source: string | undefined): source is string => source !== undefined && source.startsWith(BUNDLED_DIR.endsWith(sep) ? BUNDLED_DIR : BUNDLED_DIR + sep);

/** Longest manifest entry read back (a manifest section holds at most 16 KiB). */
const MANIFEST_ENTRY_LIMIT_BYTES = 64 * 1024;

/**
 * The entry of a bundled module's manifest, by the file's identity (path, size, mtime, inode):
 * the catalog of bundled types reads every bundled module for its manifest on every start
 * (12 MB for the JavaScript store), and this lets a start read none it has read before.
 */
function manifestEntryPath(path: string): string | undefined {
  if (!isBundled(path)) return undefined;
  const dir = entriesFolder();
  if (dir === undefined) return undefined;
  try {
    const { size, mtimeMs, ino } = statSync(path);
    return join(dir, `manifest-${sha256(`${path}\0${size}\0${mtimeMs}\0${ino}`)}.json`);
  } catch {
    return undefined;
  }
}

/** A bundled module's manifest as read before from this very file; undefined on a miss. */
export function readCachedManifest(path: string): Manifest | undefined {
  const entry = manifestEntryPath(path);
  if (entry === undefined) return undefined;
  try {
    if (statSync(entry).size > MANIFEST_ENTRY_LIMIT_BYTES) return undefined;
    return JSON.parse(readFileSync(entry, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** Keeps a bundled module's manifest (checked when it was read) for the next start. */
export function writeCachedManifest(path: string, manifest: Manifest): void {
  const entry = manifestEntryPath(path);
  if (entry === undefined) return;
  try {
    const temp = `${entry}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temp, JSON.stringify(manifest), { mode: 0o600 });
    renameSync(temp, entry);
  } catch {
    // Not kept: the next start reads the module again.
  }
}

/** The entry's path for `bytes` under these limits, if the cache is on and `source` is a module the host ships. */
function entryPath(bytes: Uint8Array, source: string | undefined, parts: Pick<CompiledParts, 'memoryLimitBytes' | 'cpuBudget'>): string | undefined {
  if (!isBundled(source)) return undefined;
  const dir = entriesFolder();
  return dir === undefined ? undefined : join(dir, `${sha256(bytes)}-${parts.memoryLimitBytes}-${parts.cpuBudget}.bin`);
}

/** The prepared component from the cache, compiled here; undefined on a miss (or an entry that does not check out, which is removed). */
export async function readPrepared(
  bytes: Uint8Array,
  source: string | undefined,
  limits: Pick<CompiledParts, 'memoryLimitBytes' | 'cpuBudget'>,
): Promise<PreparedComponent | undefined> {
  const path = entryPath(bytes, source, limits);
  if (path === undefined) return undefined;
  let data: Buffer;
  try {
    const info = statSync(path);
    if (!info.isFile() || info.size > ENTRY_LIMIT_BYTES) return undefined;
    data = readFileSync(path);
  } catch {
    return undefined;
  }
  try {
    const headerBytes = data.readUInt32LE(0);
    const entry = JSON.parse(data.subarray(4, 4 + headerBytes).toString('utf8')) as Entry;
    const hardened = new Uint8Array(data.subarray(4 + headerBytes));
    if (sha256(hardened) !== entry.hardened) throw new Error('the hardened bytes do not match their hash');
    return { code: { format: 'core-module', module: compileHardened(hardened) }, parts: entry.parts };
  } catch {
    rmSync(path, { force: true });
    return undefined;
  }
}

/** Keeps a prepared core module for the next start; written whole (temporary file, then renamed) or not at all. */
export function writePrepared(bytes: Uint8Array, source: string | undefined, parts: CompiledParts, hardened: Uint8Array): void {
  const path = entryPath(bytes, source, parts);
  if (path === undefined) return;
  try {
    const header = Buffer.from(JSON.stringify({ parts, hardened: sha256(hardened) } satisfies Entry));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length);
    const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temp, Buffer.concat([length, header, hardened]), { mode: 0o600 });
    renameSync(temp, path);
    prune(dirname(dirname(path)));
  } catch {
    // Not kept: the next start prepares the module again.
  }
}
