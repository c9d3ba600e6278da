// `tessera.dev/isolation: thread` against inline: state.memory get and set through the whole
// sandbox (StateStore binding, component, canonical ABI, the module), one call at a time and
// 32 in flight, with the main thread's CPU per call; what starting a worker costs; and
// the bare round trip of the transports a worker could use (why postMessage was chosen).
// Run alone with `node test/bench/thread-isolation.bench.ts [iterations] [runs]`.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { serialize, deserialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { GetRequest, SetRequest, StateStore } from '../../abi/ts/state.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import type { GuestComponent } from '../../host/sandbox/guest-component.ts';
import type { Isolation } from '../../host/sandbox/default-limits.ts';
import { startGuest } from '../../host/sandbox/start-guest.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';
import { median } from './bench-support.ts';

const MODULE = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);
const IN_FLIGHT = 32;

interface Figures {
  /** µs per call, one at a time. */
  serial: number;
  /** µs per call, IN_FLIGHT at a time. */
  pipelined: number;
  /** µs of the main thread's CPU per call, one at a time and IN_FLIGHT at a time. */
  serialCpu: number;
  pipelinedCpu: number;
}

/** µs of this thread's CPU since `since`. */
const cpuSince = (since: NodeJS.CpuUsage): number => {
  const used = process.threadCpuUsage(since);
  return used.user + used.system;
};

async function measure(op: (i: number) => Promise<unknown>, iterations: number): Promise<Figures> {
  for (let i = 0; i < Math.min(iterations, 2000); i++) await op(i);
  let cpu = process.threadCpuUsage();
  let start = performance.now();
  for (let i = 0; i < iterations; i++) await op(i);
  const serialMs = performance.now() - start;
  const serialCpu = cpuSince(cpu);
  cpu = process.threadCpuUsage();
  start = performance.now();
  for (let i = 0; i < iterations; i += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, (_, j) => op(i + j)));
  const pipelinedMs = performance.now() - start;
  const pipelinedCpu = cpuSince(cpu);
  return {
    serial: (serialMs * 1000) / iterations,
    pipelined: (pipelinedMs * 1000) / iterations,
    serialCpu: serialCpu / iterations,
    pipelinedCpu: pipelinedCpu / iterations,
  };
}

/**
 * A small request to an echo worker and its answer back, one at a time: by postMessage, or
 * through a SharedArrayBuffer with the main thread in Atomics.waitAsync (never Atomics.wait,
 * which would block its event loop) and the worker in Atomics.wait or Atomics.waitAsync.
 */
const ECHO_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { serialize, deserialize } = require('node:v8');
const answer = { tag: 'ok', val: { value: new Uint8Array(25), etag: '42', metadata: [] } };
if (workerData.mode === 'postMessage') parentPort.on('message', (m) => parentPort.postMessage([{ id: m[0].id, value: answer }]));
else {
  const state = new Int32Array(workerData.sab, 0, 3), bytes = new Uint8Array(workerData.sab, 12);
  const handle = () => { const m = deserialize(bytes.subarray(0, state[1])); const out = serialize({ id: m.id, value: answer }); bytes.set(out); state[2] = out.length; Atomics.store(state, 0, 2); Atomics.notify(state, 0); };
  if (workerData.mode === 'sab-wait') for (;;) { const v = Atomics.load(state, 0); if (v === 1) handle(); else Atomics.wait(state, 0, v); }
  parentPort.on('message', () => {});
  (async () => { for (;;) { const v = Atomics.load(state, 0); if (v === 1) handle(); else { const r = Atomics.waitAsync(state, 0, v); if (r.async) await r.value; } } })();
}`;

type Transport = 'postMessage' | 'sab-wait' | 'sab-waitAsync';

async function roundTrip(mode: Transport, iterations: number): Promise<number> {
  const sab = new SharedArrayBuffer(12 + 65536);
  const worker = new Worker(ECHO_WORKER, { eval: true, workerData: { mode, sab } });
  const request = { id: 0, fn: 'get', args: [{ key: 'bench||key-1', consistency: 'eventual', metadata: [] }] };
  let call: () => Promise<unknown>;
  if (mode === 'postMessage') {
    let answer: ((value: unknown) => void) | undefined;
    worker.on('message', (m: { value: unknown }[]) => answer!(m[0]!.value));
    call = () => new Promise((resolve) => ((answer = resolve), worker.postMessage([{ ...request, id: request.id++ }])));
  } else {
    const state = new Int32Array(sab, 0, 3);
    const bytes = new Uint8Array(sab, 12);
    call = async () => {
      const out = serialize({ ...request, id: request.id++ });
      bytes.set(out);
      state[1] = out.length;
      Atomics.store(state, 0, 1);
      Atomics.notify(state, 0);
      for (let v = Atomics.load(state, 0); v !== 2; v = Atomics.load(state, 0)) {
        const wait = Atomics.waitAsync(state, 0, v);
        if (wait.async) await wait.value;
      }
      const answer = deserialize(bytes.subarray(0, state[2])) as { value: unknown };
      Atomics.store(state, 0, 0);
      return answer.value;
    };
  }
  for (let i = 0; i < Math.min(iterations, 2000); i++) await call();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await call();
  const us = ((performance.now() - start) * 1000) / iterations;
  await worker.terminate();
  return us;
}

export async function threadIsolationBench(iterations: number, runs: number): Promise<string[]> {
  const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(MODULE)));
  const keys = Array.from({ length: 1000 }, (_, i) => `bench||key-${i}`);
  const value = new TextEncoder().encode('{"name":"tessera","n":42}');
  const setReq = (i: number): SetRequest => ({ key: keys[i % 1000]!, value, concurrency: 'last-write', consistency: 'eventual', metadata: [] });
  const getReq = (i: number): GetRequest => ({ key: keys[i % 1000]!, consistency: 'eventual', metadata: [] });

  const isolations: Isolation[] = ['inline', 'thread'];
  const guests = new Map<Isolation, { guest: GuestComponent; store: StateStore }>();
  for (const isolation of isolations) {
    // No CPU share: this measures what a call costs, not how a busy component is throttled.
    const guest = await startGuest(compiled, { name: `bench-${isolation}`, config: new Map(), logger: silentLogger, cpuShare: 0 }, isolation);
    guests.set(isolation, { guest, store: adaptStateStore(guest) });
  }
  const results = new Map<string, Figures[]>();
  for (let run = 0; run < runs; run++) {
    // Interleaved, so a noisy moment on the machine hits both modes alike.
    for (const isolation of isolations) {
      const { store } = guests.get(isolation)!;
      for (const [op, call] of [
        ['set', (i: number) => store.set(setReq(i))],
        ['get', (i: number) => store.get(getReq(i))],
      ] as const) {
        const key = `${op} ${isolation}`;
        results.set(key, [...(results.get(key) ?? []), await measure(call, iterations)]);
      }
    }
  }
  for (const { guest } of guests.values()) await guest.close();

  const starts: number[] = [];
  for (let i = 0; i < Math.max(3, Math.min(runs, 7)); i++) {
    const started = performance.now();
    const guest = await startGuest(compiled, { name: 'bench-start', config: new Map(), logger: silentLogger }, 'thread');
    starts.push(performance.now() - started);
    await guest.close();
  }

  const transports: Transport[] = ['postMessage', 'sab-waitAsync', 'sab-wait'];
  const trips = new Map<Transport, number[]>(transports.map((t) => [t, []]));
  for (let run = 0; run < runs; run++) for (const t of transports) trips.get(t)!.push(await roundTrip(t, iterations));

  const cell = (key: string, field: keyof Figures): string => median(results.get(key)!.map((f) => f[field])).toFixed(1).padStart(9);
  return [
    `Thread isolation: state.memory through the whole sandbox, inline vs on a worker thread, ${iterations} calls per measure, median of ${runs} runs (µs per call):`,
    '    op  | isolation | one at a time | 32 in flight | main-thread CPU: one at a time | 32 in flight',
    ...['get', 'set'].flatMap((op) =>
      isolations.map(
        (iso) =>
          `    ${op} | ${iso.padEnd(9)} | ${cell(`${op} ${iso}`, 'serial')}     | ${cell(`${op} ${iso}`, 'pipelined')}    |                 ${cell(`${op} ${iso}`, 'serialCpu')}     | ${cell(`${op} ${iso}`, 'pipelinedCpu')}`,
      ),
    ),
    `    starting a component on a worker thread (spawn, load the host code, init): median ${median(starts).toFixed(0)} ms`,
    `    bare round trip to an echo worker, µs: postMessage ${median(trips.get('postMessage')!).toFixed(1)}; SharedArrayBuffer with the main thread in Atomics.waitAsync and the worker in waitAsync ${median(trips.get('sab-waitAsync')!).toFixed(1)}, in Atomics.wait ${median(trips.get('sab-wait')!).toFixed(1)}`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [iterations = 20000, runs = 5] = process.argv.slice(2).map(Number);
  console.log((await threadIsolationBench(iterations, runs)).join('\n'));
}
