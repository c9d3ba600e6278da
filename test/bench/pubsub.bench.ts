// Benchmark: publish-to-delivery through an in-process Sidecar — POST /v1.0/publish, the
// broker (pubsub.memory in wasm; pubsub.redis in wasm over tcp to a redis-server of its own),
// the delivery loop, the POST to the app — each beside its physical limit measured in the
// same run: HTTP POSTs straight from a Node process to the same app (no sidecar), and a Node
// client doing XADD / XREADGROUP directly against the same Redis (test/support/resp-client.ts).
// The app (test/support/pubsub-bench-app.ts) and the publisher
// (test/support/pubsub-bench-publisher.ts) are child processes; latency = the app's receive
// time - the publish start carried in the message, both on the system's monotonic clock.
// Each path is measured twice: a burst of messages published as fast as 16 publishers go
// (throughput: messages / (last delivery - first publish); latency under a backlog), and a
// paced run, one publish every few ms, well under every path's throughput (latency unloaded).
// Each sidecar path alternates with its limit, `rounds` times; the table shows medians. The
// batched row publishes with the bulk API (100 a request) to a bulkSubscribe subscription
// (up to 100 a POST), as the direct client batches its reads; then `long` messages go
// through pubsub.redis each way, the Done-when figure of issue 13. Beside pubsub.memory, in the
// same rounds, its floor: a bare node:http relay (bare-publish-relay.ts) making the same two
// hops with nothing else.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../host/observability/logger.ts';
import { Sidecar } from '../../host/sidecar.ts';
import type { BenchAppStats } from '../support/pubsub-bench-app.ts';
import type { PublishPlan, PublishResult } from '../support/pubsub-bench-publisher.ts';
import { RedisServer } from '../support/redis-server.ts';
import { RespClient, type RespValue } from '../support/resp-client.ts';
import { startBarePublishRelay } from './bare-publish-relay.ts';
import { median, percentile } from './bench-support.ts';

const APP = fileURLToPath(new URL('../support/pubsub-bench-app.ts', import.meta.url));
const PUBLISHER = fileURLToPath(new URL('../support/pubsub-bench-publisher.ts', import.meta.url));

export interface PubSubBenchOptions {
  /** Messages per burst (throughput). */
  burst: number;
  /** Publishers in flight during a burst. */
  concurrency: number;
  /** Messages of the paced run, and the pause between two publishes. */
  paced: number;
  intervalMs: number;
  /** Messages of the warm-up burst per path (JIT, wasm tier-up, connections). */
  warmup: number;
  /** Alternations of each sidecar path with its limit. */
  rounds: number;
  /** Messages of the long run through pubsub.redis (issue 13 asks 20,000). */
  long: number;
}

const DEFAULTS: PubSubBenchOptions = { burst: 4000, concurrency: 16, paced: 600, intervalMs: 4, warmup: 1000, rounds: 3, long: 20_000 };
const QUICK: PubSubBenchOptions = { burst: 500, concurrency: 16, paced: 100, intervalMs: 4, warmup: 200, rounds: 1, long: 2000 };
/** Messages per bulk publish and per bulk delivery on the batched path. */
const BATCH = 100;

export interface Stats {
  latenciesMs: number[];
  firstNs: bigint;
  lastNs: bigint;
  duplicates: number;
}

interface Row {
  path: string;
  burst: { rate: number; p50: number; p99: number };
  /** Undefined for a path measured in bursts only. */
  paced: { p50: number; p99: number } | undefined;
  duplicates: number;
}

export function publish(plan: PublishPlan): Promise<PublishResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PUBLISHER, JSON.stringify(plan)], { timeout: 120_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { message: `${err.message}\n${stderr}` }));
      else resolve(JSON.parse(stdout) as PublishResult);
    });
  });
}

/** The app child process, with its control routes (and, when asked, its gRPC port). */
export class BenchApp {
  readonly child: ChildProcess;
  readonly port: number;
  readonly grpcPort: number | undefined;

  private constructor(child: ChildProcess, port: number, grpcPort: number | undefined) {
    this.child = child;
    this.port = port;
    this.grpcPort = grpcPort;
  }

  static async start(subscriptions: unknown[], serve: 'http' | 'grpc' = 'http'): Promise<BenchApp> {
    const child = spawn(process.execPath, [APP, JSON.stringify(subscriptions), serve], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bench app did not start within 10 s')), 10_000);
      createInterface({ input: child.stdout! }).once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      child.once('exit', (code) => reject(new Error(`the bench app exited (${code})`)));
    });
    const { port, grpcPort } = JSON.parse(line) as { port: number; grpcPort?: number };
    return new BenchApp(child, port, grpcPort);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async reset(): Promise<void> {
    await fetch(`${this.url}/bench/reset`, { method: 'POST', signal: AbortSignal.timeout(5000) });
  }

  /** Waits (bounded) until `count` messages arrived since the reset. */
  async wait(count: number, timeoutMs: number): Promise<Stats> {
    const res = await fetch(`${this.url}/bench/wait?count=${count}`, { signal: AbortSignal.timeout(timeoutMs) });
    const s = (await res.json()) as BenchAppStats;
    return { latenciesMs: s.latenciesMs, firstNs: BigInt(s.firstNs), lastNs: BigInt(s.lastNs), duplicates: s.duplicates };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
}

/**
 * The Redis limit's consumer, in this process as the sidecar would be: XREADGROUP on a
 * group of its own, latency taken when a batch arrives, each batch acknowledged with one XACK.
 */
class DirectRedisConsumer {
  readonly #client: RespClient;
  readonly #stream: string;
  #stopped = false;
  #stats: Stats = { latenciesMs: [], firstNs: 0n, lastNs: 0n, duplicates: 0 };
  #want: { count: number; resolve: (s: Stats) => void } | undefined;
  readonly #done: Promise<void>;

  private constructor(client: RespClient, stream: string) {
    this.#client = client;
    this.#stream = stream;
    this.#done = this.#loop();
  }

  static async start(port: number, stream: string): Promise<DirectRedisConsumer> {
    const client = await RespClient.connect(port);
    await client.command('XGROUP', 'CREATE', stream, 'bench', '$', 'MKSTREAM');
    return new DirectRedisConsumer(client, stream);
  }

  reset(): void {
    this.#stats = { latenciesMs: [], firstNs: 0n, lastNs: 0n, duplicates: 0 };
  }

  wait(count: number, timeoutMs: number): Promise<Stats> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${count} messages not read from Redis within ${timeoutMs} ms (got ${this.#stats.latenciesMs.length})`)), timeoutMs);
      this.#want = {
        count,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
      };
      this.#check();
    });
  }

  #check(): void {
    if (this.#want && this.#stats.latenciesMs.length >= this.#want.count) {
      this.#want.resolve(this.#stats);
      this.#want = undefined;
    }
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const reply = (await this.#client.command('XREADGROUP', 'GROUP', 'bench', 'consumer', 'COUNT', 100, 'BLOCK', 200, 'STREAMS', this.#stream, '>').catch(() => null)) as
        | [string, [string, string[]][]][]
        | null;
      if (reply === null) continue;
      const now = process.hrtime.bigint();
      const entries = reply[0]![1];
      for (const [, fields] of entries) {
        const message = JSON.parse(fields[fields.indexOf('data') + 1]!) as { sent: string };
        if (this.#stats.firstNs === 0n) this.#stats.firstNs = now;
        this.#stats.lastNs = now;
        this.#stats.latenciesMs.push(Number(now - BigInt(message.sent)) / 1e6);
      }
      await this.#client.command('XACK', this.#stream, 'bench', ...entries.map(([id]) => id)).catch(() => undefined);
      this.#check();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
    this.#client.close();
  }
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

type Sink = { reset(): Promise<void> | void; wait(count: number, timeoutMs: number): Promise<Stats> };

interface BenchPath {
  path: string;
  target: PublishPlan['target'];
  sink: Sink;
  /** Publishers in flight; 1 for the serial row. */
  concurrency: number;
  /** Messages per bulk publish; 1: one publish each (and a paced run too). */
  batch: number;
}

/** One burst (and, unbatched, one paced run) through `p`, with sequence numbers from `seqBase`. */
async function measurePath(p: BenchPath, options: PubSubBenchOptions, seqBase: number, burst = options.burst, paced = true): Promise<Row> {
  let duplicates = 0;
  const run = async (count: number, firstSeq: number, intervalMs: number): Promise<{ stats: Stats; result: PublishResult }> => {
    await p.sink.reset();
    const waiting = p.sink.wait(count, 180_000);
    const result = await publish({ target: p.target, firstSeq, count, concurrency: p.concurrency, intervalMs, batch: intervalMs === 0 ? p.batch : 1 });
    if (result.failed > 0) throw new Error(`${p.path}: ${result.failed} publishes failed (${result.firstError})`);
    const stats = await waiting;
    duplicates += stats.duplicates;
    return { stats, result };
  };
  const b = await run(burst, seqBase, 0);
  const seconds = Number(b.stats.lastNs - BigInt(b.result.startNs)) / 1e9;
  const pacedRun = paced && p.batch === 1 ? await run(options.paced, seqBase + 1_000_000, options.intervalMs) : undefined;
  return {
    path: p.path,
    burst: { rate: burst / seconds, p50: percentile(b.stats.latenciesMs, 50), p99: percentile(b.stats.latenciesMs, 99) },
    paced: pacedRun && { p50: percentile(pacedRun.stats.latenciesMs, 50), p99: percentile(pacedRun.stats.latenciesMs, 99) },
    duplicates,
  };
}

/** The median of each figure over the rounds of one path. */
function medianRow(rows: Row[]): Row {
  const m = (f: (r: Row) => number): number => median(rows.map(f));
  return {
    path: rows[0]!.path,
    burst: { rate: m((r) => r.burst.rate), p50: m((r) => r.burst.p50), p99: m((r) => r.burst.p99) },
    paced: rows[0]!.paced && { p50: m((r) => r.paced!.p50), p99: m((r) => r.paced!.p99) },
    duplicates: rows.reduce((a, r) => a + r.duplicates, 0),
  };
}

export async function untilTrue(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const componentYaml = (name: string, type: string, redis?: string): string =>
  `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
${redis ? `  annotations:\n    tessera.dev/allow-tcp: "${redis}"\n` : ''}spec:
  type: ${type}
  version: v1
${redis ? `  metadata:\n    - name: redisHost\n      value: "${redis}"\n` : ''}`;

/** Runs the benchmark; resolves to the lines of its report. BENCH_QUICK=1 makes it a short smoke run. */
export async function pubsubBench(options: PubSubBenchOptions = process.env.BENCH_QUICK === '1' ? QUICK : DEFAULTS): Promise<string[]> {
  const started = Date.now();
  const redis = await RedisServer.start();
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-pubsub-'));
  let app: BenchApp | undefined;
  let sidecar: Sidecar | undefined;
  let consumer: DirectRedisConsumer | undefined;
  let probe: RespClient | undefined;
  let relay: { url: string; stop(): Promise<void> } | undefined;
  try {
    app = await BenchApp.start([
      { pubsubname: 'memory', topic: 'bench', route: '/memory' },
      { pubsubname: 'redis', topic: 'bench', route: '/redis' },
      { pubsubname: 'redis', topic: 'bench-batched', route: '/redis-batched', bulkSubscribe: { enabled: true, maxMessagesCount: BATCH, maxAwaitDurationMs: 5 } },
    ]);
    await writeFile(join(dir, 'memory.yaml'), componentYaml('memory', 'pubsub.memory'));
    await writeFile(join(dir, 'redis.yaml'), componentYaml('redis', 'pubsub.redis', redis.address));
    sidecar = await Sidecar.start({
      appId: 'bench',
      appPort: app.port,
      httpPort: 0,
      listenAddress: '127.0.0.1',
      resourcesPaths: [dir],
      maxBodyBytes: 4 * 1024 * 1024,
      logger: silentLogger,
    });
    const side = sidecar;
    probe = await RespClient.connect(redis.port);
    const redisClient = probe;
    await untilTrue('the subscriptions', () => side.subscriptions.list().length === 3);
    // pubsub.redis makes its groups at `$`: publish only once they exist.
    for (const stream of ['bench', 'bench-batched']) {
      await untilTrue(`the consumer group of ${stream} on Redis`, async () => {
        const groups = (await redisClient.command('XINFO', 'GROUPS', stream).catch(() => [])) as RespValue[][];
        return groups.some((g) => g[1] === 'bench');
      });
    }
    consumer = await DirectRedisConsumer.start(redis.port, 'bench-direct');

    const sidecarUrl = `http://127.0.0.1:${sidecar.port}/v1.0/publish`;
    const bulkUrl = `http://127.0.0.1:${sidecar.port}/v1.0-alpha1/publish/bulk`;
    const n = options.concurrency;
    const path = (name: string, target: PublishPlan['target'], sink: Sink, batch = 1, concurrency = n): BenchPath => ({ path: name, target, sink, concurrency, batch });
    const serialHttp = path('HTTP POST -> app, 1 in flight (limit)', { kind: 'http', url: `${app.url}/direct` }, app, 1, 1);
    const http = path(`HTTP POST -> app, ${n} in flight (limit)`, { kind: 'http', url: `${app.url}/direct` }, app);
    const memory = path('sidecar pubsub.memory -> app', { kind: 'http', url: `${sidecarUrl}/memory/bench` }, app);
    // As many deliveries in flight as the sidecar's (maxConcurrentHandlers' default).
    relay = await startBarePublishRelay(`${app.url}/direct`, 16);
    const bare = path('bare node:http relay -> app (floor)', { kind: 'http', url: relay.url }, app);
    const direct = path('XADD -> XREADGROUP, Node client (limit)', { kind: 'redis', port: redis.port, stream: 'bench-direct' }, consumer);
    const perMessage = path('sidecar pubsub.redis -> app', { kind: 'http', url: `${sidecarUrl}/redis/bench` }, app);
    const batched = path(`  same, batched: bulk ${BATCH} in, ${BATCH} a POST`, { kind: 'http', url: `${bulkUrl}/redis/bench-batched` }, app, BATCH);
    const all = [serialHttp, http, memory, bare, direct, perMessage, batched];

    let seq = 0;
    const nextSeq = (): number => (seq += 10_000_000);
    for (const p of all) await measurePath(p, { ...options, burst: options.warmup }, nextSeq(), options.warmup, false);
    const measured = new Map<BenchPath, Row[]>(all.map((p) => [p, []]));
    const measure = async (p: BenchPath): Promise<void> => void measured.get(p)!.push(await measurePath(p, options, nextSeq()));
    await measure(serialHttp);
    // Each sidecar path right after its limit, round after round: the machine's noise hits both alike.
    for (let round = 0; round < options.rounds; round++) {
      for (const group of [[http, memory, bare], [direct, perMessage], [direct, batched]]) {
        for (const p of group) await measure(p);
      }
    }
    const rows = all.map((p) => medianRow(measured.get(p)!));
    const rate = (p: BenchPath): number => rows[all.indexOf(p)]!.burst.rate;

    // The long run: `long` messages through pubsub.redis each way, and the direct client.
    const longRows: Row[] = [];
    for (const p of [direct, batched, direct, perMessage]) longRows.push(await measurePath(p, options, nextSeq(), options.long, false));
    const longDirect = median([longRows[0]!.burst.rate, longRows[2]!.burst.rate]);

    const lines = [
      `(pubsub) publish-to-delivery through the sidecar vs the limits: bursts of ${options.burst} messages from ${n} publishers (serial row: 1), then ${options.paced} paced (one every ${options.intervalMs} ms); ms = receive - publish start; medians of ${options.rounds} alternations of each sidecar path with its limit:`,
      '    path                                     |  msgs/s | burst p50 | burst p99 | paced p50 | paced p99',
    ];
    const cell = (x: number | undefined, digits: number, width: number): string => (x === undefined ? '-' : fmt(x, digits)).padStart(width);
    for (const r of rows) {
      lines.push(
        `    ${r.path.padEnd(40)} | ${fmt(r.burst.rate, 0).padStart(7)} | ${fmt(r.burst.p50).padStart(9)} | ${fmt(r.burst.p99).padStart(9)} | ${cell(r.paced?.p50, 2, 9)} | ${cell(r.paced?.p99, 2, 9)}` +
          (r.duplicates > 0 ? ` (${r.duplicates} duplicates)` : ''),
      );
    }
    lines.push(
      `    throughput ratios: pubsub.memory / HTTP with ${n} in flight ${fmt(rate(memory) / rate(http), 2)} (target 0.7; the bare relay, its floor: ${fmt(rate(bare) / rate(http), 2)}), ` +
        `pubsub.memory / serial HTTP ${fmt(rate(memory) / rate(serialHttp), 2)}, ` +
        `pubsub.redis / direct Redis ${fmt(rate(perMessage) / rate(direct), 2)} one by one, ${fmt(rate(batched) / rate(direct), 2)} batched (target 0.5)`,
      `    ${options.long} messages: direct client ${fmt(longDirect, 0)}/s; pubsub.redis batched ${fmt(longRows[1]!.burst.rate, 0)}/s (${fmt(longRows[1]!.burst.rate / longDirect, 2)}), ` +
        `one by one ${fmt(longRows[3]!.burst.rate, 0)}/s (${fmt(longRows[3]!.burst.rate / longDirect, 2)}) (target 0.5); ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    return lines;
  } finally {
    await relay?.stop();
    await consumer?.stop();
    probe?.close();
    await sidecar?.stop();
    await app?.stop();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// Run on its own: `node test/bench/pubsub.bench.ts`.
if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await pubsubBench()).join('\n'));
