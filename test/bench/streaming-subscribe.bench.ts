// Benchmark: deliveries per second through the gRPC streaming subscription
// (SubscribeTopicEventsAlpha1, each event answered SUCCESS) vs the HTTP app channel (a POST per
// message to an app child process), one in-process sidecar on pubsub.memory serving both, the
// same run, alternated. The streaming subscriber runs in this process (beside the sidecar), so
// it shares the sidecar's event loop, which the HTTP app does not: the stream's figure is a
// lower bound. Rate: messages / (last delivery - first publish); medians of the rounds.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../host/observability/logger.ts';
import { Sidecar } from '../../host/sidecar.ts';
import { daprGrpcClient, openSubscribeStream } from '../support/grpc-client.ts';
import { median } from './bench-support.ts';
import { BenchApp, componentYaml, publish, untilTrue } from './pubsub.bench.ts';
import { GRPC_APP_DEFAULTS, GRPC_APP_QUICK, type GrpcAppChannelBenchOptions } from './grpc-app-channel.bench.ts';

/** Bursts, publishers and rounds, as the gRPC app channel bench counts them (and its sizes). */
export type StreamingBenchOptions = GrpcAppChannelBenchOptions;

export async function streamingSubscribeBench(options: StreamingBenchOptions = process.env.BENCH_QUICK === '1' ? GRPC_APP_QUICK : GRPC_APP_DEFAULTS): Promise<string[]> {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-stream-'));
  let app: BenchApp | undefined;
  let sidecar: Sidecar | undefined;
  const client: { close(): void }[] = [];
  try {
    app = await BenchApp.start([{ pubsubname: 'memory', topic: 'http', route: '/memory' }]);
    await writeFile(join(dir, 'memory.yaml'), componentYaml('memory', 'pubsub.memory'));
    sidecar = await Sidecar.start({
      appId: 'bench-stream',
      appPort: app.port,
      httpPort: 0,
      grpcPort: 0,
      listenAddress: '127.0.0.1',
      resourcesPaths: [dir],
      maxBodyBytes: 4 * 1024 * 1024,
      logger: silentLogger,
    });
    const running = sidecar;
    await untilTrue('the HTTP subscription', () => running.subscriptions.list().length === 1);
    const grpcPort = await sidecar.grpcPort;
    const grpc = daprGrpcClient(`127.0.0.1:${grpcPort}`);
    client.push(grpc);
    const stream = openSubscribeStream(grpc, { pubsub_name: 'memory', topic: 'stream' });
    await stream.next(); // initial_response
    // The stream's deliveries: answered SUCCESS at once, counted with the time of the last.
    let received = 0;
    let lastNs = 0n;
    let onCount: (() => void) | undefined;
    let want = 0;
    stream.call.on('data', (message: Record<string, unknown>) => {
      const event = message.event_message as { id: string } | undefined;
      if (event === undefined) return;
      stream.answer(event.id, 'SUCCESS');
      received++;
      lastNs = process.hrtime.bigint();
      if (received >= want) onCount?.();
    });
    const bench = app;
    let seq = 0;
    const burst = async (kind: 'http' | 'stream', count: number): Promise<number> => {
      const url = `http://127.0.0.1:${running.port}/v1.0/publish/memory/${kind}`;
      if (kind === 'http') {
        await bench.reset();
        const waiting = bench.wait(count, 120_000);
        const result = await publish({ target: { kind: 'http', url }, firstSeq: seq, count, concurrency: options.concurrency, intervalMs: 0 });
        seq += count;
        const stats = await waiting;
        return count / (Number(stats.lastNs - BigInt(result.startNs)) / 1e9);
      }
      received = 0;
      want = count;
      const done = new Promise<void>((resolve) => (onCount = resolve));
      const result = await publish({ target: { kind: 'http', url }, firstSeq: seq, count, concurrency: options.concurrency, intervalMs: 0 });
      seq += count;
      await done;
      return count / (Number(lastNs - BigInt(result.startNs)) / 1e9);
    };
    await burst('http', options.warmup);
    await burst('stream', options.warmup);
    const rates = { http: [] as number[], stream: [] as number[] };
    for (let round = 0; round < options.rounds; round++) {
      for (const kind of round % 2 === 0 ? (['http', 'stream'] as const) : (['stream', 'http'] as const)) rates[kind].push(await burst(kind, options.burst));
    }
    stream.call.end();
    const row = (name: string, kind: 'http' | 'stream'): string => `    ${name.padEnd(40)} | ${median(rates[kind]).toFixed(0).padStart(7)} | ${rates[kind].map((r) => r.toFixed(0)).join(', ')}`;
    return [
      `(streaming subscribe) publish-to-delivery on pubsub.memory, bursts of ${options.burst} from ${options.concurrency} publishers, ${options.rounds} rounds alternated; medians:`,
      '    delivered through                        |  msgs/s | each round',
      row('HTTP app channel (POST per message)', 'http'),
      row('SubscribeTopicEventsAlpha1 stream', 'stream'),
      `    stream / HTTP, median of the rounds' ratios: ${median(rates.stream.map((r, i) => r / rates.http[i]!)).toFixed(2)}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    ];
  } finally {
    for (const c of client) c.close();
    await sidecar?.stop();
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// Run on its own: `node test/bench/streaming-subscribe.bench.ts`.
if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await streamingSubscribeBench()).join('\n'));
