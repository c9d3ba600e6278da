// What every binding check is written against: the binding's exports called straight (not
// through the host's adapter, which refuses an unlisted operation before the component sees
// it), answers that tell a component's error from a trap, and reads that wait a bounded
// while, in short timeouts, for events.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BindingEvent } from '../../../../abi/ts/binding.ts';
import type { WitError, WitResult } from '../../../../abi/ts/types.ts';
import { inputExports, type InputExports } from '../../../../abi/ts/wit/input.ts';
import { outputExports, type OutputExports } from '../../../../abi/ts/wit/output.ts';
import type { LiveComponent } from '../../../sandbox/live-component.ts';
import { fail, type Check as KitCheck, type StartInstance, type Subject } from '../check.ts';

export { describeBytes, fail, skipCheck, utf8 } from '../check.ts';

export interface CheckContext {
  subject: Subject;
  /** The check's own instance. */
  live: LiveComponent;
  /** Its `output` exports; an error is a result, a trap a rejection. */
  output: OutputExports;
  /** Its `input` exports, likewise. */
  input: InputExports;
  /** Another instance, with `config` (the subject's by default); closed after the check. */
  start: StartInstance;
}

export type Check = KitCheck<CheckContext>;

export const contextOver = (subject: Subject, live: LiveComponent, start: StartInstance): CheckContext => {
  const call = (fn: string, args: unknown[]): Promise<unknown> => live.call(fn, args);
  return { subject, live, start, output: outputExports(call, 'output#'), input: inputExports(call, 'input#') };
};

/** For `Check.skip`: the module exports `output`. */
export const exportsOutput = (subject: Subject): string | undefined =>
  subject.compiled.optionalExports.has('output') ? undefined : 'not an output binding (it exports no `output`)';
/** For `Check.skip`: the module exports `input`. */
export const exportsInput = (subject: Subject): string | undefined =>
  subject.compiled.optionalExports.has('input') ? undefined : 'not an input binding (it exports no `input`)';

/** What a call answered, or a failure naming `what` when the component trapped instead. */
export async function noTrap<T>(call: Promise<T>, what: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    fail(`${what} trapped: ${(err as Error).message}`);
  }
}

/** A result in a word or two: `ok`, or `err(not-found): the message`. */
export const shownResult = (result: WitResult<unknown, WitError>): string =>
  result.tag === 'ok' ? 'ok' : `err(${result.val.tag}): ${result.val.val}`;

/** The list `items`, shortened to its first few for a message. */
export function shownList(items: string[], max = 8): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown}, and ${items.length - max} more` : shown;
}

/** How long events that should come are waited for. */
export const EVENT_WAIT_MS = 3000;
/** The timeout of each read of a binding that can wait; so a wait is many short reads. */
const READ_TIMEOUT_MS = 100;
/** The pause between reads of a binding that answers at once (it cannot wait: it imports nothing that suspends). */
const POLL_MS = 10;

/** A binding can wait in `read` only when it imports something that suspends (sleep, tcp, http). */
export const canWait = (cx: CheckContext): boolean => cx.live.compiled.needsJspi;

/** One read; fails when it traps, answers an error, or hands out more than `max` events. */
export async function readOnce(cx: CheckContext, max: number, timeoutMs = canWait(cx) ? READ_TIMEOUT_MS : 0): Promise<BindingEvent[]> {
  const what = `read(${max}, ${timeoutMs})`;
  const result = await noTrap(cx.input.read(max, timeoutMs), what);
  if (result.tag === 'err') fail(`${what} answered ${shownResult(result)}`);
  if (result.val.length > max) fail(`${what} answered ${result.val.length} events, more than the ${max} it was asked for`);
  return result.val;
}

/**
 * Reads until `count` events came or `deadline` (EVENT_WAIT_MS from now) passed, asking for
 * `max` at a time, or for each of `max` in turn; what came, unacknowledged.
 */
export async function collect(cx: CheckContext, count: number, max: number | number[] = count, deadline = Date.now() + EVENT_WAIT_MS): Promise<BindingEvent[]> {
  const got: BindingEvent[] = [];
  const maxes = typeof max === 'number' ? [max] : max;
  for (let n = 0; got.length < count && Date.now() < deadline; n++) {
    const batch = await readOnce(cx, Math.min(maxes[n % maxes.length]!, count - got.length));
    got.push(...batch);
    if (batch.length === 0 && !canWait(cx)) await sleep(POLL_MS);
  }
  return got;
}

/** Why an event check cannot run: too few events came. */
export const tooFewEvents = (got: number, wanted: number): string =>
  `${got === 0 ? 'no event' : `only ${got} of ${wanted} events`} came within ${EVENT_WAIT_MS / 1000} s; give --metadata that makes events come sooner (e.g. a schedule of @every 100ms)`;

/** Acknowledges `events` with success, failing on a trap or an error. */
export async function ackAll(cx: CheckContext, events: BindingEvent[]): Promise<void> {
  for (const e of events) {
    const result = await noTrap(cx.input.ack(e.id, 'success'), `ack(${JSON.stringify(e.id)}, success)`);
    if (result.tag === 'err') fail(`ack(${JSON.stringify(e.id)}, success) of an event it handed out answered ${shownResult(result)}`);
  }
}
