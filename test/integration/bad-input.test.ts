// Bad input against the real `tessera` process. Broken files in the resources folder, at
// start or dropped in while it runs, each get a clear error in /v1.0/metadata and the log
// naming the file and the reason, and cost nothing else: the process stays up and a
// `statestore` under steady traffic never fails. Then bad API calls, refused as daprd does.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  componentYaml,
  expectDaprError,
  pollUntil,
  startSidecar,
  STATE_MEMORY_WASM,
  type SidecarProcess,
} from '../support/sidecar-process.ts';
import { stateStoreModule } from '../support/state-store-wat.ts';
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
/** The ABI version as a regular expression's text, for messages that name it. */
const ABI = ABI_VERSION.replaceAll('.', '\\.');

let sidecar: SidecarProcess;
/** Started with `--max-body-size 1Ki` and DAPR_API_TOKEN set. */
let guarded: SidecarProcess;
const TOKEN = 'a-secret-token';
/** Saves and reads on `statestore` while the broken files come and go. */
let traffic: Traffic | undefined;

/** Random bytes that cannot pass for a module (no `\0asm` magic). */
function garbage(size: number): Uint8Array {
  const bytes = randomBytes(size);
  bytes[0] = 0xff;
  return bytes;
}

before(async () => {
  [sidecar, guarded] = await Promise.all([
    startSidecar({
      resources: {
        'statestore.wasm': { copyOf: STATE_MEMORY_WASM },
        'corrupt-at-start.wasm': garbage(512),
        'unknown-type-at-start.yaml': componentYaml('cache-at-start', 'state.nosuch'),
      },
    }),
    startSidecar({
      resources: { 'statestore.wasm': { copyOf: STATE_MEMORY_WASM } },
      args: ['--max-body-size', '1Ki'],
      env: { DAPR_API_TOKEN: TOKEN },
    }),
  ]);
});

after(async () => {
  await traffic?.stop();
  await Promise.all([sidecar?.stop(), guarded?.stop()]);
});

/** A steady loop of saves and reads on `statestore` (~100 a second), recording every failure. */
class Traffic {
  ops = 0;
  readonly failures: string[] = [];
  #running = true;
  readonly #done: Promise<void>;

  constructor(target: SidecarProcess) {
    this.#done = this.#loop(target);
  }

  async #loop(target: SidecarProcess): Promise<void> {
    for (let i = 0; this.#running; i++) {
      const key = `traffic-${i % 8}`;
      try {
        const saved = await target.fetch('/v1.0/state/statestore', { method: 'POST', body: JSON.stringify([{ key, value: i }]) });
        if (saved.status !== 204) this.failures.push(`save ${key}: ${saved.status} ${await saved.text()}`);
        else await saved.arrayBuffer();
        const read = await target.fetch(`/v1.0/state/statestore/${key}`);
        const text = await read.text();
        if (read.status !== 200 || text !== String(i)) this.failures.push(`get ${key}: ${read.status} ${text}, expected ${i}`);
      } catch (err) {
        this.failures.push(`request failed: ${(err as Error).message}`);
      }
      this.ops++;
      // Steady, not flat out: the sidecar also has files to load.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

interface Status {
  name: string;
  status: string;
  source: string;
  type?: string;
  error?: string;
}

async function metadata(): Promise<{ components: { name: string }[]; componentStatus: Status[] }> {
  const res = await sidecar.fetch('/v1.0/metadata');
  assert.equal(res.status, 200);
  return (await res.json()) as { components: { name: string }[]; componentStatus: Status[] };
}

/**
 * Waits until /v1.0/metadata reports the file as failed for the expected reasons, and the
 * log says the same at level error. An empty or truncated file is reported only once it has
 * not changed for 2 s (it may be a copy in progress), hence the long bound.
 */
async function expectReported(file: string, reasons: RegExp[]): Promise<void> {
  const path = sidecar.resource(file);
  // The reasons are looked for beside the path, not in it.
  const fits = (text: string): boolean => text.includes(path) && reasons.every((r) => r.test(text.replaceAll(path, '')));
  let last: Status | undefined;
  await pollUntil(
    () => `/v1.0/metadata to report ${file} as failed with ${reasons.join(', ')} (last seen: ${JSON.stringify(last)})`,
    async () => {
      last = (await metadata()).componentStatus.find((c) => c.source === path);
      return last?.status === 'failed' && fits(last.error ?? '') ? last : undefined;
    },
    { timeoutMs: 8000, intervalMs: 20 },
  );
  const logged = await sidecar.waitForLog((entry) => entry.level === 'error' && fits(entry.message), 3000);
  assert.equal(logged.scope?.startsWith('tessera'), true);
  const listed = (await metadata()).components.map((c) => c.name);
  assert.deepEqual(listed, ['statestore'], 'only the good component is listed as loaded');
}

/** Removes the file and waits until /v1.0/metadata no longer reports it. */
async function removeAndForget(file: string): Promise<void> {
  const path = sidecar.resource(file);
  await sidecar.removeResource(file);
  await pollUntil(`${file} to leave /v1.0/metadata`, async () =>
    (await metadata()).componentStatus.some((c) => c.source === path) ? undefined : true,
  );
}

async function expectStillServing(): Promise<void> {
  assert.equal(sidecar.alive, true, `the sidecar exited:\n${sidecar.logText()}`);
  const health = await sidecar.fetch('/v1.0/healthz');
  assert.equal(health.status, 204);
  assert.deepEqual(traffic?.failures ?? [], []);
}

const truncatedStateMemory = (): Uint8Array => {
  const bytes = readFileSync(STATE_MEMORY_WASM);
  return bytes.subarray(0, Math.floor(bytes.length * 0.6));
};

const badFiles: { what: string; file: string; content: () => string | Uint8Array; reasons: RegExp[] }[] = [
  { what: 'a malformed .wasm (random bytes)', file: 'random.wasm', content: () => garbage(4096), reasons: [/malformed WebAssembly binary/, /magic/] },
  { what: 'an empty .wasm', file: 'zero-bytes.wasm', content: () => new Uint8Array(0), reasons: [/malformed WebAssembly binary/, /empty/] },
  {
    what: 'a truncated module',
    file: 'cut-short.wasm',
    content: truncatedStateMemory,
    reasons: [/malformed WebAssembly binary/, /runs past the end of the file/],
  },
  {
    what: 'a module with an unknown import',
    file: 'unknown-import.wasm',
    content: () => stateStoreModule({ imports: ['(import "env" "abort" (func (param i32 i32 i32 i32)))'] }),
    reasons: [/import "env" "abort" is not offered by world "state-store"/],
  },
  {
    what: 'a module naming ABI version 9.9.9',
    file: 'future-abi.wasm',
    content: () => stateStoreModule({ manifest: { abi: '9.9.9' } }),
    reasons: [/ABI 9\.9\.9/, /supports 0\.1\.0/],
  },
  {
    what: 'a module missing an export',
    file: 'missing-export.wasm',
    content: () => stateStoreModule({ omit: ['ping'] }),
    reasons: [new RegExp(String.raw`missing export "tessera:components\/state@${ABI}#ping"`)],
  },
  {
    what: 'a module whose init traps',
    file: 'crashes-on-boot.wasm',
    content: () => stateStoreModule({ bodies: { init: 'unreachable' } }),
    reasons: [/failed to start/, /\binit\b/, /trapped/, /unreachable/],
  },
  {
    what: 'a module without a manifest section',
    file: 'no-manifest.wasm',
    content: () => stateStoreModule({ manifest: null }),
    reasons: [/no tessera:manifest custom section/],
  },
  {
    what: 'a YAML with an unknown spec.type',
    file: 'cassandra.yaml',
    content: () => componentYaml('cassandra', 'state.cassandra'),
    reasons: [/unknown component type "state\.cassandra"/, /known types: .*state\.memory/],
  },
  {
    what: 'a YAML missing metadata.name',
    file: 'nameless.yaml',
    content: () => componentYaml('x', 'state.memory').replace('  name: x\n', '  namespace: default\n'),
    reasons: [/invalid Component/, /metadata\b.*\bname\b/],
  },
  {
    what: 'a YAML that is not YAML',
    file: 'not-yaml.yaml',
    content: () => 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: [oops\n  spec: ]]\n',
    reasons: [/invalid YAML/],
  },
];

describe('broken files in the resources folder', () => {
  before(async () => {
    const saved = await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', body: JSON.stringify([{ key: 'kept', value: 'from before' }]) });
    assert.equal(saved.status, 204);
    traffic = new Traffic(sidecar);
  });

  it('starts anyway with broken files present, and reports them', async () => {
    await expectReported('corrupt-at-start.wasm', [/malformed WebAssembly binary/]);
    const unknown = (await metadata()).componentStatus.find((c) => c.name === 'cache-at-start');
    assert.equal(unknown?.status, 'failed');
    assert.match(unknown?.error ?? '', /unknown-type-at-start\.yaml: unknown component type "state\.nosuch"/);
    await removeAndForget('corrupt-at-start.wasm');
    await removeAndForget('unknown-type-at-start.yaml');
    await expectStillServing();
  });

  it('loads the unbroken skeleton every bad module below is made from (the control)', async () => {
    await sidecar.writeResource('skeleton.wasm', stateStoreModule());
    await pollUntil('store "skeleton" to answer', async () => ((await sidecar.fetch('/v1.0/state/skeleton/k')).status === 204 ? true : undefined), {
      timeoutMs: 3000,
    });
    const saved = await sidecar.fetch('/v1.0/state/skeleton', { method: 'POST', body: JSON.stringify([{ key: 'k', value: 1 }]) });
    assert.equal(saved.status, 204, await saved.text());
    const status = (await metadata()).componentStatus.find((c) => c.name === 'skeleton');
    assert.equal(status?.status, 'ready');
    assert.equal(status?.type, 'state.skeleton');
    await removeAndForget('skeleton.wasm');
  });

  // Side by side: each case watches only its own file.
  describe('each dropped in while the sidecar runs', { concurrency: true }, () => {
    for (const { what, file, content, reasons } of badFiles) {
      it(`reports ${what}, naming the file and the reason`, async () => {
        await sidecar.writeResource(file, content());
        await expectReported(file, reasons);
        await expectStillServing();
        await removeAndForget(file);
      });
    }
  });

  it('served the statestore throughout, without a failure, and kept its data', async () => {
    await traffic!.stop();
    assert.deepEqual(traffic!.failures, []);
    assert.ok(traffic!.ops > 20, `only ${traffic!.ops} operations ran`);
    const kept = await sidecar.fetch('/v1.0/state/statestore/kept');
    assert.equal(await kept.text(), '"from before"', 'the statestore was not reloaded');
    assert.equal(sidecar.alive, true);
  });
});

describe('bad API calls', () => {
  const post = (path: string, body: string, target = sidecar, headers: Record<string, string> = {}): Promise<Response> =>
    target.fetch(path, { method: 'POST', body, headers });

  it('refuses malformed JSON (400 ERR_MALFORMED_REQUEST)', async () => {
    await expectDaprError(post('/v1.0/state/statestore', '[{"key": "a", "value": '), 400, 'ERR_MALFORMED_REQUEST');
    await expectDaprError(post('/v1.0/state/statestore/bulk', '{"keys": [}'), 400, 'ERR_MALFORMED_REQUEST');
    await expectDaprError(post('/v1.0/state/statestore/transaction', 'not json at all'), 400, 'ERR_MALFORMED_REQUEST');
    await expectDaprError(post('/v1.0/state/statestore', '{"key": "not-in-an-array", "value": 1}'), 400, 'ERR_MALFORMED_REQUEST');
  });

  it('refuses a key containing "||" (400)', async () => {
    await expectDaprError(sidecar.fetch('/v1.0/state/statestore/a%7C%7Cb'), 400, 'ERR_MALFORMED_REQUEST', /\|\|/);
    await expectDaprError(post('/v1.0/state/statestore', JSON.stringify([{ key: 'a||b', value: 1 }])), 400, 'ERR_MALFORMED_REQUEST', /\|\|/);
  });

  it('refuses an unknown store (400 ERR_STATE_STORE_NOT_FOUND)', async () => {
    await expectDaprError(sidecar.fetch('/v1.0/state/nosuchstore/k'), 400, 'ERR_STATE_STORE_NOT_FOUND', /nosuchstore/);
    await expectDaprError(post('/v1.0/state/nosuchstore', JSON.stringify([{ key: 'k', value: 1 }])), 400, 'ERR_STATE_STORE_NOT_FOUND');
  });

  it('refuses a body over --max-body-size (413) and takes one under it', async () => {
    const auth = { 'dapr-api-token': TOKEN };
    const body = (size: number): string => JSON.stringify([{ key: 'sized', value: 'x'.repeat(size) }]);
    await expectDaprError(post('/v1.0/state/statestore', body(2048), guarded, auth), 413, 'ERR_BODY_TOO_LARGE');
    const small = await post('/v1.0/state/statestore', body(900), guarded, auth);
    assert.equal(small.status, 204, await small.text());
  });

  it('with DAPR_API_TOKEN set, refuses calls without the token (401) and serves those with it; healthz stays open', async () => {
    for (const path of ['/v1.0/state/statestore/k', '/v1.0/metadata']) {
      const res = await guarded.fetch(path);
      assert.equal(res.status, 401, path);
      assert.match(await res.text(), /invalid api token/);
      const wrong = await guarded.fetch(path, { headers: { 'dapr-api-token': 'not-the-token' } });
      assert.equal(wrong.status, 401, path);
      await wrong.arrayBuffer();
    }
    const refusedSave = await post('/v1.0/state/statestore', JSON.stringify([{ key: 'k', value: 1 }]), guarded);
    assert.equal(refusedSave.status, 401);
    await refusedSave.arrayBuffer();

    const headers = { 'dapr-api-token': TOKEN };
    const saved = await post('/v1.0/state/statestore', JSON.stringify([{ key: 'k', value: 'authorised' }]), guarded, headers);
    assert.equal(saved.status, 204, await saved.text());
    const read = await guarded.fetch('/v1.0/state/statestore/k', { headers });
    assert.equal(read.status, 200);
    assert.equal(await read.text(), '"authorised"');
    const meta = await guarded.fetch('/v1.0/metadata', { headers });
    assert.equal(meta.status, 200);
    await meta.arrayBuffer();

    const health = await guarded.fetch('/v1.0/healthz');
    assert.equal(health.status, 204);
    assert.equal(guarded.alive, true);
  });
});
