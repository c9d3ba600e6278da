// A lean start: the quickstart sidecar (`npm start`, on a free port) from launch to its first
// 2xx on GET /v1.0/healthz, and its RSS once idle (its load workers stopped, RSS steady),
// with metrics on (the default) and off, beside a bare fastify process serving one route,
// launched alternately in the same run. The
// first sidecar launch fills the caches (Node's compile cache, the prepared components) and
// is left out, as a user's first start is once. Run alone with `node test/bench/start.bench.ts [runs]`.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/test-app.ts';
import { median } from './bench-support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-fastify.mjs', import.meta.url));
/** How often the health route is asked while starting. */
const POLL_MS = 5;
/**
 * RSS is idle once no worker thread runs and its samples over this window stay within
 * SETTLED_KB of each other: longer than V8 waits before its memory reducer gives back what an
 * idle heap no longer needs (about 8 s after the last busy moment), and than a quiet sidecar
 * waits before it trims its heap (host/idle-heap.ts: 10 s, checked every 5 s), so the figure
 * is after both.
 */
const SETTLE_WINDOW_MS = 16_000;
const SAMPLE_MS = 50;
const SETTLED_KB = 512;
const START_TIMEOUT_MS = 20_000;
/** Beyond the load workers' idle stop (5 s), V8's memory reducer and the window. */
const SETTLE_TIMEOUT_MS = 60_000;

interface Start {
  /** Launch to the first 2xx on the health route, in ms. */
  healthyMs: number;
  /** VmRSS when first healthy (load workers still up), in MB. */
  healthyRssMb: number;
  /** VmRSS once idle, in MB. */
  rssMb: number;
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function untilHealthy(child: ChildProcess, url: string, launched: number): Promise<number> {
  while (performance.now() - launched < START_TIMEOUT_MS) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (code ${child.exitCode}) before it was healthy`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status >= 200 && res.status < 300) return performance.now() - launched;
    } catch {
      // Not listening yet.
    }
    await pause(POLL_MS);
  }
  throw new Error(`${url}: not healthy within ${START_TIMEOUT_MS} ms`);
}

/** Worker threads of the process (`node:worker_threads` names each thread WorkerThread). */
async function workerThreads(pid: number): Promise<number> {
  const tasks = await readdir(`/proc/${pid}/task`);
  const names = await Promise.all(tasks.map((task) => readFile(`/proc/${pid}/task/${task}/comm`, 'utf8').catch(() => '')));
  return names.filter((name) => name.trim() === 'WorkerThread').length;
}

/** RSS once idle: no worker thread left, and the samples of the last window agree within SETTLED_KB. */
async function settledRss(pid: number): Promise<number> {
  const window: number[] = [];
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    if (performance.now() > deadline) throw new Error(`process ${pid}: RSS not settled within ${SETTLE_TIMEOUT_MS} ms`);
    if ((await workerThreads(pid)) > 0) window.length = 0;
    else window.push(await rssKb(pid));
    if (window.length > SETTLE_WINDOW_MS / SAMPLE_MS) window.shift();
    if (window.length === SETTLE_WINDOW_MS / SAMPLE_MS && Math.max(...window) - Math.min(...window) <= SETTLED_KB) return window.at(-1)! / 1024;
    await pause(SAMPLE_MS);
  }
}

async function measureStart(args: (port: number) => string[]): Promise<Start> {
  const port = await freePort();
  const launched = performance.now();
  const child = spawn(process.execPath, args(port), { cwd: ROOT, stdio: 'ignore' });
  try {
    const healthyMs = await untilHealthy(child, `http://127.0.0.1:${port}/v1.0/healthz`, launched);
    const healthyRssMb = (await rssKb(child.pid!)) / 1024;
    return { healthyMs, healthyRssMb, rssMb: await settledRss(child.pid!) };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
}

/** The quickstart as `npm start` runs it, on the given port. */
const sidecarArgs = (port: number): string[] => [
  '--import',
  './host/cli/require-node-24.mjs',
  'host/cli/tessera.ts',
  'run',
  '--app-id',
  'tessera',
  '--resources-path',
  'examples/quickstart/resources',
  '--dapr-http-port',
  String(port),
  '--dapr-grpc-port',
  '0',
  // Metrics are on by default; on a free port, as sidecars may run beside this one.
  '--metrics-port',
  '0',
];
/** The same with metrics off, to show what they cost a start. */
const noMetricsArgs = (port: number): string[] => [...sidecarArgs(port), '--enable-metrics=false'];
const bareArgs = (port: number): string[] => [BARE, String(port)];

export async function startBench(runs: number): Promise<string[]> {
  const sidecar: Start[] = [];
  const noMetrics: Start[] = [];
  const bare: Start[] = [];
  await measureStart(sidecarArgs);
  for (let i = 0; i < runs; i++) {
    sidecar.push(await measureStart(sidecarArgs));
    noMetrics.push(await measureStart(noMetricsArgs));
    bare.push(await measureStart(bareArgs));
  }
  const ms = (xs: Start[]): string => median(xs.map((x) => x.healthyMs)).toFixed(0);
  const mb = (xs: Start[], field: 'rssMb' | 'healthyRssMb' = 'rssMb'): string => median(xs.map((x) => x[field])).toFixed(0);
  return [
    `Start: the quickstart sidecar (npm start, caches warm) beside a bare fastify process, ${runs} alternating launches each, medians:`,
    `    launch -> healthy: sidecar ${ms(sidecar)} ms (target < 300), with --enable-metrics=false ${ms(noMetrics)} ms, bare fastify ${ms(bare)} ms`,
    `    idle RSS: sidecar ${mb(sidecar)} MB (--enable-metrics=false ${mb(noMetrics)} MB), bare fastify ${mb(bare)} MB (target: within 20 MB); sidecar when first healthy, load worker up: ${mb(sidecar, 'healthyRssMb')} MB`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await startBench(Number(process.argv[2] ?? 5))).join('\n'));
