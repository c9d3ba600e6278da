// What observability costs: state GET throughput through `tessera run` processes (several per variant),
// loaded alternately in the same run — everything off (--enable-metrics=false, no tracing),
// metrics on with tracing at sampling rate 0, and metrics on with every request traced
// (rate 1) and exported over OTLP to a receiver on loopback. Target: metrics + rate 0 within
// 5% of off. Run alone with `node test/bench/observability.bench.ts [seconds] [rounds] [processes]`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OtlpReceiver } from '../support/otlp-receiver.ts';
import { freePort } from '../support/test-app.ts';
import { STATESTORE_YAML, load, median, type Load } from './bench-support.ts';

const CLI = fileURLToPath(new URL('../../host/cli/tessera.ts', import.meta.url));
const CONNECTIONS = 10;

const configuration = (rate: string, endpoint: string): string =>
  `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: tracing\nspec:\n  tracing:\n    samplingRate: "${rate}"\n    otel:\n      endpointAddress: "${endpoint}"\n      protocol: http\n`;

interface Variant {
  name: string;
  url: string;
  child: ChildProcess;
  dir: string;
}

async function launch(name: string, args: string[], files: Record<string, string>): Promise<Variant> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-obs-'));
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'run', '--app-id', 'bench', '--dapr-http-port', String(port), '--resources-path', dir, '--log-level', 'warn', ...args], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name}: tessera run exited with ${child.exitCode}`);
    const status = await fetch(`${url}/v1.0/healthz`).then((r) => r.status, () => 0);
    if (status === 204) break;
    if (Date.now() > deadline) throw new Error(`${name}: not healthy within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { name, url, child, dir };
}

async function stop(v: Variant): Promise<void> {
  const exited = new Promise((resolve) => v.child.once('exit', resolve));
  if (v.child.exitCode === null) v.child.kill('SIGKILL');
  await exited;
  await rm(v.dir, { recursive: true, force: true });
}

/** CPU time the process has used (user + system), in ms: on a shared machine, CPU per request moves far less than throughput. */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Run extends Load {
  /** The sidecar's CPU time per request, in µs. */
  cpuUs: number;
}

/** One round of one variant: its processes' loads summed. */
interface Round {
  rps: number;
  p99: number;
  errors: number;
  cpuUs: number;
}

async function loadOnce(v: Variant, seconds: number): Promise<Run> {
  const before = await cpuMs(v.child.pid!);
  const result = await load(`${v.url}/v1.0/state/statestore/k1`, 'GET', '', seconds, CONNECTIONS);
  return { ...result, cpuUs: ((await cpuMs(v.child.pid!)) - before) * 1000 / Math.max(1, result.total) };
}

function sum(runs: Run[]): Round {
  const total = runs.reduce((n, r) => n + r.total, 0);
  return {
    rps: runs.reduce((n, r) => n + r.rps, 0),
    p99: Math.max(...runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    cpuUs: runs.reduce((n, r) => n + r.cpuUs * r.total, 0) / Math.max(1, total),
  };
}

/**
 * Loads the processes of `a` and `b` pairwise alternately (`rounds` times, the order swapped
 * every round and every pair); per round, each variant's loads summed over its processes.
 * Several processes per variant: on this shared VM one process runs a few percent faster
 * or slower than its twin for its whole life (heap layout, JIT, which core), which a
 * single pair would report as the cost of the variant.
 */
async function alternate(a: Variant[], b: Variant[], seconds: number, rounds: number): Promise<[Round[], Round[]]> {
  const rows: [Round[], Round[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    const runs: [Run[], Run[]] = [[], []];
    for (let pair = 0; pair < a.length; pair++) {
      const order = (round + pair) % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const);
      for (const i of order) runs[i].push(await loadOnce([a, b][i]![pair]!, seconds));
    }
    rows[0].push(sum(runs[0]));
    rows[1].push(sum(runs[1]));
  }
  return rows;
}

async function warm(v: Variant): Promise<void> {
  await load(`${v.url}/v1.0/state/statestore`, 'POST', JSON.stringify([{ key: 'k1', value: { name: 'tessera', n: 42 } }]), 1, CONNECTIONS);
  await load(`${v.url}/v1.0/state/statestore/k1`, 'GET', '', 2, CONNECTIONS);
}

function row(name: string, runs: Round[], off: Round[]): string {
  const ratios = runs.map((r, i) => r.rps / off[i]!.rps);
  const cpu = runs.map((r, i) => r.cpuUs / off[i]!.cpuUs);
  return `    ${name.padEnd(16)} | ${median(runs.map((r) => r.rps)).toFixed(0).padStart(7)} | ${median(runs.map((r) => r.p99)).toFixed(0).padStart(6)} | ${String(runs.reduce((n, r) => n + r.errors, 0)).padStart(6)} | ${median(ratios).toFixed(3)} (${ratios.map((r) => r.toFixed(2)).join(' ')}) | ${median(runs.map((r) => r.cpuUs)).toFixed(0).padStart(5)} | ${median(cpu).toFixed(3)} (${cpu.map((r) => r.toFixed(2)).join(' ')})`;
}

/** `count` processes of one variant, healthy and warmed. */
async function launchMany(variants: Variant[], count: number, name: string, args: string[], files: Record<string, string>): Promise<Variant[]> {
  const launched: Variant[] = [];
  for (let i = 0; i < count; i++) {
    const v = await launch(name, args, files);
    variants.push(v);
    launched.push(v);
    await warm(v);
  }
  return launched;
}

/**
 * Two phases, each against the same everything-off sidecars: metrics + rate 0, then rate 1
 * (launched only then, so their span exports never run beside another variant's rounds).
 */
export async function observabilityBench(seconds: number, rounds: number, processes = 3): Promise<string[]> {
  const receiver = await new OtlpReceiver().listen();
  const variants: Variant[] = [];
  try {
    const off = await launchMany(variants, processes, 'off', ['--enable-metrics=false'], { 'statestore.yaml': STATESTORE_YAML });
    const rate0 = await launchMany(variants, processes, 'metrics, rate 0', ['--metrics-port', '0'], { 'statestore.yaml': STATESTORE_YAML, 'tracing.yaml': configuration('0', receiver.address) });
    const [offA, metricsRuns] = await alternate(off, rate0, seconds, rounds);
    await Promise.all(variants.splice(processes).map(stop));
    const rate1 = await launchMany(variants, processes, 'metrics, rate 1', ['--metrics-port', '0'], { 'statestore.yaml': STATESTORE_YAML, 'tracing.yaml': configuration('1', receiver.address) });
    const [offB, tracedRuns] = await alternate(off, rate1, seconds, rounds);
    const lines = [`Observability cost: state GET through tessera run, ${processes} processes per variant, ${CONNECTIONS} connections, ${rounds} rounds of ${seconds}s per process, loaded pairwise alternately; per round a variant's req/s summed over its processes; medians over rounds:`];
    lines.push('    variant          |   req/s | p99 ms | errors | throughput ratio to off, same round: median (rounds) | CPU µs/req | CPU ratio to off: median (rounds)');
    lines.push(row('off (phase 1)', offA, offA), row('metrics, rate 0', metricsRuns, offA), row('off (phase 2)', offB, offB), row('metrics, rate 1', tracedRuns, offB));
    lines.push(`    spans received from the rate-1 sidecars: ${receiver.spans.length}; target: metrics + rate 0 throughput ratio >= 0.95 (CPU ratio <= 1.05)`);
    return lines;
  } finally {
    await Promise.all(variants.map(stop));
    await receiver.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await observabilityBench(Number(process.argv[2] ?? 1), Number(process.argv[3] ?? 12), Number(process.argv[4] ?? 3))).join('\n'));
