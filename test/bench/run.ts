// `npm run bench`: every benchmark, measured side by side in one run. Set BENCH_QUICK=1
// for a short smoke run.
import { bindingsRedisBench } from './bindings-redis.bench.ts';
import { stateRedisBench } from './state-redis.bench.ts';
import { stateRedisHttpBench } from './state-redis-http.bench.ts';
import { manySidecarsBench } from './many-sidecars.bench.ts';
import { bindingsBench } from './bindings.bench.ts';
import { componentModelBench } from './component-model.bench.ts';
import { hibernationBench } from './hibernation.bench.ts';
import { hotSwapBench } from './hot-swap.bench.ts';
import { instancePoolBench } from './instance-pool.bench.ts';
import { invokeBench } from './invoke.bench.ts';
import { isolationBench } from './isolation.bench.ts';
import { compileAheadBench } from './compile-ahead.bench.ts';
import { grpcStateBench } from './grpc-state.bench.ts';
import { httpStateBench } from './http-state.bench.ts';
import { observabilityBench } from './observability.bench.ts';
import { meteringBench } from './metering.bench.ts';
import { persistBench } from './persist.bench.ts';
import { pubsubBench } from './pubsub.bench.ts';
import { grpcAppChannelBench } from './grpc-app-channel.bench.ts';
import { streamingSubscribeBench } from './streaming-subscribe.bench.ts';
import { sandboxStateBench } from './sandbox-state.bench.ts';
import { startBench } from './start.bench.ts';
import { threadIsolationBench } from './thread-isolation.bench.ts';

const quick = process.env.BENCH_QUICK === '1';
const sections: (() => Promise<string[]>)[] = [
  () => sandboxStateBench(quick ? 20000 : 300000),
  () => threadIsolationBench(quick ? 2000 : 20000, quick ? 2 : 5),
  () => isolationBench(),
  () => compileAheadBench(quick ? 2 : 5),
  () => instancePoolBench(quick ? 1 : 3),
  () => componentModelBench(quick ? 150 : 400),
  () => httpStateBench({ seconds: quick ? 1 : 5, connections: 10, rounds: quick ? 1 : 3 }),
  () => grpcStateBench({ seconds: quick ? 1 : 5, concurrency: 10, rounds: quick ? 1 : 3 }),
  () => observabilityBench(1, quick ? 2 : 12, quick ? 1 : 3),
  () => meteringBench(),
  () => hibernationBench(quick ? 20 : 200, 1000),
  () => persistBench(quick ? 2 : 7),
  // The case (8 clients reading in a loop), then reads and writes together.
  () => hotSwapBench({ swaps: quick ? 10 : 100, readers: 8, writers: 0 }),
  () => hotSwapBench({ swaps: quick ? 10 : 100, readers: 5, writers: 5 }),
  () => pubsubBench(),
  () => grpcAppChannelBench(),
  () => streamingSubscribeBench(),
  () => bindingsBench({ seconds: quick ? 1 : 5, rounds: quick ? 1 : 3, ticks: quick ? 30 : 200 }),
  () => bindingsRedisBench(quick ? 300 : 2000, quick ? 2 : 5),
  () => stateRedisBench(quick ? 300 : 2000, quick ? 2 : 5),
  () => stateRedisHttpBench({ seconds: quick ? 1 : 5, connections: 10, rounds: quick ? 1 : 3 }),
  () => invokeBench({ seconds: quick ? 1 : 5, rates: [200, 1000], connections: 10, rounds: quick ? 1 : 3 }),
  () => manySidecarsBench({ seconds: quick ? 1 : 5, connections: 10, rounds: quick ? 1 : 3 }),
  () => startBench(quick ? 2 : 5),
];
console.log(`Tessera benchmarks, node ${process.version}, ${new Date().toISOString()}`);
// Each section prints as soon as it is done, so a long run shows progress.
for (const section of sections) console.log((await section()).join('\n'));
