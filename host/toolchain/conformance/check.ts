// What a conformance check of any kind is written against: the component under test as loaded
// once, instances of it started as the sidecar starts them, and expectations whose failure
// (or a finding that the check cannot apply) is one line of the report.
import { isTesseraError } from '../../errors.ts';
import { createLogger } from '../../observability/logger.ts';
import type { Grants } from '../../sandbox/capabilities/capability.ts';
import type { CompiledComponent } from '../../sandbox/compiled-component.ts';
import { LiveComponent } from '../../sandbox/live-component.ts';

/** A check did not see what it expected; the message is the reason shown in the report. */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

/** A check found, once running, that it cannot apply to this component; the message says why. */
export class CheckSkipped extends Error {
  override name = 'CheckSkipped';
}

/** The component under test, as loaded once for every check. */
export interface Subject {
  compiled: CompiledComponent;
  /** What `features()` advertised. */
  features: ReadonlySet<string>;
  /** Whether the module exports an optional snapshot interface. */
  snapshot: boolean;
  /** The Component YAML metadata every instance gets at `init` (`--metadata`, plus the kind's defaults). */
  config: ReadonlyMap<string, string>;
  /** What the YAML would grant it (`--annotation tessera.dev/allow-tcp=...`). */
  grants: Grants;
  /** Metadata items over `config` that init must refuse (`--bad-metadata`); empty when none were given. */
  badConfig: ReadonlyMap<string, string>;
  /** Unique to this run, so names kept outside the instance (a Redis stream) never meet an earlier run's. */
  runId: string;
}

export interface Check<Context> {
  /** The area of the checklist, e.g. `etag`; a file of the kind's folder per area. */
  area: string;
  /** What is checked, said as what a passing component does. */
  name: string;
  /** Why the check does not apply to this component, or undefined when it does. */
  skip?(subject: Subject): string | undefined;
  /** Resolves when the check passes, to a note for the report (what the component answered where more than one answer passes), if any. */
  run(cx: Context): Promise<void | string>;
}

/** For `Check.skip`: the check applies only to a component that advertises `feature`. */
export const needs =
  (...features: string[]) =>
  (subject: Subject): string | undefined => {
    const absent = features.filter((f) => !subject.features.has(f));
    return absent.length === 0 ? undefined : `does not advertise ${absent.join(' or ')}`;
  };

/** For `Check.skip`: the check applies only to a component that does not advertise `feature`. */
export const lacks =
  (feature: string) =>
  (subject: Subject): string | undefined =>
    subject.features.has(feature) ? `advertises ${feature}` : undefined;

/** Starts one more instance of the component under test (with `config` instead of the subject's); closed after the check. */
export type StartInstance = (config?: ReadonlyMap<string, string>) => Promise<LiveComponent>;

/** The conformance suite of one component kind. */
export interface Suite<Context> {
  /** The manifest's `kind` it checks. */
  kind: string;
  /** What the report calls such a component. */
  noun: string;
  checks: readonly Check<Context>[];
  /** The report's line on what the component is, in place of its features and snapshot exports. */
  summary?(subject: Subject): string;
  /** The YAML metadata the host would add (a broker's `consumerID`), for a run named `runId`. */
  withDefaults?(config: ReadonlyMap<string, string>, runId: string): ReadonlyMap<string, string>;
  /** The context of one check, over its first instance. */
  context(subject: Subject, first: LiveComponent, start: StartInstance): Context;
}

/**
 * Starts an instance as the sidecar does; component log lines at warn and above go to
 * `logs`, so a failure can quote what the component said (an abort, a panic) before a trap.
 */
export function startLive(subject: Pick<Subject, 'compiled' | 'grants'>, config: ReadonlyMap<string, string>, logs: string[]): Promise<LiveComponent> {
  const logger = createLogger({ level: 'warn', json: true, write: (line) => logs.push((JSON.parse(line) as { msg: string }).msg) });
  return LiveComponent.start(subject.compiled, { name: 'component-under-test', config, logger, grants: subject.grants });
}

export function fail(reason: string): never {
  throw new CheckFailure(reason);
}

export function skipCheck(reason: string): never {
  throw new CheckSkipped(reason);
}

const encoder = new TextEncoder();
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** Bytes for a message: the text when it is short printable UTF-8, else its length and head. */
export function describeBytes(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return 'nothing';
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.length <= 40 && !/[\u0000-\u001f]/.test(text)) return `${JSON.stringify(text)} (${bytes.length} bytes)`;
  } catch {
    // binary: described below
  }
  const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${bytes.length} bytes (${head}${bytes.length > 8 ? ' ...' : ''})`;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A call's result as a word: `ok`, or the component's error case (`etag-mismatch`, ...). A trap rejects. */
export async function outcome(call: Promise<unknown>): Promise<{ tag: string; message?: string }> {
  try {
    await call;
    return { tag: 'ok' };
  } catch (err) {
    if (isTesseraError(err) && err.componentError) return { tag: err.componentError.tag, message: err.componentError.val };
    throw err;
  }
}

/** The call fails with the component error `tag`. */
export async function expectRefused(call: Promise<unknown>, tag: string, what: string): Promise<void> {
  const got = await outcome(call);
  if (got.tag === 'ok') fail(`${what} succeeded; expected it refused with ${tag}`);
  if (got.tag !== tag) fail(`${what} was refused with ${got.tag} (${got.message}); expected ${tag}`);
}

/** The call succeeds; a component error is the failure reason. */
export async function expectAccepted(call: Promise<unknown>, what: string): Promise<void> {
  const got = await outcome(call);
  if (got.tag !== 'ok') fail(`${what} was refused with ${got.tag}: ${got.message}`);
}

/** Metadata value by name. */
export const metadataValue = (metadata: readonly [string, string][], name: string): string | undefined =>
  metadata.find(([k]) => k === name)?.[1];

/** The check that a component advertises only features its kind knows (as Dapr names them), each once. */
export function advertisesOnly<Context extends { live: LiveComponent }>(known: readonly string[]): Check<Context> {
  return {
    area: 'features',
    name: `advertises only ${known.join(', ')}, each at most once`,
    async run({ live }) {
      const features = (await live.call('features', [])) as string[];
      const unknown = features.filter((f) => !known.includes(f));
      if (unknown.length > 0) fail(`features() lists ${unknown.map((f) => JSON.stringify(f)).join(', ')}, which ABI 0.1.0 does not know (it knows ${known.join(', ')})`);
      const twice = features.filter((f, i) => features.indexOf(f) !== i);
      if (twice.length > 0) fail(`features() lists ${[...new Set(twice)].join(', ')} more than once`);
    },
  };
}
