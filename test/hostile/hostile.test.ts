// The hostile corpus (test/hostile/corpus.ts) against ONE real sidecar process. Each module
// is dropped into the resources folder in turn (with a Component YAML setting tight limits
// where it has one) and must produce the error its entry names: a load failure in
// /v1.0/metadata `componentStatus` naming the file and the reason, or an HTTP answer to a
// state call naming the component, the function and the problem, after which the component
// answers again (its instance was rebuilt) unless it is in a crash loop. All along, a loop
// of saves and reads against `statestore` (bundled state.memory) must see no failure, and
// the process must stay alive.
import assert from 'node:assert/strict';
import { readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { componentYaml, pollUntil, startSidecar, type LogEntry, type SidecarProcess } from '../support/sidecar-process.ts';
import { BENIGN_KEY, HOSTILE_APP_ID, HOSTILE_CORPUS, TIGHT_LIMITS, TRIGGER_KEY, type HostileModule, type HostileRequest } from './corpus.ts';

let sidecar: SidecarProcess;
let traffic: Traffic | undefined;
/** The entry being tried, to tell which one the worst latency happened under. */
let current = '(none)';
/** What the user saw for the entry being tried, reported as a diagnostic. */
let seen = '';
const started = Date.now();

/** Saves and reads on `statestore`, one after the other, recording every failure and the worst latency. */
class Traffic {
  ops = 0;
  readonly failures: string[] = [];
  worst = { ms: 0, op: '', during: '' };
  /** The worst latency seen while each entry was being tried. */
  readonly worstDuring = new Map<string, number>();
  /** Every request's latency, for percentiles. */
  readonly latencies: number[] = [];
  /** The sidecar's largest resident set seen, in bytes, overall and while each entry was tried. */
  peakRss = 0;
  readonly rssDuring = new Map<string, number>();
  #running = true;
  readonly #done: Promise<void>;

  constructor(target: SidecarProcess) {
    this.#done = this.#loop(target);
  }

  async #timed(op: string, request: () => Promise<Response>): Promise<{ status: number; text: string }> {
    const during = current;
    const t0 = performance.now();
    const res = await request();
    const text = await res.text();
    const ms = performance.now() - t0;
    this.latencies.push(ms);
    if (ms > this.worst.ms) this.worst = { ms, op, during: during === current ? during : `${during} / ${current}` };
    for (const entry of new Set([during, current])) this.worstDuring.set(entry, Math.max(ms, this.worstDuring.get(entry) ?? 0));
    return { status: res.status, text };
  }

  async #loop(target: SidecarProcess): Promise<void> {
    for (let i = 0; this.#running; i++) {
      const key = `traffic-${i % 8}`;
      try {
        const body = JSON.stringify([{ key, value: i }]);
        const saved = await this.#timed('save', () => target.fetch('/v1.0/state/statestore', { method: 'POST', body }));
        if (saved.status !== 204) this.failures.push(`save ${key} during ${current}: ${saved.status} ${saved.text}`);
        const read = await this.#timed('get', () => target.fetch(`/v1.0/state/statestore/${key}`));
        if (read.status !== 200 || read.text !== String(i)) this.failures.push(`get ${key} during ${current}: ${read.status} ${read.text}, expected ${i}`);
      } catch (err) {
        this.failures.push(`request during ${current} failed: ${(err as Error).message}`);
      }
      this.ops++;
      if (i % 20 === 0) {
        const rss = await rssOf(target);
        this.peakRss = Math.max(this.peakRss, rss);
        this.rssDuring.set(current, Math.max(rss, this.rssDuring.get(current) ?? 0));
      }
      // Steady, not flat out: two cores are shared with the sidecar and the test.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

/** The sidecar process's resident set, from /proc (0 where there is none). */
async function rssOf(target: SidecarProcess): Promise<number> {
  try {
    const status = await readFile(`/proc/${target.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * The memory the sidecar may hold: the limits of what runs at once (statestore's default
 * 128 MiB, and the largest any one entry is given, 32 MiB) plus a fixed overhead for Node, the
 * host, its two load workers (~60 MB each while they live) and V8's heap, which keeps some
 * of what the corpus's large files made it allocate (runs measured 340-450 MiB in all).
 */
const MEMORY_BOUND_BYTES = (128 + 32 + 400) * 1024 * 1024;

interface Status {
  name: string;
  status: string;
  source: string;
  error?: string;
  recentTraps?: number;
}

async function componentStatus(): Promise<Status[]> {
  const res = await sidecar.fetch('/v1.0/metadata');
  assert.equal(res.status, 200);
  return ((await res.json()) as { componentStatus: Status[] }).componentStatus;
}

/** Writes a resources file beside its place and renames it in, so the watcher never reads half of it. */
async function place(name: string, content: string | Uint8Array, settled = false): Promise<void> {
  const temp = sidecar.resource(`.${name}.tmp`);
  await writeFile(temp, content);
  if (settled) {
    const past = new Date(Date.now() - 60_000);
    await utimes(temp, past, past);
  }
  await rename(temp, sidecar.resource(name));
}

function yamlFor(entry: HostileModule): string | undefined {
  if (entry.limits === false) return undefined;
  const annotations = { ...TIGHT_LIMITS, ...entry.limits };
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: "${v}"\n`).join('');
  return componentYaml(entry.name, 'state.skeleton').replace(`  name: ${entry.name}\n`, `  name: ${entry.name}\n  annotations:\n${lines}`);
}

function requestOf(name: string, request: HostileRequest, key: string): Promise<Response> {
  switch (request) {
    case 'get':
      return sidecar.fetch(`/v1.0/state/${name}/${key}`);
    case 'get-with-metadata':
      return sidecar.fetch(`/v1.0/state/${name}/${key}?metadata.hostile=yes`);
    case 'save':
      return sidecar.fetch(`/v1.0/state/${name}`, { method: 'POST', body: JSON.stringify([{ key, value: 'x' }]) });
  }
}

/** The benign twin of a request: another key, no metadata. */
const benign = (name: string, request: HostileRequest): Promise<Response> => requestOf(name, request === 'save' ? 'save' : 'get', BENIGN_KEY);

interface Answer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  ms: number;
  /** The index of the first log entry that can belong to the request. */
  logsFrom: number;
}

async function send(request: () => Promise<Response>): Promise<Answer> {
  const logsFrom = sidecar.logs.length;
  const t0 = performance.now();
  const res = await request();
  const bytes = new Uint8Array(await res.arrayBuffer());
  const ms = performance.now() - t0;
  return { status: res.status, headers: res.headers, bytes, ms, logsFrom };
}

function daprError(answer: Answer): { errorCode: string; message: string } {
  const text = new TextDecoder().decode(answer.bytes);
  try {
    return JSON.parse(text) as { errorCode: string; message: string };
  } catch {
    throw new Error(`not a Dapr error body (status ${answer.status}): ${text.slice(0, 300)}`);
  }
}

const ownLines = (name: string, logs: readonly LogEntry[]): LogEntry[] => logs.filter((e) => e.scope?.endsWith(`.${name}`) && e.level === 'info');

/** Waits until /v1.0/metadata lists the component as ready (loaded, init done). */
async function waitLoaded(entry: HostileModule): Promise<void> {
  let last: Status | undefined;
  await pollUntil(
    () => `component "${entry.name}" to load (last seen: ${JSON.stringify(last)})`,
    async () => {
      last = (await componentStatus()).find((s) => s.name === entry.name && !isInterim(s));
      if (last?.status === 'failed') throw new Error(`it failed to load: ${last.error}`);
      return last?.status === 'ready' ? true : undefined;
    },
    { timeoutMs: 8000, intervalMs: 25 },
  );
}

/** The YAML is placed first, so it may be reported for a moment without its module. */
const isInterim = (s: Status): boolean => s.status === 'failed' && /unknown component type "state\.skeleton"/.test(s.error ?? '');

/** Waits (bounded) until the sidecar's output holds a line `matcher` accepts, logged from `from` on; resolves to its index. */
async function logIndex(from: number, matcher: (e: LogEntry) => boolean, what: string): Promise<number> {
  return pollUntil(what, () => {
    const i = sidecar.logs.findIndex((e, n) => n >= from && matcher(e));
    return i < 0 ? undefined : i;
  }, { timeoutMs: 5000, intervalMs: 10 });
}

async function expectLoadFailure(entry: HostileModule, reasons: RegExp[], files: string[]): Promise<void> {
  const paths = files.map((f) => sidecar.resource(f));
  // Whatever the host decides about the files (failed, or loaded), once it has decided.
  const status = await pollUntil(
    `/v1.0/metadata to report on ${files.join(' + ')}`,
    async () => (await componentStatus()).find((s) => (paths.includes(s.source) || s.name === entry.name) && !isInterim(s)),
    { timeoutMs: 8000, intervalMs: 25 },
  );
  assert.equal(status.status, 'failed', `the hostile module was loaded: ${JSON.stringify(status)}`);
  const error = status.error ?? '';
  assert.ok(paths.some((p) => error.includes(p)), `the error names the file (${files.join(' or ')}): ${error}`);
  for (const reason of reasons) assert.match(error, reason);
  seen = `load failure: ${error}`;
  await sidecar.waitForLog((e) => e.level === 'error' && paths.some((p) => e.message.includes(p)) && reasons.every((r) => r.test(e.message)), 3000);
  const store = await send(() => requestOf(entry.name, 'get', BENIGN_KEY));
  // Not "not found": the call says the store failed to load, and why.
  assert.equal(store.status, 503, `a state call on the refused component: ${new TextDecoder().decode(store.bytes)}`);
  const { errorCode, message } = daprError(store);
  assert.equal(errorCode, 'ERR_STATE_STORE_NOT_CONFIGURED');
  assert.ok(message.startsWith(`state store ${entry.name} failed to load: `) && paths.some((p) => message.includes(p)), message);
}

async function expectTrap(entry: HostileModule, expect: Extract<HostileModule['expect'], { at: 'call' }>): Promise<Answer> {
  await waitLoaded(entry);
  const first = await send(() => requestOf(entry.name, expect.request, TRIGGER_KEY));
  const check = (answer: Answer): void => {
    assert.equal(answer.status, 500, new TextDecoder().decode(answer.bytes));
    const { errorCode, message } = daprError(answer);
    assert.equal(errorCode, 'ERR_COMPONENT_TRAP', message);
    assert.match(message, new RegExp(`^component "${entry.name}" \\(state\\.skeleton\\) trapped in ${expect.fn}: `));
    for (const reason of expect.reasons) assert.match(message, reason);
  };
  check(first);
  seen = `HTTP ${first.status} ${new TextDecoder().decode(first.bytes)}`;

  if (expect.crashLoopAfter !== undefined) {
    for (let n = 2; n <= expect.crashLoopAfter; n++) check(await send(() => requestOf(entry.name, expect.request, TRIGGER_KEY)));
    const fast = await send(() => benign(entry.name, expect.request));
    assert.equal(fast.status, 503, new TextDecoder().decode(fast.bytes));
    const { errorCode, message } = daprError(fast);
    assert.equal(errorCode, 'ERR_COMPONENT_UNHEALTHY');
    assert.match(message, new RegExp(`component "${entry.name}" is in a crash loop \\(${expect.crashLoopAfter} traps within 60000 ms\\)`));
    assert.match(message, /last trap: .*unreachable/);
    assert.ok(fast.ms < 1000, `a crash loop fails fast (took ${fast.ms.toFixed(0)} ms)`);
    const status = (await componentStatus()).find((s) => s.name === entry.name);
    assert.equal(status?.status, 'unhealthy');
    return first;
  }

  // Rebuilt: the same function answers the next call (after any backoff).
  const again = await send(() => benign(entry.name, expect.request));
  assert.equal(again.status, 204, `after the trap: ${new TextDecoder().decode(again.bytes)}`);
  const status = (await componentStatus()).find((s) => s.name === entry.name);
  assert.equal(status?.status, 'ready');
  assert.ok((status?.recentTraps ?? 0) >= 1, 'the trap is counted');
  assert.match(status?.error ?? '', new RegExp(`trapped in ${expect.fn}`), 'metadata shows the last trap');
  return first;
}

async function expectAnswer(entry: HostileModule, expect: Extract<HostileModule['expect'], { at: 'answer' }>): Promise<Answer> {
  await waitLoaded(entry);
  const answer = await send(() => requestOf(entry.name, expect.request, TRIGGER_KEY));
  assert.equal(answer.status, expect.status, new TextDecoder().decode(answer.bytes.subarray(0, 500)));
  seen = `HTTP ${answer.status} (${answer.bytes.length} bytes) ${new TextDecoder().decode(answer.bytes.subarray(0, 300))}`;
  expect.body?.(answer.bytes);
  expect.headers?.(answer.headers);
  if (expect.logs !== undefined) {
    // Log lines travel through a pipe and may trail the HTTP answer.
    const last = await logIndex(answer.logsFrom, (e) => ownLines(entry.name, [e]).length > 0, `a log line from "${entry.name}"`);
    expect.logs(sidecar.logs.slice(answer.logsFrom, last + 1).map((e) => e.message));
  }
  return answer;
}

/** Removes the entry's files (the module first, so it never runs as a bare `.wasm` with default limits) and waits until they are forgotten. */
async function removeEntry(files: string[]): Promise<void> {
  for (const file of [...files].reverse()) {
    const path = sidecar.resource(file);
    await rm(path, { force: true });
    await pollUntil(`${file} to leave /v1.0/metadata`, async () => ((await componentStatus()).some((s) => s.source === path) ? undefined : true), {
      timeoutMs: 5000,
      intervalMs: 25,
    });
  }
}

before(async () => {
  sidecar = await startSidecar({ appId: HOSTILE_APP_ID, resources: { 'statestore.yaml': componentYaml('statestore') } });
  const saved = await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', body: JSON.stringify([{ key: 'kept', value: 'from before' }]) });
  assert.equal(saved.status, 204);
  traffic = new Traffic(sidecar);
});

after(async () => {
  await traffic?.stop();
  await sidecar?.stop();
});

describe('the hostile corpus, one module at a time, while statestore serves', () => {
  for (const entry of HOSTILE_CORPUS) {
    it(`${entry.name}: ${entry.does}`, { todo: entry.todo }, async (t) => {
      current = entry.name;
      seen = '';
      const yaml = yamlFor(entry);
      const files = [...(yaml === undefined ? [] : [`${entry.name}.yaml`]), `${entry.name}.wasm`];
      try {
        // The YAML first, so the module is never seen alone (with the default limits).
        if (yaml !== undefined) await place(`${entry.name}.yaml`, yaml);
        await place(`${entry.name}.wasm`, entry.build(), entry.settled);

        const { expect } = entry;
        let answer: Answer | undefined;
        if (expect.at === 'load') await expectLoadFailure(entry, expect.reasons, files);
        else if (expect.at === 'call') answer = await expectTrap(entry, expect);
        else answer = await expectAnswer(entry, expect);

        const harm = entry.harm;
        if (harm !== undefined && answer !== undefined) {
          const failedAt = sidecar.logs.length;
          await t.test(`the call's harm stays bounded`, { todo: harm.todo }, async () => {
            if (harm.wallMs !== undefined) assert.ok(answer.ms <= harm.wallMs, `the call took ${answer.ms.toFixed(0)} ms; its budget should bound it to ${harm.wallMs} ms`);
            if (harm.logLines !== undefined) {
              // The trap is logged after everything the call logged; wait for it to come through the pipe.
              const trapLine = await logIndex(answer.logsFrom, (e) => e.level === 'error' && e.message.startsWith(`component "${entry.name}" (state.skeleton) trapped in`), `the trap of "${entry.name}" in the log`);
              const lines = ownLines(entry.name, sidecar.logs.slice(answer.logsFrom, trapLine)).length;
              assert.ok(lines <= harm.logLines, `one call wrote ${lines} log lines (at most ${harm.logLines} allowed)`);
            }
            if (harm.quietAfterMs !== undefined) {
              // Absence takes a window to show: look at what the component logs in the next 200 ms.
              await new Promise((resolve) => setTimeout(resolve, harm.quietAfterMs));
              const from = sidecar.logs.length;
              await new Promise((resolve) => setTimeout(resolve, 200));
              const late = ownLines(entry.name, sidecar.logs.slice(from)).length;
              assert.equal(late, 0, `${late} log lines from "${entry.name}" ${harm.quietAfterMs}-${harm.quietAfterMs + 200} ms after its call failed (${sidecar.logs.length - failedAt} since)`);
            }
          });
        }
        assert.equal(sidecar.alive, true, `the sidecar exited:\n${sidecar.logText().slice(-3000)}`);
      } finally {
        if (seen !== '') t.diagnostic(seen);
        await removeEntry(files);
        current = '(between entries)';
      }
    });
  }
});

describe('after the whole corpus', () => {
  it('statestore served every save and read without a failure, and the sidecar is alive', async (t) => {
    await traffic!.stop();
    const { ops, failures, worst, latencies, peakRss } = traffic!;
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    const summary = `${ops} save+get rounds in ${((Date.now() - started) / 1000).toFixed(1)} s; p50 ${(sorted[sorted.length >> 1] ?? 0).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, worst ${worst.ms.toFixed(0)} ms (${worst.op} during ${worst.during}); peak RSS ${(peakRss / 1048576).toFixed(0)} MiB`;
    const slowest = [...traffic!.worstDuring].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([entry, ms]) => `${entry} ${ms.toFixed(0)} ms`);
    t.diagnostic(`hostile corpus: ${HOSTILE_CORPUS.length} modules; ${summary}`);
    t.diagnostic(`worst statestore latency while trying: ${slowest.join(', ')}`);
    const heaviest = [...traffic!.rssDuring].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([entry, bytes]) => `${entry} ${(bytes / 1048576).toFixed(0)} MiB`);
    t.diagnostic(`largest sidecar RSS while trying: ${heaviest.join(', ')}`);
    assert.deepEqual(failures, []);
    assert.ok(ops > 50, `only ${ops} rounds ran`);
    // No call holds the event loop for long (a CPU slice, a deadline, a CPU share): the good
    // store keeps its latency, and the sidecar's memory stays within the limits it set.
    assert.ok(p99 < 50, `statestore's p99 latency was ${p99.toFixed(1)} ms while the corpus ran`);
    assert.ok(worst.ms < 1000, `statestore waited ${worst.ms.toFixed(0)} ms for an answer`);
    assert.ok(peakRss < MEMORY_BOUND_BYTES, `the sidecar held ${(peakRss / 1048576).toFixed(0)} MiB`);
    const kept = await sidecar.fetch('/v1.0/state/statestore/kept');
    assert.equal(await kept.text(), '"from before"', 'statestore kept its data: it was never reloaded');
    assert.equal(sidecar.alive, true);
    const health = await sidecar.fetch('/v1.0/healthz');
    assert.equal(health.status, 204);
  });
});
