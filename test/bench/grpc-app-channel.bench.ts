// Benchmark: deliveries per second through the gRPC app channel (`--app-protocol grpc`,
// OnTopicEvent) vs the HTTP app channel (POST per message), the same run, alternated: two
// in-process sidecars on pubsub.memory, one per protocol, delivering to one app child process
// (test/support/pubsub-bench-app.ts, serving both). Each round publishes a burst through
// each sidecar in turn; the rate is messages / (last delivery - first publish). Medians of
// the rounds, and the median of each round's ratio.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../host/observability/logger.ts';
import { Sidecar } from '../../host/sidecar.ts';
import { median, percentile } from './bench-support.ts';
import { BenchApp, componentYaml, publish, untilTrue } from './pubsub.bench.ts';

export interface GrpcAppChannelBenchOptions {
  /** Messages per burst. */
  burst: number;
  /** Publishers in flight. */
  concurrency: number;
  /** Rounds, each one burst per protocol. */
  rounds: number;
  /** Messages of the warm-up burst per protocol. */
  warmup: number;
}

export const GRPC_APP_DEFAULTS: GrpcAppChannelBenchOptions = { burst: 3000, concurrency: 16, rounds: 5, warmup: 1000 };
export const GRPC_APP_QUICK: GrpcAppChannelBenchOptions = { burst: 300, concurrency: 16, rounds: 2, warmup: 200 };

export async function grpcAppChannelBench(options: GrpcAppChannelBenchOptions = process.env.BENCH_QUICK === '1' ? GRPC_APP_QUICK : GRPC_APP_DEFAULTS): Promise<string[]> {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-grpc-app-'));
  let app: BenchApp | undefined;
  const sidecars: Sidecar[] = [];
  try {
    app = await BenchApp.start([{ pubsubname: 'memory', topic: 'bench', route: '/memory' }], 'grpc');
    await writeFile(join(dir, 'memory.yaml'), componentYaml('memory', 'pubsub.memory'));
    const start = async (protocol: 'http' | 'grpc'): Promise<Sidecar> => {
      const sidecar = await Sidecar.start({
        appId: `bench-${protocol}`,
        appPort: protocol === 'grpc' ? app!.grpcPort : app!.port,
        appProtocol: protocol,
        httpPort: 0,
        listenAddress: '127.0.0.1',
        resourcesPaths: [dir],
        maxBodyBytes: 4 * 1024 * 1024,
        logger: silentLogger,
      });
      sidecars.push(sidecar);
      await untilTrue(`the ${protocol} sidecar's subscription`, () => sidecar.subscriptions.list().length === 1);
      return sidecar;
    };
    const paths = { http: await start('http'), grpc: await start('grpc') };
    const bench = app;
    let seq = 0;
    const burst = async (protocol: 'http' | 'grpc', count: number): Promise<{ rate: number; p50: number }> => {
      await bench.reset();
      const waiting = bench.wait(count, 120_000);
      const url = `http://127.0.0.1:${paths[protocol].port}/v1.0/publish/memory/bench`;
      const result = await publish({ target: { kind: 'http', url }, firstSeq: seq, count, concurrency: options.concurrency, intervalMs: 0 });
      seq += count;
      if (result.failed > 0) throw new Error(`${protocol}: ${result.failed} publishes failed (${result.firstError})`);
      const stats = await waiting;
      return { rate: count / (Number(stats.lastNs - BigInt(result.startNs)) / 1e9), p50: percentile(stats.latenciesMs, 50) };
    };
    await burst('http', options.warmup);
    await burst('grpc', options.warmup);
    const rates = { http: [] as number[], grpc: [] as number[] };
    const p50s = { http: [] as number[], grpc: [] as number[] };
    for (let round = 0; round < options.rounds; round++) {
      // Alternate which goes first, so neither always meets a warmer machine.
      for (const protocol of round % 2 === 0 ? (['http', 'grpc'] as const) : (['grpc', 'http'] as const)) {
        const { rate, p50 } = await burst(protocol, options.burst);
        rates[protocol].push(rate);
        p50s[protocol].push(p50);
      }
    }
    const row = (name: string, protocol: 'http' | 'grpc'): string =>
      `    ${name.padEnd(36)} | ${median(rates[protocol]).toFixed(0).padStart(7)} | ${median(p50s[protocol]).toFixed(1).padStart(9)} | ${rates[protocol].map((r) => r.toFixed(0)).join(', ')}`;
    return [
      `(grpc app channel) publish-to-delivery on pubsub.memory, bursts of ${options.burst} from ${options.concurrency} publishers, ${options.rounds} rounds alternated; medians:`,
      '    app channel                          |  msgs/s | burst p50 | each round',
      row('HTTP (POST per message)', 'http'),
      row('gRPC (OnTopicEvent)', 'grpc'),
      `    gRPC / HTTP deliveries per second, median of the rounds' ratios: ${median(rates.grpc.map((r, i) => r / rates.http[i]!)).toFixed(2)}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    ];
  } finally {
    for (const sidecar of sidecars) await sidecar.stop();
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// Run on its own: `node test/bench/grpc-app-channel.bench.ts`.
if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await grpcAppChannelBench()).join('\n'));
