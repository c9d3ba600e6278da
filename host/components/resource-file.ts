// Reads one file of a resources folder, whatever the folder holds: only a regular file, or a
// symlink to one inside the folder; a pipe or a device can neither block the read nor feed it
// for ever. Synchronous, for the load worker, whose deadline bounds a read that still hangs.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { TesseraError, type ErrorCode } from '../errors.ts';

/** What a read is allowed, and how a refusal is worded. */
export interface ReadLimit {
  bytes: number;
  /** `module` or `resource YAML`, as in "over the 32 MiB module limit". */
  what: string;
  code: ErrorCode;
}

export const MODULE_LIMIT: ReadLimit = { bytes: 32 * 1024 * 1024, what: 'module', code: 'ERR_COMPONENT_LOAD' };
export const YAML_LIMIT: ReadLimit = { bytes: 1024 * 1024, what: 'resource YAML', code: 'ERR_COMPONENT_CONFIG' };

const CHUNK_BYTES = 64 * 1024;

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
const limitText = (limit: ReadLimit): string => `the ${limit.bytes / 1048576} MiB ${limit.what} limit`;

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * The file's bytes and modification time. `root` is the resources folder the file was
 * listed in; a symlink must resolve inside it, and is refused without saying where it
 * points (or what is there).
 */
export function readResourceFile(path: string, root: string, limit: ReadLimit): { bytes: Uint8Array; mtimeMs: number } {
  const refuse = (message: string): TesseraError => new TesseraError(limit.code, `${path}: ${message}`);
  let target = path;
  let info = lstatSync(path);
  if (info.isSymbolicLink()) {
    let real: string;
    try {
      real = realpathSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw refuse(code === 'ELOOP' ? 'a symbolic link in a loop (it leads back to itself)' : 'a symbolic link to nothing (its target does not exist)');
    }
    const folder = realpathSync(root);
    if (!real.startsWith(folder + sep)) throw refuse(`a symbolic link that leads outside the resources folder ${root}: only files inside it are read`);
    target = real;
    info = lstatSync(real);
  }
  if (!info.isFile()) throw refuse(`${kindOf(info)}, not a regular file: only regular files are read`);
  if (info.size > limit.bytes) throw refuse(`the file is ${mib(info.size)}, over ${limitText(limit)}`);

  // O_NONBLOCK: a pipe swapped in since the check cannot block the open (fstat then refuses
  // it); O_NOFOLLOW: nor can a symlink.
  const fd = openSync(target, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile()) throw refuse(`${kindOf(opened)}, not a regular file: only regular files are read`);
    // Read in chunks up to one byte past the limit, whatever fstat said (a device or /proc
    // file says 0, a growing file less than it has): one byte over is enough to refuse it.
    let buffer = new Uint8Array(Math.min(limit.bytes + 1, Math.max(opened.size + 1, CHUNK_BYTES)));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > limit.bytes) throw refuse(`reading stopped past ${limitText(limit)} (the file is larger than its size said)`);
        const grown = new Uint8Array(Math.min(limit.bytes + 1, buffer.length * 2));
        grown.set(buffer);
        buffer = grown;
      }
      const n = readSync(fd, buffer, length, Math.min(CHUNK_BYTES, buffer.length - length), null);
      if (n === 0) break;
      length += n;
    }
    return { bytes: buffer.slice(0, length), mtimeMs: opened.mtimeMs };
  } finally {
    closeSync(fd);
  }
}
