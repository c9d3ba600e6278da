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
import { percentile } from './bench-support.ts';

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
}

const DEFAULTS: PubSubBenchOptions = { burst: 4000, concurrency: 16, paced: 600, intervalMs: 4, warmup: 1000 };
const QUICK: PubSubBenchOptions = { burst: 500, concurrency: 16, paced: 100, intervalMs: 4, warmup: 200 };

export interface Stats {
  latenciesMs: number[];
  firstNs: bigint;
  lastNs: bigint;
  duplicates: number;
}

interface Row {
  path: string;
  burst: { rate: number; p50: number; p99: number };
  paced: { p50: number; p99: number };
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

async function measurePath(
  path: string,
  target: PublishPlan['target'],
  sink: { reset(): Promise<void> | void; wait(count: number, timeoutMs: number): Promise<Stats> },
  options: PubSubBenchOptions,
  seqBase: number,
): Promise<Row> {
  let duplicates = 0;
  const run = async (count: number, firstSeq: number, intervalMs: number): Promise<{ stats: Stats; result: PublishResult }> => {
    await sink.reset();
    const waiting = sink.wait(count, 90_000);
    const result = await publish({ target, firstSeq, count, concurrency: options.concurrency, intervalMs });
    if (result.failed > 0) throw new Error(`${path}: ${result.failed} publishes failed (${result.firstError})`);
    const stats = await waiting;
    duplicates += stats.duplicates;
    return { stats, result };
  };
  await run(options.warmup, seqBase, 0);
  const burst = await run(options.burst, seqBase + 1_000_000, 0);
  const paced = await run(options.paced, seqBase + 2_000_000, options.intervalMs);
  const seconds = Number(burst.stats.lastNs - BigInt(burst.result.startNs)) / 1e9;
  return {
    path,
    burst: { rate: options.burst / seconds, p50: percentile(burst.stats.latenciesMs, 50), p99: percentile(burst.stats.latenciesMs, 99) },
    paced: { p50: percentile(paced.stats.latenciesMs, 50), p99: percentile(paced.stats.latenciesMs, 99) },
    duplicates,
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
  try {
    app = await BenchApp.start([
      { pubsubname: 'memory', topic: 'bench', route: '/memory' },
      { pubsubname: 'redis', topic: 'bench', route: '/redis' },
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
    await untilTrue('both subscriptions', () => side.subscriptions.list().length === 2);
    // pubsub.redis makes its group at `$`: publish only once it exists.
    await untilTrue('the consumer group on Redis', async () => {
      const groups = (await redisClient.command('XINFO', 'GROUPS', 'bench').catch(() => [])) as RespValue[][];
      return groups.some((g) => g[1] === 'bench');
    });
    consumer = await DirectRedisConsumer.start(redis.port, 'bench-direct');

    const sidecarUrl = `http://127.0.0.1:${sidecar.port}/v1.0/publish`;
    const serial = { ...options, concurrency: 1 };
    const rows: Row[] = [];
    rows.push(await measurePath('HTTP POST -> app, 1 in flight (limit)', { kind: 'http', url: `${app.url}/direct` }, app, serial, 0));
    rows.push(await measurePath(`HTTP POST -> app, ${options.concurrency} in flight (limit)`, { kind: 'http', url: `${app.url}/direct` }, app, options, 10_000_000));
    rows.push(await measurePath('sidecar pubsub.memory -> app', { kind: 'http', url: `${sidecarUrl}/memory/bench` }, app, options, 20_000_000));
    rows.push(await measurePath('XADD -> XREADGROUP, Node client (limit)', { kind: 'redis', port: redis.port, stream: 'bench-direct' }, consumer, options, 30_000_000));
    rows.push(await measurePath('sidecar pubsub.redis -> app', { kind: 'http', url: `${sidecarUrl}/redis/bench` }, app, options, 40_000_000));

    const rate = (name: string): number => rows.find((r) => r.path.startsWith(name))!.burst.rate;
    const lines = [
      `(pubsub) publish-to-delivery through the sidecar vs the limits: bursts of ${options.burst} messages from ${options.concurrency} publishers (serial row: 1), then ${options.paced} paced (one every ${options.intervalMs} ms); ms = receive - publish start:`,
      '    path                                     |  msgs/s | burst p50 | burst p99 | paced p50 | paced p99',
    ];
    for (const r of rows) {
      lines.push(
        `    ${r.path.padEnd(40)} | ${fmt(r.burst.rate, 0).padStart(7)} | ${fmt(r.burst.p50).padStart(9)} | ${fmt(r.burst.p99).padStart(9)} | ${fmt(r.paced.p50, 2).padStart(9)} | ${fmt(r.paced.p99, 2).padStart(9)}` +
          (r.duplicates > 0 ? ` (${r.duplicates} duplicates)` : ''),
      );
    }
    lines.push(
      `    throughput ratios: pubsub.memory / HTTP with ${options.concurrency} in flight ${fmt(rate('sidecar pubsub.memory') / rate(`HTTP POST -> app, ${options.concurrency}`), 2)} (target 0.7), ` +
        `pubsub.memory / serial HTTP ${fmt(rate('sidecar pubsub.memory') / rate('HTTP POST -> app, 1'), 2)}, ` +
        `pubsub.redis / direct Redis ${fmt(rate('sidecar pubsub.redis') / rate('XADD'), 2)} (target 0.5); ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    return lines;
  } finally {
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
