// Hot swap as a user sees it: with requests flowing to `statestore`, its module is rewritten
// ten times (rebuilt bytes, in place and renamed into place); no request fails and no key is
// lost. A module with an endless loop dropped beside it leaves `statestore` answering, and
// the admin API lists generations and rolls back, behind the API token.
import assert from 'node:assert/strict';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { appendCustomSection } from '../../host/sandbox/wasm-binary.ts';
import { pollUntil, startSidecar, STATE_MEMORY_WASM, type SidecarProcess } from '../support/sidecar-process.ts';
import { stateStoreModule } from '../support/state-store-wat.ts';

const TOKEN = 'swap-test-token';
let sidecar: SidecarProcess;
let base: Uint8Array;
const auth = { 'dapr-api-token': TOKEN };

before(async () => {
  base = new Uint8Array(await readFile(STATE_MEMORY_WASM));
  sidecar = await startSidecar({ resources: { 'statestore.wasm': base }, env: { DAPR_API_TOKEN: TOKEN } });
});
after(() => sidecar?.stop());

/** A rebuilt state.memory: the same code, new bytes. */
const rebuilt = (n: number): Uint8Array => appendCustomSection(base, 'tessera:build', new TextEncoder().encode(String(n)));

async function generation(): Promise<number> {
  const res = await sidecar.fetch('/v1.0-alpha1/components/statestore/generations', { headers: auth });
  assert.equal(res.status, 200);
  return ((await res.json()) as { current: { generation: number } }).current.generation;
}

test('ten swaps under load: no failed request, no lost key, ETags unchanged', async () => {
  const url = '/v1.0/state/statestore';
  const seeded = Array.from({ length: 200 }, (_, i) => ({ key: `seed-${i}`, value: { i } }));
  assert.equal((await sidecar.fetch(url, { method: 'POST', headers: auth, body: JSON.stringify(seeded) })).status, 204);
  const etags = await Promise.all(seeded.map(async ({ key }) => (await sidecar.fetch(`${url}/${key}`, { headers: auth })).headers.get('etag')));

  let stop = false;
  const failures: string[] = [];
  let requests = 0;
  const loop = async (worker: number): Promise<void> => {
    for (let n = 0; !stop; n++) {
      const key = `w${worker}-${n % 20}`;
      const saved = await sidecar.fetch(url, { method: 'POST', headers: auth, body: JSON.stringify([{ key, value: n }]) });
      if (saved.status !== 204) failures.push(`save ${key}: ${saved.status} ${await saved.text()}`);
      const read = await sidecar.fetch(`${url}/${key}`, { headers: auth });
      const body = await read.text();
      if (read.status !== 200 || body !== String(n)) failures.push(`get ${key}: ${read.status} ${body} (wanted ${n})`);
      requests += 2;
    }
  };
  const workers = [0, 1, 2, 3].map(loop);

  const first = await generation();
  const file = join(sidecar.resourcesDir, 'statestore.wasm');
  for (let n = 1; n <= 10; n++) {
    if (n % 2) await writeFile(file, rebuilt(n));
    else {
      await writeFile(`${file}.next`, rebuilt(n));
      await rename(`${file}.next`, file);
    }
    await pollUntil(`generation ${first + n}`, async () => ((await generation()) === first + n ? true : undefined), { timeoutMs: 5000 });
  }
  stop = true;
  await Promise.all(workers);

  assert.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
  assert.ok(requests > 40, `the load ran throughout (${requests} requests)`);
  const after = await Promise.all(seeded.map(async ({ key }) => (await sidecar.fetch(`${url}/${key}`, { headers: auth })).headers.get('etag')));
  assert.deepEqual(after, etags, 'every seeded key is still there with its ETag');
});

test('an endless loop dropped beside it fails to load, named in metadata, while statestore answers', async () => {
  await writeFile(join(sidecar.resourcesDir, 'spinner.wasm'), stateStoreModule({ bodies: { init: '(loop $l (br $l)) (i32.const 16)' } }));
  const failed = await pollUntil(
    'spinner reported as failed',
    async () => {
      const res = await sidecar.fetch('/v1.0/metadata', { headers: auth });
      const status = ((await res.json()) as { componentStatus: { name: string; status: string; error?: string }[] }).componentStatus;
      return status.find((c) => c.name === 'spinner' && c.status === 'failed');
    },
    { timeoutMs: 10_000 },
  );
  assert.match(failed.error!, /spinner\.wasm: component "spinner" failed to start: trapped in init: ran out of its CPU budget/);
  const saved = await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', headers: auth, body: '[{"key":"after","value":"ok"}]' });
  assert.equal(saved.status, 204);
  assert.equal(await (await sidecar.fetch('/v1.0/state/statestore/after', { headers: auth })).text(), '"ok"');
});

test('the admin API lists generations and rolls back, and refuses calls without the token', async () => {
  assert.equal((await sidecar.fetch('/v1.0-alpha1/components/statestore/generations')).status, 401);
  const before = await generation();
  const rolled = await sidecar.fetch('/v1.0-alpha1/components/statestore/rollback', { method: 'POST', headers: auth });
  assert.equal(rolled.status, 200, await rolled.clone().text());
  assert.equal(((await rolled.json()) as { generation: number }).generation, before - 1);
  assert.equal(await generation(), before - 1);
  assert.equal(await (await sidecar.fetch('/v1.0/state/statestore/after', { headers: auth })).text(), '"ok"', 'the data crossed the rollback');
  const missing = await sidecar.fetch('/v1.0-alpha1/components/nope/rollback', { method: 'POST', headers: auth });
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { errorCode: string }).errorCode, 'ERR_COMPONENT_NOT_FOUND');
});
