// Runs the conformance kit on a state-store `.wasm`: loads it through the real sandbox
// (CompiledComponent, LiveComponent, adaptStateStore), then runs every check of every area on
// a fresh instance of its own, all side by side, so the slowest check (a TTL wait) sets the
// pace. Used by `tessera component test` and by the tests.
import type { Manifest } from '../../../abi/ts/manifest.ts';
import { CompiledComponent } from '../../sandbox/compiled-component.ts';
import { bulkChecks } from './bulk.ts';
import { deleteChecks } from './delete.ts';
import { etagChecks } from './etag.ts';
import { featureChecks } from './features.ts';
import { firstWriteChecks } from './first-write.ts';
import { CheckFailure, startInstance, type Check, type Instance, type Subject } from './harness.ts';
import { setGetChecks } from './set-get.ts';
import { snapshotChecks } from './snapshot.ts';
import { transactionChecks } from './transactions.ts';
import { ttlChecks } from './ttl.ts';

/** Every check, in the order the report lists them. */
export const CHECKS: readonly Check[] = [
  ...setGetChecks,
  ...deleteChecks,
  ...bulkChecks,
  ...etagChecks,
  ...firstWriteChecks,
  ...ttlChecks,
  ...transactionChecks,
  ...featureChecks,
  ...snapshotChecks,
];

/** Longer than any check needs (the TTL ones take about 1.1 s); a hung one fails. */
const CHECK_TIMEOUT_MS = 5000;

export interface CheckResult {
  area: string;
  name: string;
  outcome: 'pass' | 'fail' | 'skip';
  /** Why it failed or was skipped. */
  reason?: string;
  ms: number;
}

export interface ConformanceReport {
  /** The file the module came from. */
  source: string;
  /** Undefined when the module has no readable manifest. */
  manifest: Manifest | undefined;
  features: string[];
  snapshot: boolean;
  /** The load step first, then one result per check. */
  results: CheckResult[];
  ms: number;
  passed: boolean;
}

export interface ConformanceOptions {
  /** The file the bytes came from, for messages. */
  source: string;
  /** A subset of CHECKS (tests). */
  checks?: readonly Check[];
  timeoutMs?: number;
  /** Fuel per call, as `tessera.dev/cpu-budget` sets it; the host's default when unset. */
  cpuBudget?: number;
}

const LOAD = { area: 'load', name: 'compiles, passes the host\'s load checks, starts (init) and answers ping' };

function reasonOf(err: unknown, logs: string[]): string {
  const reason = err instanceof CheckFailure ? err.message : err instanceof Error ? err.message : String(err);
  const said = logs.at(-1);
  return said === undefined ? reason : `${reason} (the component logged: ${said})`;
}

function withTimeout(run: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailure(`did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
}

async function runCheck(check: Check, subject: Subject, timeoutMs: number): Promise<CheckResult> {
  const skip = check.skip?.(subject);
  if (skip !== undefined) return { area: check.area, name: check.name, outcome: 'skip', reason: skip, ms: 0 };
  const started = performance.now();
  const logs: string[] = [];
  const instances: Instance[] = [];
  const fresh = async (): Promise<Instance> => {
    const instance = await startInstance(subject.compiled, 'store-under-test', logs);
    instances.push(instance);
    return instance;
  };
  const ms = (): number => Math.round(performance.now() - started);
  try {
    const first = await fresh();
    await withTimeout(check.run({ subject, fresh, store: first.store, live: first.live }), timeoutMs);
    return { area: check.area, name: check.name, outcome: 'pass', ms: ms() };
  } catch (err) {
    return { area: check.area, name: check.name, outcome: 'fail', reason: reasonOf(err, logs), ms: ms() };
  } finally {
    // Not awaited: a check that timed out may still hold its instance.
    for (const instance of instances) void instance.live.close();
  }
}

/** Loads the module once, as the sidecar would; the subject of every check, or the load failure. */
async function load(bytes: Uint8Array, source: string, cpuBudget: number | undefined): Promise<{ subject: Subject } | { reason: string; manifest?: Manifest }> {
  const logs: string[] = [];
  let compiled: CompiledComponent;
  try {
    compiled = await CompiledComponent.compile(bytes, { source, ...(cpuBudget === undefined ? {} : { cpuBudget }) });
  } catch (err) {
    return { reason: reasonOf(err, logs) };
  }
  const { manifest } = compiled;
  if (manifest.kind !== 'state-store') return { manifest, reason: `it is a ${manifest.kind} component; this kit checks state stores` };
  try {
    const first = await startInstance(compiled, 'store-under-test', logs);
    await first.store.ping();
    void first.live.close();
    return { subject: { compiled, features: first.live.features, snapshot: first.live.supportsSnapshot } };
  } catch (err) {
    return { manifest, reason: reasonOf(err, logs) };
  }
}

export async function runConformance(bytes: Uint8Array, options: ConformanceOptions): Promise<ConformanceReport> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  const loaded = await load(bytes, options.source, options.cpuBudget);
  if (!('subject' in loaded)) {
    const results: CheckResult[] = [{ ...LOAD, outcome: 'fail', reason: loaded.reason, ms: ms() }];
    return { source: options.source, manifest: loaded.manifest, features: [], snapshot: false, results, ms: ms(), passed: false };
  }
  const { subject } = loaded;
  const loadResult: CheckResult = { ...LOAD, outcome: 'pass', ms: ms() };
  const checks = options.checks ?? CHECKS;
  const results = [loadResult, ...(await Promise.all(checks.map((check) => runCheck(check, subject, options.timeoutMs ?? CHECK_TIMEOUT_MS))))];
  return {
    source: options.source,
    manifest: subject.compiled.manifest,
    features: [...subject.features],
    snapshot: subject.snapshot,
    results,
    ms: ms(),
    passed: results.every((r) => r.outcome !== 'fail'),
  };
}
