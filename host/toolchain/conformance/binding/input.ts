// Input bindings: `read` never hands out more events than asked for (none for 0), under ids
// that are non-empty and unique until acknowledged; `ack` of a handed-out event answers ok
// with either outcome, and of an id never handed out answers not-found or ok, never a trap;
// a read with a 0 ms timeout answers at once. The checks that need events wait up to 3 s
// for them: a binding whose events come from outside needs --metadata that makes them come.
import { ackAll, collect, EVENT_WAIT_MS, exportsInput, fail, noTrap, readOnce, shownResult, skipCheck, tooFewEvents, type Check, type CheckContext } from './harness.ts';

/** Longer than any read with a 0 ms timeout should take, even on a busy machine. */
const PROMPT_MS = 1000;

/** The next event before `deadline`, unacknowledged; skips the check when none comes. */
async function nextEvent(cx: CheckContext, before: number, deadline: number): Promise<{ id: string }> {
  const [event] = await collect(cx, 1, 1, deadline);
  if (event === undefined) skipCheck(tooFewEvents(before, before + 1));
  return event;
}

export const inputChecks: Check[] = [
  {
    area: 'read',
    name: 'read(max, timeout) never answers more than max events: none for 0, at most 1 for 1, at most 2 for 2',
    skip: exportsInput,
    async run(cx) {
      await readOnce(cx, 0, 0);
      // Asking for 1 and 2 in turn; each read checks its own count.
      const got = await collect(cx, 4, [1, 2]);
      await ackAll(cx, got);
      if (got.length === 0) skipCheck(`read(0, 0) answered none; ${tooFewEvents(0, 1)}`);
    },
  },
  {
    area: 'read',
    name: 'event ids are non-empty and unique among the events not yet acknowledged, across reads',
    skip: exportsInput,
    async run(cx) {
      const held = await collect(cx, 3, 1);
      if (held.length < 2) {
        await ackAll(cx, held);
        skipCheck(tooFewEvents(held.length, 2));
      }
      const ids = held.map((e) => e.id);
      if (ids.includes('')) fail(`read handed out an event with an empty id (ids: ${JSON.stringify(ids)})`);
      const twice = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
      if (twice.length > 0) fail(`read handed out id ${twice.map((id) => JSON.stringify(id)).join(', ')} twice before it was acknowledged (ids: ${JSON.stringify(ids)}); the host acknowledges each id once`);
      await ackAll(cx, held);
    },
  },
  {
    area: 'ack',
    name: 'ack of an event it handed out answers ok, with success and with failure',
    skip: exportsInput,
    async run(cx) {
      const deadline = Date.now() + EVENT_WAIT_MS;
      for (const [i, outcome] of (['success', 'failure'] as const).entries()) {
        const event = await nextEvent(cx, i, deadline);
        const result = await noTrap(cx.input.ack(event.id, outcome), `ack(${JSON.stringify(event.id)}, ${outcome})`);
        if (result.tag === 'err') fail(`ack(${JSON.stringify(event.id)}, ${outcome}) of an event it handed out answered ${shownResult(result)}`);
      }
      // A binding that delivers again may hand the failed event back: taken, so nothing is left held.
      await ackAll(cx, await readOnce(cx, 10, 0));
    },
  },
  {
    area: 'ack',
    name: 'ack of an id it never handed out answers not-found or ok, never a trap',
    skip: exportsInput,
    async run(cx) {
      const id = `conformance-never-${cx.subject.runId}`;
      const answers: string[] = [];
      for (const outcome of ['success', 'failure'] as const) {
        const result = await noTrap(cx.input.ack(id, outcome), `ack(${JSON.stringify(id)}, ${outcome}) of an id never handed out`);
        answers.push(`${outcome}: ${result.tag === 'ok' ? 'ok' : result.val.tag}`);
      }
      const expected = answers.every((a) => a.endsWith('not-found')) ? '' : ' (not-found says more)';
      return `an unknown id acknowledged answered ${answers.join(', ')}${expected}`;
    },
  },
  {
    area: 'read',
    name: `read with a 0 ms timeout answers at once (within ${PROMPT_MS / 1000} s)`,
    skip: exportsInput,
    async run(cx) {
      for (let i = 0; i < 2; i++) {
        const started = performance.now();
        const events = await readOnce(cx, 10, 0);
        const ms = performance.now() - started;
        await ackAll(cx, events);
        if (ms > PROMPT_MS) fail(`read(10, 0) took ${(ms / 1000).toFixed(1)} s; with a 0 ms timeout it answers what it has at once`);
      }
    },
  },
];
