// Benchmarks of issue 12, each beside its limit in the same run:
// - an output binding (bindings.http, C++) to a local HTTP server (its own process) through
//   the sidecar (POST /v1.0/bindings/web {"operation":"get"}), against the same GETs sent
//   straight to the server with fetch; both paths driven by the same fetch client in a child
//   process, alternating rounds (target: at least 0.6 of direct); beside them a bare node:http
//   proxy in the sidecar's place (bare-proxy.ts), the floor of any Node sidecar on this path;
// - cron tick lateness (bindings.cron, AssemblyScript, `@every 100ms`, delivered to an app):
//   when the app receives a tick minus the tick's own time (its `readTimeUTC`), p50 and p99
//   over 200 ticks (target: p99 under 10 ms).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { silentLogger } from '../../host/observability/logger.ts';
import { Sidecar } from '../../host/sidecar.ts';
import { startBareProxy } from './bare-proxy.ts';
import { median, percentile, type Load } from './bench-support.ts';

const run = promisify(execFile);
const FETCH_LOAD = fileURLToPath(new URL('./fetch-load.ts', import.meta.url));
const UPSTREAM = fileURLToPath(new URL('./http-upstream.ts', import.meta.url));

function fetchLoad(url: string, method: string, body: string, seconds: number, concurrency: number): Promise<Load> {
  return run(process.execPath, [FETCH_LOAD, url, method, body, String(seconds), String(concurrency)], { timeout: (seconds + 30) * 1000 }).then(({ stdout }) => JSON.parse(stdout) as Load);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function sidecarWith(yaml: string, appPort?: number): Promise<{ sidecar: Sidecar; url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-bindings-'));
  await writeFile(join(dir, 'binding.yaml'), yaml);
  const sidecar = await Sidecar.start({ appId: 'bench', httpPort: 0, listenAddress: '127.0.0.1', resourcesPaths: [dir], maxBodyBytes: 4 << 20, logger: silentLogger, ...(appPort === undefined ? {} : { appPort }) });
  await sidecar.loaded;
  return {
    sidecar,
    url: `http://127.0.0.1:${sidecar.port}`,
    stop: async () => {
      await sidecar.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function outputBench(seconds: number, rounds: number, concurrency: number): Promise<string[]> {
  // The service runs in a process of its own, as an outside service would: the sidecar's
  // process must not also pay for serving it.
  const upstream = spawn(process.execPath, [UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(upstream.stdout!, 'data')) as [Buffer];
  const origin = `http://127.0.0.1:${Number(line.toString().trim())}`;
  const side = await sidecarWith(
    `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\n  annotations:\n    tessera.dev/allow-http: "${origin}"\nspec:\n  type: bindings.http\n  version: v1\n  metadata:\n    - name: url\n      value: "${origin}/items"\n`,
  );
  const bare = await startBareProxy(`${origin}/items`);
  try {
    const through = `${side.url}/v1.0/bindings/web`;
    const check = await fetch(through, { method: 'POST', body: '{"operation":"get"}' });
    if (check.status !== 200) throw new Error(`the binding answered ${check.status}: ${await check.text()}`);
    // Warm-up of both paths (JIT, the component's tier-up, connections).
    await fetchLoad(through, 'POST', '{"operation":"get"}', 1, concurrency);
    await fetchLoad(`${origin}/items`, 'GET', '', 1, concurrency);
    await fetchLoad(bare.url, 'POST', '{"operation":"get"}', 1, concurrency);
    const viaSidecar: Load[] = [];
    const direct: Load[] = [];
    const viaBare: Load[] = [];
    for (let r = 0; r < rounds; r++) {
      direct.push(await fetchLoad(`${origin}/items`, 'GET', '', seconds, concurrency));
      viaSidecar.push(await fetchLoad(through, 'POST', '{"operation":"get"}', seconds, concurrency));
      viaBare.push(await fetchLoad(bare.url, 'POST', '{"operation":"get"}', seconds, concurrency));
    }
    const row = (name: string, loads: Load[]): string =>
      `  ${name.padEnd(44)} ${median(loads.map((l) => l.rps)).toFixed(0).padStart(7)} req/s   p50 ${median(loads.map((l) => l.p50)).toFixed(2)} ms   p99 ${median(loads.map((l) => l.p99)).toFixed(2)} ms   errors ${loads.reduce((a, l) => a + l.errors, 0)}`;
    const ratios = viaSidecar.map((l, i) => l.rps / direct[i]!.rps);
    const bareRatios = viaBare.map((l, i) => l.rps / direct[i]!.rps);
    return [
      `Output binding (bindings.http, C++) to a local HTTP server, ${concurrency} in flight, ${rounds} alternating rounds of ${seconds} s, medians:`,
      row('GET straight to the server (fetch)', direct),
      row('POST /v1.0/bindings/web through the sidecar', viaSidecar),
      row('POST through a bare node:http proxy', viaBare),
      `  through / direct: ${median(ratios).toFixed(2)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')}; target >= 0.6)`,
      `  bare proxy / direct: ${median(bareRatios).toFixed(2)} (rounds: ${bareRatios.map((x) => x.toFixed(2)).join(', ')}); load average ${loadavg()[0]!.toFixed(1)}`,
    ];
  } finally {
    await side.stop();
    await bare.stop();
    upstream.kill();
  }
}

/** `2026-12-03 10:55:16.123456789 +0000 UTC` (Go's Time.String in UTC) -> epoch ms, with the fraction. */
function goTimeMs(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? \+0000 UTC$/.exec(text);
  if (!m) throw new Error(`readTimeUTC "${text}" is not Go's UTC time format`);
  return Date.parse(`${m[1]}T${m[2]}Z`) + Number(`0${m[3] ?? ''}`) * 1000;
}

async function cronBench(ticks: number): Promise<string[]> {
  const lateness: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const app = createServer((req, res) => {
    const received = performance.timeOrigin + performance.now();
    req.resume();
    req.on('end', () => {
      res.writeHead(200).end();
      const tick = req.headers.readtimeutc;
      if (req.method !== 'POST' || typeof tick !== 'string') return;
      lateness.push(received - goTimeMs(tick));
      if (lateness.length === ticks + 5) done();
    });
  });
  const appPort = await listen(app);
  const side = await sidecarWith(
    'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: tick\nspec:\n  type: bindings.cron\n  version: v1\n  metadata:\n    - name: schedule\n      value: "@every 100ms"\n    - name: direction\n      value: input\n',
    appPort,
  );
  try {
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${lateness.length} ticks arrived`)), (ticks + 50) * 100 + 10_000))]);
  } finally {
    await side.stop();
    app.close();
  }
  // The first ticks include the start (JIT, the component's first reads).
  const steady = lateness.slice(5);
  return [
    `Cron tick lateness (bindings.cron, AssemblyScript, @every 100ms, delivered to an app), ${steady.length} ticks: ` +
      `p50 ${percentile(steady, 50).toFixed(2)} ms, p99 ${percentile(steady, 99).toFixed(2)} ms, max ${Math.max(...steady).toFixed(2)} ms, min ${Math.min(...steady).toFixed(2)} ms (target: p99 < 10 ms; never early)`,
  ];
}

export async function bindingsBench(options: { seconds: number; rounds: number; ticks: number }): Promise<string[]> {
  return [...(await outputBench(options.seconds, options.rounds, 10)), ...(await cronBench(options.ticks))];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await bindingsBench({ seconds: 5, rounds: 3, ticks: 200 })).join('\n'));
}
