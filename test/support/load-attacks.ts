// Resources files that attack loading rather than calling: files that are no regular file,
// files over their size limits, manifests that are costly to check, modules that are costly
// to check, harden or compile, a module whose `init` never returns. Built at test time
// (some are tens of megabytes).
import { execFileSync } from 'node:child_process';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeU32 } from '../../host/sandbox/wasm-binary.ts';
import { hostImportWat, SKELETON_MANIFEST, stateStoreModule, stateStoreWat, withManifest } from './state-store-wat.ts';
import { wat } from './wat.ts';

/** A skeleton whose manifest asks for `count` capabilities, each a distinct object (JSON Schema `uniqueItems` compares them pairwise). */
export function capabilityBomb(count = 15_000): Uint8Array {
  return stateStoreModule({ manifest: { capabilities: Array.from({ length: count }, (_, i) => ({ capability: i })) } });
}

/** A skeleton whose manifest carries `count` fields the schema does not know. */
export function unknownFieldsBomb(count = 200_000): Uint8Array {
  const manifest: Record<string, unknown> = { ...SKELETON_MANIFEST };
  for (let i = 0; i < count; i++) manifest[`unknown-field-${i}`] = i;
  return withManifest(stateStoreModule({ manifest: null }), manifest);
}

/** A skeleton with `count` more functions, each exported (a long import/export walk for the checks). */
export function manyFunctions(count = 150_000): Uint8Array {
  const fields = Array.from({ length: count }, (_, i) => `(func (export "f${i}"))`);
  return withManifest(wat(stateStoreWat({ fields }), { bulk_memory: true }), SKELETON_MANIFEST);
}

/**
 * A skeleton padded with straight-line code to about `bytes` (default 30 MiB): functions of
 * ~3.5 MiB each of `i32.const 1; drop`, under V8's 7.6 MB limit on one function body. Every
 * byte of it is validated, capped, metered and compiled.
 */
export function bigCodeModule(bytes = 30 * 1024 * 1024): Uint8Array {
  const perFunction = 3.5 * 1024 * 1024;
  const count = Math.ceil(bytes / perFunction);
  const fields = Array.from({ length: count }, () => '(func (nop))');
  const skeleton = wat(stateStoreWat({ fields }), { bulk_memory: true });
  const ops = Math.floor(perFunction / 3);
  const body = new Uint8Array(1 + ops * 3 + 1); // no locals, the ops, `end`
  for (let i = 0; i < ops; i++) body.set([0x41, 0x01, 0x1a], 1 + i * 3);
  body[body.length - 1] = 0x0b;
  return withManifest(replaceLastBodies(skeleton, count, body), SKELETON_MANIFEST);
}

/** A skeleton (asking for `sleep`) whose `init` sleeps a second at a time, for ever. */
export function sleepyInitModule(): Uint8Array {
  return stateStoreModule({
    imports: [hostImportWat('sleep', 'sleep-ms')],
    bodies: { init: '(loop $forever (call 0 (i32.const 1000)) (br $forever)) (i32.const 16)' },
    manifest: { type: 'state.sleepy', capabilities: ['sleep'] },
  });
}

/** A Component YAML of about `bytes` (or a little more): a valid Component with that many bytes of `spec.metadata` items. */
export function oversizedYaml(name: string, bytes: number): string {
  const head = `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: state.memory\n  version: v1\n  metadata:\n`;
  const items: string[] = [];
  for (let size = head.length, i = 0; size < bytes; i++) {
    const item = `    - name: setting-${i}\n      value: "${i}"\n`;
    items.push(item);
    size += item.length;
  }
  return head + items.join('');
}

/** What `placeHostileFiles` writes in the file `leak.yaml` leads to: it must never be shown. */
export const OUTSIDE_SECRET = 'TOP-SECRET-OUTSIDE-THE-FOLDER';

/** The files `placeHostileFiles` makes, each with how it must be refused (after its path). */
export const HOSTILE_FILE_REFUSALS: Readonly<Record<string, RegExp>> = {
  'pipe.yaml': /^a named pipe \(FIFO\), not a regular file/,
  'zero.wasm': /^a symbolic link that leads outside the resources folder/,
  'leak.yaml': /^a symbolic link that leads outside the resources folder/,
  'big.yaml': /^the file is 1\.5 MiB, over the 1 MiB resource YAML limit$/,
  'huge.wasm': /^the file is 40\.0 MiB, over the 32 MiB module limit$/,
  'caps.wasm': /^the tessera:manifest section is \d+ bytes, over the 16 KiB a manifest may hold$/,
  'fields.wasm': /^the tessera:manifest section is \d+ bytes, over the 16 KiB a manifest may hold$/,
};

/**
 * Makes in `dir` a named pipe, a symlink to /dev/zero, a YAML symlinked to a file in
 * `outside` (holding OUTSIDE_SECRET), a YAML and a module over their size limits, and
 * manifests of 15,000 capabilities and of 200,000 unknown fields.
 */
export async function placeHostileFiles(dir: string, outside: string): Promise<void> {
  execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
  await symlink('/dev/zero', join(dir, 'zero.wasm'));
  await writeFile(join(outside, 'secret.yaml'), `${OUTSIDE_SECRET}: [\n`);
  await symlink(join(outside, 'secret.yaml'), join(dir, 'leak.yaml'));
  await writeFile(join(dir, 'big.yaml'), oversizedYaml('big', 1.5 * 1024 * 1024));
  await writeFile(join(dir, 'huge.wasm'), new Uint8Array(40 * 1024 * 1024));
  await writeFile(join(dir, 'caps.wasm'), capabilityBomb(15_000));
  await writeFile(join(dir, 'fields.wasm'), unknownFieldsBomb(200_000));
}

/** Replaces the bodies of the last `count` functions of a module's code section with `body`. */
function replaceLastBodies(module: Uint8Array, count: number, body: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  let pos = 8;
  while (pos < module.length) {
    const start = pos;
    const id = module[pos++]!;
    const [size, sizeLength] = readU32(module, pos);
    pos += sizeLength;
    const end = pos + size;
    if (id !== 10) {
      parts.push(module.subarray(start, end));
      pos = end;
      continue;
    }
    const [total, totalLength] = readU32(module, pos);
    let at = pos + totalLength;
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < total; i++) {
      const [length, lengthLength] = readU32(module, at);
      const whole = module.subarray(at, at + lengthLength + length);
      bodies.push(i < total - count ? whole : Uint8Array.from([...encodeU32(body.length)]));
      if (i >= total - count) bodies.push(body);
      at += lengthLength + length;
    }
    const payloadSize = encodeU32(total).length + bodies.reduce((n, b) => n + b.length, 0);
    parts.push(Uint8Array.from([10, ...encodeU32(payloadSize), ...encodeU32(total)]), ...bodies);
    pos = end;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function readU32(bytes: Uint8Array, at: number): [value: number, length: number] {
  let value = 0;
  for (let i = 0; ; i++) {
    const b = bytes[at + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [value, i + 1];
  }
}
