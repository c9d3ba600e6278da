// A component's snapshot as a file: written atomically (a temp file beside it, fsync,
// rename, fsync of the folder), chunk by chunk with asynchronous writes, so a large store
// never holds the event loop and a crash mid-write leaves the previous file whole. Read back
// whole and checked (magic, component type, framing, CRC-32), so a damaged file is refused
// with the reason rather than restored as partial or empty data.
//
// Layout: "TSNAPv1\n", u32 type length, type (UTF-8), then per chunk u32 length and bytes,
// then u32 0xFFFFFFFF, then u32 CRC-32 of everything before it. Integers big-endian.
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { TesseraError } from '../errors.ts';
import type { SnapshotData } from '../sandbox/guest-component.ts';

const MAGIC = Buffer.from('TSNAPv1\n');
const END = 0xffffffff;

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/**
 * Writes `data` (the snapshot of a component of `type`) to `path`, replacing what was there
 * only once all of it is on disk. Makes the folder when it is missing.
 */
export async function writeSnapshotFile(path: string, type: string, data: SnapshotData): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temp = join(folder, `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temp, 'w', 0o600);
  let crc = 0;
  const put = async (...parts: Uint8Array[]): Promise<void> => {
    for (const part of parts) crc = crc32(part, crc);
    await file.writev(parts);
  };
  try {
    const name = Buffer.from(type);
    await put(MAGIC, u32(name.byteLength), name);
    for (const chunk of data) await put(u32(chunk.byteLength), chunk);
    await put(u32(END));
    await file.write(u32(crc));
    await file.sync();
    await file.close();
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
  await rename(temp, path);
  // The rename itself is durable only once the folder is synced (not possible everywhere).
  const dir = await open(folder, 'r');
  try {
    await dir.sync().catch(() => undefined);
  } finally {
    await dir.close();
  }
}

function damaged(why: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', `the file is damaged (${why}); move it away to start empty, or put back a good copy`);
}

/**
 * The snapshot in `path`, written for a component of `type`; undefined when there is no file
 * yet. A file larger than `maxBytes`, damaged, or written for another type is refused.
 */
export async function readSnapshotFile(path: string, type: string, maxBytes: number): Promise<SnapshotData | undefined> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new TesseraError('ERR_COMPONENT_LOAD', 'it is not a regular file');
    size = info.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (size > maxBytes) throw new TesseraError('ERR_COMPONENT_LOAD', `it holds ${size} bytes, more than the ${maxBytes} this component's memory limit could hold`);
  const bytes = await readFile(path);
  if (bytes.byteLength < MAGIC.byteLength + 12 || !bytes.subarray(0, MAGIC.byteLength).equals(MAGIC)) throw damaged('not a Tessera snapshot file');
  const body = bytes.subarray(0, bytes.byteLength - 4);
  if (crc32(body) !== bytes.readUInt32BE(body.byteLength)) throw damaged('its checksum does not match: truncated or overwritten');
  let at = MAGIC.byteLength;
  const take = (n: number): Buffer => {
    if (at + n > body.byteLength) throw damaged('a record runs past its end');
    const part = body.subarray(at, at + n);
    at += n;
    return part;
  };
  const written = take(take(4).readUInt32BE()).toString();
  if (written !== type) throw new TesseraError('ERR_COMPONENT_LOAD', `it holds the data of a ${written} component, not of ${type}`);
  const chunks: Uint8Array[] = [];
  for (;;) {
    const length = take(4).readUInt32BE();
    if (length === END) break;
    chunks.push(take(length));
  }
  if (at !== body.byteLength) throw damaged('bytes follow its end');
  return chunks;
}
