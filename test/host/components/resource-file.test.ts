import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODULE_LIMIT, YAML_LIMIT, readResourceFile, type ReadLimit } from '../../../host/components/resource-file.ts';
import { tempDir } from '../../support/temp-dir.ts';

let dir: { path: string; remove: () => Promise<void> };
let outside: { path: string; remove: () => Promise<void> };
const SECRET = 'root:x:0:0:TOP-SECRET';

before(async () => {
  dir = await tempDir();
  outside = await tempDir();
  await writeFile(join(outside.path, 'secret.yaml'), `${SECRET}\n`);
});
after(async () => {
  await dir.remove();
  await outside.remove();
});

const refusal = (path: string, limit: ReadLimit = YAML_LIMIT): string => {
  try {
    readResourceFile(path, dir.path, limit);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${path} was read`);
};

test('a regular file, and a symlink to one inside the folder, are read', async () => {
  await writeFile(join(dir.path, 'plain.yaml'), 'kind: Component\n');
  await mkdir(join(dir.path, 'shared'));
  await writeFile(join(dir.path, 'shared', 'real.yaml'), 'kind: Real\n');
  await symlink(join(dir.path, 'shared', 'real.yaml'), join(dir.path, 'linked.yaml'));
  assert.equal(new TextDecoder().decode(readResourceFile(join(dir.path, 'plain.yaml'), dir.path, YAML_LIMIT).bytes), 'kind: Component\n');
  assert.equal(new TextDecoder().decode(readResourceFile(join(dir.path, 'linked.yaml'), dir.path, YAML_LIMIT).bytes), 'kind: Real\n');
});

test('a named pipe is refused at once, naming the file, instead of blocking the read', () => {
  const path = join(dir.path, 'pipe.yaml');
  execFileSync('mkfifo', [path]);
  const t0 = performance.now();
  const message = refusal(path);
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(message, `${path}: a named pipe (FIFO), not a regular file: only regular files are read`);
});

test('a symlink to /dev/zero (stat says 0 bytes) is refused, not read until memory runs out', async () => {
  const path = join(dir.path, 'zero.wasm');
  await symlink('/dev/zero', path);
  assert.match(refusal(path, MODULE_LIMIT), new RegExp(`^${path}: a symbolic link that leads outside the resources folder`));
});

test('a symlink to a file outside the folder is refused without showing where it leads or what is there', async () => {
  const path = join(dir.path, 'leak.yaml');
  await symlink(join(outside.path, 'secret.yaml'), path);
  const message = refusal(path);
  assert.match(message, /leak\.yaml: a symbolic link that leads outside the resources folder/);
  assert.ok(!message.includes(SECRET) && !message.includes(outside.path), message);
});

test('a dangling symlink, a symlink loop and a directory are refused by name', async () => {
  await symlink(join(dir.path, 'nowhere.yaml'), join(dir.path, 'dangling.yaml'));
  assert.match(refusal(join(dir.path, 'dangling.yaml')), /dangling\.yaml: a symbolic link to nothing/);
  await symlink(join(dir.path, 'loop.yaml'), join(dir.path, 'loop.yaml'));
  assert.match(refusal(join(dir.path, 'loop.yaml')), /loop\.yaml: a symbolic link in a loop/);
  await mkdir(join(dir.path, 'folder.wasm'));
  assert.match(refusal(join(dir.path, 'folder.wasm'), MODULE_LIMIT), /folder\.wasm: a directory, not a regular file/);
});

test('files over their limit are refused naming the file, its size and the limit', async () => {
  const yaml = join(dir.path, 'big.yaml');
  await writeFile(yaml, new Uint8Array(YAML_LIMIT.bytes + 1));
  assert.equal(refusal(yaml), `${yaml}: the file is 1.0 MiB, over the 1 MiB resource YAML limit`);
  const wasm = join(dir.path, 'big.wasm');
  await writeFile(wasm, new Uint8Array(MODULE_LIMIT.bytes + 1024 * 1024));
  assert.equal(refusal(wasm, MODULE_LIMIT), `${wasm}: the file is 33.0 MiB, over the 32 MiB module limit`);
});

test('the limit holds while reading: a file whose stat size is 0 but which goes on is cut off', () => {
  // /proc files report a size of 0 and have content: as a device or a growing file would.
  const tiny: ReadLimit = { bytes: 16, what: 'test', code: 'ERR_COMPONENT_CONFIG' };
  assert.throws(() => readResourceFile('/proc/self/status', '/proc', tiny), /^TesseraError: \/proc\/self\/status: reading stopped past the .* test limit \(the file is larger than its size said\)$/);
});
