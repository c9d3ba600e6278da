// Issue #8's benchmark: the longest event-loop stall (perf_hooks.monitorEventLoopDelay)
// while each class of attack in the hostile corpus runs, in this process through the real
// sandbox (CompiledComponent + LiveComponent, with the entry's limits), and the time until
// the call or the load ended. A second call is made where the first one taught the host the
// component must be paused (a sync runaway), since that is the steady state.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { limitsFromAnnotations } from '../../host/components/limits.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { HOSTILE_APP_ID, HOSTILE_CORPUS, TIGHT_LIMITS, TRIGGER_KEY } from '../hostile/corpus.ts';

/** One entry of each class of harm the issue names, by corpus name. */
const CLASSES: [string, string][] = [
  ['crash: sleep from cabi_realloc', 'sleep-in-realloc'],
  ['hang: init sleeps forever', 'init-sleeps-forever'],
  ['hang: get sleeps forever', 'sleep-forever'],
  ['freeze: endless loop in get (default budget)', 'default-budget-runaway'],
  ['freeze: endless loop in init', 'init-infinite-loop'],
  ['freeze: 64 KiB random reads in a loop', 'random-64k-loop'],
  ['freeze: host calls through call_indirect', 'random-through-call-indirect'],
  ['freeze: memory.grow 0 in a loop', 'memory-grow-zero-loop'],
  ['freeze: memory.fill loop', 'memory-fill-loop'],
  ['bloat: memory.grow bomb', 'memory-grow-bomb'],
  ['bloat: lift amplification', 'lift-amplification'],
  ['output: 20 MiB error message', 'error-of-twenty-megabytes'],
  ['output: 10 MB log line', 'log-ten-megabytes'],
  ['compile: a function of 3.4 MB of code', 'large-function'],
];

async function stallOf(work: () => Promise<unknown>): Promise<{ stallMs: number; ms: number; outcome: string }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // Its first tick must be due before the work starts, or a synchronous call goes unseen.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const t0 = performance.now();
  const outcome = await work().then(
    () => 'ok',
    (err: Error) => err.message.replace(/^.*?: /, '').slice(0, 60),
  );
  const ms = performance.now() - t0;
  // The histogram sees a stall when its next tick comes late: let it tick once more.
  await new Promise((resolve) => setTimeout(resolve, 5));
  histogram.disable();
  return { stallMs: histogram.max / 1e6, ms, outcome };
}

export async function isolationBench(): Promise<string[]> {
  const rows: string[] = [];
  for (const [label, name] of CLASSES) {
    const entry = HOSTILE_CORPUS.find((e) => e.name === name);
    if (entry === undefined) throw new Error(`the hostile corpus has no entry "${name}"`);
    const annotations = entry.limits === false ? {} : { ...TIGHT_LIMITS, ...entry.limits };
    const limits = limitsFromAnnotations(annotations, name);
    const start = async (): Promise<LiveComponent> => {
      const compiled = await CompiledComponent.compile(entry.build(), { source: name, memoryLimitBytes: limits.memoryLimitBytes, cpuBudget: limits.cpuBudget });
      return LiveComponent.start(compiled, { name, config: new Map(), logger: silentLogger, callTimeoutMs: limits.callTimeoutMs, cpuShare: 0 });
    };
    if (entry.expect.at === 'load') {
      const { stallMs, ms } = await stallOf(start);
      rows.push(`    ${label.padEnd(46)} | ${stallMs.toFixed(1).padStart(7)} | ${ms.toFixed(0).padStart(6)} | load fails`);
      continue;
    }
    const live = await start();
    // The key as the sidecar would hand it over, prefixed with the app id.
    const call = (): Promise<unknown> => live.call('get', [{ key: `${HOSTILE_APP_ID}||${TRIGGER_KEY}`, consistency: 'eventual', metadata: [] }]);
    for (const attempt of ['1st', '2nd']) {
      const { stallMs, ms, outcome } = await stallOf(call);
      rows.push(`    ${`${label} (${attempt})`.padEnd(46)} | ${stallMs.toFixed(1).padStart(7)} | ${ms.toFixed(0).padStart(6)} | ${outcome}`);
    }
    await live.close();
  }
  return [
    'Isolation (#8): the longest event-loop stall while each attack runs, in-process through the sandbox',
    '    attack                                          | stall ms | call ms | outcome',
    ...rows,
  ];
}
