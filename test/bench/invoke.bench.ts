// Benchmark: service invocation. An app calls another through two real `tessera run` sidecars
// (caller sidecar -> internal gRPC -> callee sidecar -> callee app), beside the same call made
// directly to the callee app, in the same run: the latency the two sidecars add at 1000 req/s
// with 1 KB bodies (p50/p90/p99, open loop; Dapr publishes +1.40 ms p90 and +2.10 ms p99 for
// this case), and requests per second at saturation. Alternating rounds, medians. With the
// openssl command at hand, a second pair of sidecars talks over mTLS (certificates from one
// test CA), measured in the same rounds: what mTLS adds to the insecure internal call. Beside
// them, the floor: two bare relay processes (bare-invoke-relay.ts) making the same hops (HTTP in,
// a gRPC-framed HTTP/2 call between them, HTTP to the app) with nothing else, so the figures
// say what Tessera adds over the hops any pair of Node sidecars pays for on this machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { TestCa, certDir, mtlsArgs } from '../support/test-certs.ts';
import { hasTool } from '../support/tools.ts';
import { load, median } from './bench-support.ts';

const run = promisify(execFile);
const ECHO_APP = fileURLToPath(new URL('./invoke-echo-app.ts', import.meta.url));
const BARE_RELAY = fileURLToPath(new URL('./bare-invoke-relay.ts', import.meta.url));
const RATE_CLIENT = fileURLToPath(new URL('./rate-load-client.ts', import.meta.url));
const BODY_BYTES = 1024;

export interface InvokeBenchOptions {
  /** Seconds of each fixed-rate run. */
  seconds: number;
  /** Requests per second of the fixed-rate runs: Dapr's 1000, and lower ones, below where a loaded machine saturates. */
  rates: number[];
  /** Connections of the saturation runs. */
  connections: number;
  rounds: number;
}

interface Latency {
  p50: number;
  p90: number;
  p99: number;
  errors: number;
}

/** The app called directly, through two sidecars, through two sidecars over mTLS, and through two bare relays. */
const PATHS = ['direct', 'invoked', 'mtls', 'bare'] as const;
type Path = (typeof PATHS)[number];

async function rateLoad(url: string, rate: number, seconds: number): Promise<Latency> {
  const { stdout } = await run(process.execPath, [RATE_CLIENT, url, String(rate), String(seconds), String(BODY_BYTES)], { timeout: (seconds + 60) * 1000 });
  return JSON.parse(stdout) as Latency;
}

/** The port a bench process prints on its first line. */
async function portOf(child: ChildProcess): Promise<number> {
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  const port = Number(first.value);
  if (first.done === true || !Number.isInteger(port) || port <= 0) throw new Error(`a bench process did not say its port (it said ${JSON.stringify(first.value)})`);
  return port;
}

export async function invokeBench(options: InvokeBenchOptions): Promise<string[]> {
  const registry = mkdtempSync(join(tmpdir(), 'tessera-invoke-bench-'));
  const app = spawn(process.execPath, [ECHO_APP], { stdio: ['ignore', 'pipe', 'inherit'] });
  const relays: ChildProcess[] = [];
  const sidecars: SidecarProcess[] = [];
  try {
    const appPort = await portOf(app);
    const relay = async (role: 'callee' | 'caller', port: number): Promise<number> => {
      const child = spawn(process.execPath, [BARE_RELAY, role, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
      relays.push(child);
      return portOf(child);
    };
    const bareCaller = await relay('caller', await relay('callee', appPort));
    const env = { TESSERA_NAME_REGISTRY: registry };
    const callee = await startSidecar({ appId: 'callee', args: ['--app-port', String(appPort)], env, startTimeoutMs: 30_000 });
    sidecars.push(callee);
    const caller = await startSidecar({ appId: 'caller', env, startTimeoutMs: 30_000 });
    sidecars.push(caller);
    const urls: Partial<Record<Path, string>> = { direct: `http://127.0.0.1:${appPort}/echo`, invoked: `${caller.url}/v1.0/invoke/callee/method/echo` };
    if (hasTool('openssl')) {
      const ca = await TestCa.create(certDir(), 'bench');
      const [calleeCerts, callerCerts] = await Promise.all([ca.issue('callee-tls', 'callee-tls'), ca.issue('caller-tls', 'caller-tls')]);
      const calleeTls = await startSidecar({ appId: 'callee-tls', args: ['--app-port', String(appPort), ...mtlsArgs(calleeCerts)], env, startTimeoutMs: 30_000 });
      sidecars.push(calleeTls);
      const callerTls = await startSidecar({ appId: 'caller-tls', args: mtlsArgs(callerCerts), env, startTimeoutMs: 30_000 });
      sidecars.push(callerTls);
      urls.mtls = `${callerTls.url}/v1.0/invoke/callee-tls/method/echo`;
    }
    urls.bare = `http://127.0.0.1:${bareCaller}/v1.0/invoke/callee/method/echo`;
    const paths = PATHS.filter((path) => urls[path] !== undefined);
    for (const path of paths.slice(1)) {
      const url = urls[path]!;
      await pollUntil(`the callee to be reachable (${path})`, async () => ((await fetch(url, { method: 'POST', body: 'x' })).status === 200 ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
      // Warm the path (JIT, connections).
      await rateLoad(url, options.rates[0]!, 2);
    }
    await rateLoad(urls.direct!, options.rates[0]!, 1);

    const lines = [`(i) service invocation, app -> caller sidecar -> internal gRPC -> callee sidecar -> app vs the app called directly, ${options.rounds} alternating rounds, medians:`];
    for (const rate of options.rates) {
      const lat: Record<Path, Latency[]> = { direct: [], invoked: [], mtls: [], bare: [] };
      for (let round = 0; round < options.rounds; round++) {
        for (const path of paths) lat[path].push(await rateLoad(urls[path]!, rate, options.seconds));
      }
      const pick = (which: Path, p: 'p50' | 'p90' | 'p99'): number => median(lat[which].map((l) => l[p]));
      const added = (p: 'p50' | 'p90' | 'p99', over: Path = 'direct', to: Path = 'invoked'): string => {
        const more = pick(to, p) - pick(over, p);
        return `${p} ${pick(over, p).toFixed(2)} -> ${pick(to, p).toFixed(2)} ms (${more < 0 ? '' : '+'}${more.toFixed(2)})`;
      };
      const errors = paths.flatMap((path) => lat[path]).reduce((sum, l) => sum + l.errors, 0);
      lines.push(`    latency at ${rate} req/s, ${BODY_BYTES} B bodies, open loop, ${options.seconds}s each: ${added('p50')}, ${added('p90')}, ${added('p99')}; errors ${errors} (Dapr publishes +1.40 ms p90, +2.10 ms p99 at 1000 req/s)`);
      if (paths.includes('mtls')) lines.push(`      with mTLS between the sidecars, vs without: ${(['p50', 'p90', 'p99'] as const).map((p) => added(p, 'invoked', 'mtls')).join(', ')}`);
      lines.push(`      two bare relays (the floor) vs direct: ${(['p50', 'p90', 'p99'] as const).map((p) => added(p, 'direct', 'bare')).join(', ')}`);
    }
    const rps: Record<Path, number[]> = { direct: [], invoked: [], mtls: [], bare: [] };
    const body = 'x'.repeat(BODY_BYTES);
    for (let round = 0; round < options.rounds; round++) {
      for (const path of paths) rps[path].push((await load(urls[path]!, 'POST', body, options.seconds, options.connections)).rps);
    }
    const ratios = rps.invoked.map((r, i) => r / rps.direct[i]!);
    const bareRatios = rps.bare.map((r, i) => r / rps.direct[i]!);
    lines.push(
      `    saturation, ${options.connections} connections: direct ${median(rps.direct).toFixed(0)} req/s, through two sidecars ${median(rps.invoked).toFixed(0)} req/s: ${median(ratios).toFixed(2)}x (rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')})${paths.includes('mtls') ? `, with mTLS ${median(rps.mtls).toFixed(0)} req/s` : ''}; load average ${loadavg()[0]!.toFixed(1)}`,
      `      two bare relays (the floor): ${median(rps.bare).toFixed(0)} req/s: ${median(bareRatios).toFixed(2)}x (rounds: ${bareRatios.map((r) => r.toFixed(2)).join(' ')})`,
    );
    return lines;
  } finally {
    await Promise.all(sidecars.map((sidecar) => sidecar.stop()));
    for (const child of relays) child.kill();
    app.kill();
    rmSync(registry, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await invokeBench({ seconds: 5, rates: [200, 1000], connections: 10, rounds: 3 })).join('\n'));
