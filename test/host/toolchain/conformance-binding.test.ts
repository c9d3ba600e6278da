// The conformance kit's binding suite (host/toolchain/conformance/binding/) on bindings in
// WAT (test/support/binding-wat.ts): a good output binding (`echo`), a good input binding
// (one event per read) and one that is both pass; one whose operations() repeats a name, one that traps on
// an operation it does not list, and one that hands out more events than asked for fail,
// naming the check and why. --bad-metadata: a binding that refuses it with invalid-argument
// naming the key passes, one that accepts it fails.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bindingSuite } from '../../../host/toolchain/conformance/binding/suite.ts';
import { runConformance, type ConformanceOptions, type ConformanceReport } from '../../../host/toolchain/conformance/runner.ts';
import { formatReport } from '../../../host/toolchain/conformance/table.ts';
import { bindingModule } from '../../support/binding-wat.ts';

const run = (bytes: Uint8Array, options: Partial<ConformanceOptions> = {}): Promise<ConformanceReport> => runConformance(bytes, { source: 'binding.wasm', ...options });
const byOutcome = (report: ConformanceReport, outcome: 'pass' | 'fail' | 'skip'): string[] =>
  report.results.filter((r) => r.outcome === outcome).map((r) => `${r.area}: ${r.name}`);
const resultOf = (report: ConformanceReport, start: string) => report.results.find((r) => r.name.startsWith(start));
const checksIn = (area: string): number => bindingSuite.checks.filter((c) => c.area === area).length;
const BAD_METADATA = { badConfig: new Map([['mode', 'loud']]) };

describe('the conformance kit on output bindings', { concurrency: true }, () => {
  test('passes a good output binding; the input checks and the --bad-metadata one say why they do not apply', async () => {
    const report = await run(bindingModule());
    assert.deepEqual(byOutcome(report, 'fail'), [], formatReport(report));
    assert.equal(report.results.length, bindingSuite.checks.length + 1);
    assert.equal(report.summary, 'directions: output');
    const skipped = report.results.filter((r) => r.outcome === 'skip');
    assert.equal(skipped.length, checksIn('read') + checksIn('ack') + 1);
    assert.ok(skipped.every((r) => r.reason === 'not an input binding (it exports no `input`)' || r.reason!.startsWith('no --bad-metadata given')), JSON.stringify(skipped));
    assert.equal(resultOf(report, 'operations() lists')?.reason, 'operations: echo');
    assert.equal(resultOf(report, 'every operation it lists')?.reason, 'echo: ok');
    assert.equal(resultOf(report, 'a repeated invocation')?.reason, 'compared: echo');
    assert.equal(resultOf(report, 'kind binding')?.reason, 'bindings.echo exports binding, output');
    assert.match(formatReport(report), /^directions: output$/m);
  });

  test('fails one whose operations() repeats a name, naming the check and the name', async () => {
    const report = await run(bindingModule({ echoListed: 2 }));
    assert.deepEqual(byOutcome(report, 'fail'), ['operations: operations() lists at least one operation, each once, none with an empty name']);
    assert.equal(resultOf(report, 'operations() lists')?.reason, 'operations() lists "echo" more than once (it lists ["echo","echo"])');
  });

  test('fails one that traps on an operation it does not list: the trap is named, and the other checks still pass', async () => {
    const report = await run(bindingModule({ unknownOperation: 'trap' }));
    assert.deepEqual(byOutcome(report, 'fail'), ['invoke: an operation it does not list is refused with invalid-argument, not a trap']);
    assert.match(resultOf(report, 'an operation it does not list')!.reason!, /^invoke of "conformance-unlisted-[0-9a-f]{8}" with JSON data trapped: .*unreachable/);
  });

  test('--bad-metadata: passes one whose init refuses it with invalid-argument naming the key; fails one that accepts it', async () => {
    const refusing = await run(bindingModule({ refusesMetadata: true }), BAD_METADATA);
    assert.deepEqual(byOutcome(refusing, 'fail'), [], formatReport(refusing));
    assert.equal(resultOf(refusing, 'init refuses bad metadata')?.outcome, 'pass');
    const accepting = await run(bindingModule(), BAD_METADATA);
    assert.deepEqual(byOutcome(accepting, 'fail'), ['init: init refuses bad metadata (--bad-metadata) with invalid-argument, naming the key or the value']);
    assert.equal(resultOf(accepting, 'init refuses bad metadata')?.reason, 'init accepted mode=loud; metadata it cannot use fails init with invalid-argument');
  });
});

describe('the conformance kit on input bindings', { concurrency: true }, () => {
  test('passes a good input binding; the output checks say why they do not apply', async () => {
    const report = await run(bindingModule({ output: false, input: true }));
    assert.deepEqual(byOutcome(report, 'fail'), [], formatReport(report));
    assert.equal(report.summary, 'directions: input');
    const skipped = report.results.filter((r) => r.outcome === 'skip');
    assert.equal(skipped.length, checksIn('operations') + checksIn('invoke') + 1);
    assert.equal(resultOf(report, 'ack of an id it never handed out')?.reason, 'an unknown id acknowledged answered success: ok, failure: ok (not-found says more)');
  });

  test('fails one that hands out more events than asked for, naming the check and the counts', async () => {
    const report = await run(bindingModule({ output: false, input: true, eventsPerRead: 'two' }));
    const read = resultOf(report, 'read(max, timeout) never answers more than max');
    assert.deepEqual([read?.outcome, read?.reason], ['fail', 'read(0, 0) answered 2 events, more than the 0 it was asked for']);
    assert.equal(resultOf(report, 'event ids are non-empty')?.reason, 'read(1, 0) answered 2 events, more than the 1 it was asked for');
  });

  test('passes a binding that is both: every check applies but --bad-metadata\'s', async () => {
    const report = await run(bindingModule({ input: true }));
    assert.deepEqual(byOutcome(report, 'fail'), [], formatReport(report));
    assert.equal(report.summary, 'directions: input, output');
    assert.deepEqual(byOutcome(report, 'skip'), ['init: init refuses bad metadata (--bad-metadata) with invalid-argument, naming the key or the value']);
  });
});
