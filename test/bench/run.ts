// `npm run bench`: every benchmark, measured side by side in one run. Set BENCH_QUICK=1
// for a short smoke run.
import { hibernationBench } from './hibernation.bench.ts';
import { hotSwapBench } from './hot-swap.bench.ts';
import { httpStateBench } from './http-state.bench.ts';
import { meteringBench } from './metering.bench.ts';
import { sandboxStateBench } from './sandbox-state.bench.ts';

const quick = process.env.BENCH_QUICK === '1';
const lines: string[] = [`Tessera benchmarks, node ${process.version}, ${new Date().toISOString()}`];
lines.push(...(await sandboxStateBench(quick ? 20000 : 300000)));
lines.push(...(await httpStateBench({ seconds: quick ? 1 : 5, connections: 10, rounds: quick ? 1 : 3 })));
lines.push(...(await meteringBench()));
lines.push(...(await hibernationBench(quick ? 20 : 200, 1000)));
lines.push(...(await hotSwapBench({ swaps: quick ? 10 : 100, connections: 5 })));
console.log(lines.join('\n'));
