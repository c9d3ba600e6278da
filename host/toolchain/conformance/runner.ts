// Runs the conformance kit on a component `.wasm`: loads it through the real sandbox
// (CompiledComponent, LiveComponent, the kind's adapter), picks the suite of the kind its
// manifest names, then runs every check on instances of its own, all side by side, so the
// slowest check (a TTL wait) sets the pace. `tessera component test` prints the report;
// `prepareConformance` hands the checks out one by one, for a test runner (node:test).
import { randomBytes } from 'node:crypto';
import type { Manifest } from '../../../abi/ts/manifest.ts';
import type { Grants } from '../../sandbox/capabilities/capability.ts';
import { CompiledComponent } from '../../sandbox/compiled-component.ts';
import type { LiveComponent } from '../../sandbox/live-component.ts';
import { unwrapResult } from '../../sandbox/kinds/wit-result.ts';
import type { WitResult } from '../../../abi/ts/types.ts';
import { CheckFailure, CheckSkipped, startLive, type Check, type Subject, type Suite } from './check.ts';
import { bindingSuite } from './binding/suite.ts';
import { pubSubSuite } from './pubsub/suite.ts';
import { stateSuite } from './state/suite.ts';

/** One suite per component kind. Each has a context type of its own, which the runner hands only to that suite's checks. */
export const SUITES: readonly Suite<any>[] = [stateSuite, pubSubSuite, bindingSuite];

/** Longer than any check needs (the TTL ones take about 1.1 s); a hung one fails. */
const CHECK_TIMEOUT_MS = 5000;

export interface CheckResult {
  area: string;
  name: string;
  outcome: 'pass' | 'fail' | 'skip';
  /** Why it failed or was skipped, or what a passing check noted. */
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
  /** The header line on what the component is (its features and snapshot, or its suite's own line); none without a manifest. */
  summary: string | undefined;
  /** The load step first, then one result per check. */
  results: CheckResult[];
  ms: number;
  passed: boolean;
}

export interface ConformanceOptions {
  /** The file the bytes came from, for messages. */
  source: string;
  /** Only the checks whose name this accepts (tests). */
  only?: (check: { area: string; name: string }) => boolean;
  timeoutMs?: number;
  /** Fuel per call, as `tessera.dev/cpu-budget` sets it; the host's default when unset. */
  cpuBudget?: number;
  /** Component YAML metadata for `init` (`--metadata`), before the kind's defaults. */
  config?: ReadonlyMap<string, string>;
  /** Capability grants, as the YAML's annotations give them. */
  grants?: Grants;
  /** Metadata items over `config` that init must refuse (`--bad-metadata`; the binding suite checks it). */
  badConfig?: ReadonlyMap<string, string>;
}

/** One check, ready to run on the loaded component. */
export interface PreparedCheck {
  area: string;
  name: string;
  run(): Promise<CheckResult>;
}

/** The component loaded (or not) and its suite's checks, to run in any order. */
export interface PreparedConformance {
  source: string;
  manifest: Manifest | undefined;
  features: string[];
  snapshot: boolean;
  summary: string | undefined;
  /** The load step; when it failed, `checks` is empty. */
  load: CheckResult;
  checks: PreparedCheck[];
}

const LOAD = { area: 'load', name: 'compiles, passes the host\'s load checks, starts (init) and answers ping' };

/** The header line of a state store or broker: what it advertises and whether it can hand its data over. */
const featureLine = (features: string[], snapshot: boolean): string =>
  `features: ${features.length > 0 ? features.join(', ') : 'none'}; snapshot: ${snapshot ? 'exported' : 'not exported'}`;

function reasonOf(err: unknown, logs: string[]): string {
  const reason = err instanceof Error ? err.message : String(err);
  const said = logs.at(-1);
  // The host logs a trap as it reports it: that line adds nothing.
  return said === undefined || reason.includes(said) ? reason : `${reason} (the component logged: ${said})`;
}

function withTimeout<T>(run: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailure(`did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
}

async function runCheck<Context>(suite: Suite<Context>, check: Check<Context>, subject: Subject, timeoutMs: number): Promise<CheckResult> {
  const skip = check.skip?.(subject);
  if (skip !== undefined) return { area: check.area, name: check.name, outcome: 'skip', reason: skip, ms: 0 };
  const started = performance.now();
  const logs: string[] = [];
  const instances: LiveComponent[] = [];
  const start = async (config = subject.config): Promise<LiveComponent> => {
    const live = await startLive(subject, config, logs);
    instances.push(live);
    return live;
  };
  const ms = (): number => Math.round(performance.now() - started);
  try {
    const note = await withTimeout((async () => check.run(suite.context(subject, await start(), start)))(), timeoutMs);
    return { area: check.area, name: check.name, outcome: 'pass', ...(typeof note === 'string' ? { reason: note } : {}), ms: ms() };
  } catch (err) {
    if (err instanceof CheckSkipped) return { area: check.area, name: check.name, outcome: 'skip', reason: err.message, ms: ms() };
    return { area: check.area, name: check.name, outcome: 'fail', reason: reasonOf(err, logs), ms: ms() };
  } finally {
    // Not awaited: a check that timed out may still hold its instance.
    for (const live of instances) void live.close();
  }
}

/** Loads the module once, as the sidecar would: the subject of every check and its suite, or the load failure. */
async function load(
  bytes: Uint8Array,
  options: ConformanceOptions,
): Promise<{ subject: Subject; suite: Suite<unknown> } | { reason: string; manifest?: Manifest }> {
  const logs: string[] = [];
  let compiled: CompiledComponent;
  try {
    compiled = await CompiledComponent.compile(bytes, { source: options.source, ...(options.cpuBudget === undefined ? {} : { cpuBudget: options.cpuBudget }) });
  } catch (err) {
    return { reason: reasonOf(err, logs) };
  }
  const { manifest } = compiled;
  const suite = SUITES.find((s) => s.kind === manifest.kind) as Suite<unknown> | undefined;
  if (suite === undefined) return { manifest, reason: `it is a ${manifest.kind} component; this kit checks ${new Intl.ListFormat('en').format(SUITES.map((s) => s.noun))}` };
  const runId = randomBytes(4).toString('hex');
  const given = options.config ?? new Map<string, string>();
  const config = suite.withDefaults?.(given, runId) ?? given;
  const grants = options.grants ?? {};
  try {
    const first = await startLive({ compiled, grants }, config, logs);
    try {
      unwrapResult(first.name, 'ping', (await first.call('ping', [])) as WitResult<undefined>);
      const badConfig = options.badConfig ?? new Map<string, string>();
      return { suite, subject: { compiled, features: first.features, snapshot: first.supportsSnapshot, config, grants, badConfig, runId } };
    } finally {
      void first.close();
    }
  } catch (err) {
    return { manifest, reason: reasonOf(err, logs) };
  }
}

export async function prepareConformance(bytes: Uint8Array, options: ConformanceOptions): Promise<PreparedConformance> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  const loaded = await load(bytes, options);
  if (!('subject' in loaded)) {
    const load: CheckResult = { ...LOAD, outcome: 'fail', reason: loaded.reason, ms: ms() };
    const summary = loaded.manifest === undefined ? undefined : featureLine([], false);
    return { source: options.source, manifest: loaded.manifest, features: [], snapshot: false, summary, load, checks: [] };
  }
  const { subject, suite } = loaded;
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
  const checks = suite.checks
    .filter((check) => options.only?.(check) ?? true)
    .map((check): PreparedCheck => ({ area: check.area, name: check.name, run: () => runCheck(suite, check, subject, timeoutMs) }));
  return {
    source: options.source,
    manifest: subject.compiled.manifest,
    features: [...subject.features],
    snapshot: subject.snapshot,
    summary: suite.summary?.(subject) ?? featureLine([...subject.features], subject.snapshot),
    load: { ...LOAD, outcome: 'pass', ms: ms() },
    checks,
  };
}

export async function runConformance(bytes: Uint8Array, options: ConformanceOptions): Promise<ConformanceReport> {
  const started = performance.now();
  const prepared = await prepareConformance(bytes, options);
  const results = [prepared.load, ...(await Promise.all(prepared.checks.map((check) => check.run())))];
  const { source, manifest, features, snapshot, summary } = prepared;
  return { source, manifest, features, snapshot, summary, results, ms: Math.round(performance.now() - started), passed: results.every((r) => r.outcome !== 'fail') };
}
