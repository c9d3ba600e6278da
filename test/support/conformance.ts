// The conformance kit's suite for a component's kind (host/toolchain/conformance/) as node:test
// tests, one per check, so a component's own test file states only what is specific to it.
import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import { prepareConformance, type ConformanceOptions } from '../../host/toolchain/conformance/runner.ts';

export interface KitOptions extends Omit<ConformanceOptions, 'source'> {
  /** The file the bytes came from, for messages. */
  source: string;
}

/**
 * Declares `the conformance kit on <label>`: the load step and each check of the suite as a
 * test of its own (side by side); where the kit finds a check does not apply, the test says why.
 * `setup` runs when the suite is declared, so it can start what the component needs (a Redis);
 * its `close`, if any, runs after the suite.
 */
export function conformanceTests(
  label: string,
  setup: () => Promise<{ bytes: Uint8Array; close?: () => Promise<void> } & KitOptions>,
  options: { skip?: string | boolean } = {},
): void {
  describe(`the conformance kit on ${label}`, { concurrency: true, ...options }, async () => {
    if (options.skip) return;
    const { bytes, close, ...kit } = await setup();
    if (close) after(close);
    const prepared = await prepareConformance(bytes, kit);
    test(`load: ${prepared.load.name}`, () => {
      if (prepared.load.outcome === 'fail') assert.fail(prepared.load.reason);
    });
    for (const check of prepared.checks) {
      test(`${check.area}: ${check.name}`, async (t: TestContext) => {
        const result = await check.run();
        // Not a skip (those are for a missing tool): the kit decided the check does not apply
        // to this component (a feature it does not advertise), which the test reports.
        if (result.outcome === 'skip') t.diagnostic(`does not apply: ${result.reason}`);
        if (result.outcome === 'pass' && result.reason !== undefined) t.diagnostic(result.reason);
        if (result.outcome === 'fail') assert.fail(result.reason);
      });
    }
  });
}
