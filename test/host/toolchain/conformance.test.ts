// The conformance kit (host/toolchain/conformance/) on real modules: it passes the three
// bundled builds of state.memory, and fails, naming the checks, stores that break the
// contract: the WAT skeleton that answers ok to everything and stores nothing, one that
// advertises TTL and ignores it, and bytes the host will not load.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runConformance, type ConformanceReport } from '../../../host/toolchain/conformance/runner.ts';
import { stateSuite } from '../../../host/toolchain/conformance/state/suite.ts';
import { formatReport } from '../../../host/toolchain/conformance/table.ts';
import { stateStoreModule } from '../../support/state-store-wat.ts';

const BUNDLED = ['state-memory', 'state-memory-rust', 'state-memory-cpp'].map((name) =>
  fileURLToPath(new URL(`../../../components-wasm/${name}/${name}.wasm`, import.meta.url)),
);

const failing = (report: ConformanceReport): string[] => report.results.filter((r) => r.outcome === 'fail').map((r) => `${r.area}: ${r.name}`);
const areasFailing = (report: ConformanceReport): Set<string> => new Set(report.results.filter((r) => r.outcome === 'fail').map((r) => r.area));

/** The skeleton, with `features()` answering `["TTL"]` (the list at 256, its string at 512, the bytes at 768). */
const SKELETON_CLAIMING_TTL = stateStoreModule({
  bodies: { features: '(i32.const 256)' },
  fields: ['(data (i32.const 256) "\\00\\02\\00\\00\\01\\00\\00\\00")', '(data (i32.const 512) "\\00\\03\\00\\00\\03\\00\\00\\00")', '(data (i32.const 768) "TTL")'],
});

describe('the conformance kit on the bundled state.memory builds', { concurrency: true }, () => {
  for (const file of BUNDLED) {
    test(`passes ${file.split('/').at(-1)}: every check runs and passes, in seconds`, async () => {
      const report = await runConformance(new Uint8Array(await readFile(file)), { source: file });
      assert.deepEqual(failing(report), [], formatReport(report));
      assert.equal(report.passed, true);
      assert.deepEqual(report.features.sort(), ['ETAG', 'TRANSACTIONAL', 'TTL']);
      assert.equal(report.snapshot, true);
      assert.equal(report.results.length, stateSuite.checks.length + 1, 'the load step, then one result per check');
      const skipped = report.results.filter((r) => r.outcome === 'skip').map((r) => r.name);
      assert.deepEqual(skipped, ['without ETAG, reads carry no ETag', 'without TTL, reads carry no ttlExpireTime, even after ttlInSeconds'], 'only the checks for stores that lack a feature are skipped');
      // About 1.5 s (the TTL waits) on an idle machine; the bound leaves room for a busy one.
      assert.ok(report.ms < 10_000, `took ${report.ms} ms`);
    });
  }
});

describe('the conformance kit on broken stores', () => {
  test('fails the skeleton that answers ok and stores nothing, naming each failing check with its reason', async () => {
    const report = await runConformance(stateStoreModule(), { source: 'skeleton.wasm' });
    assert.equal(report.passed, false);
    assert.deepEqual(report.features, []);
    assert.deepEqual([...areasFailing(report)].sort(), ['bulk', 'delete', 'features', 'set-get']);
    const int = report.results.find((r) => r.name === 'an int round-trips');
    assert.deepEqual(int && { outcome: int.outcome, reason: int.reason }, {
      outcome: 'fail',
      reason: 'get "conformance||an-int" found nothing after set',
    });
    for (const area of ['etag', 'first-write', 'ttl', 'transactions', 'snapshot']) {
      assert.ok(
        report.results.filter((r) => r.area === area).every((r) => r.outcome === 'skip' && r.reason),
        `${area} checks are skipped, with a reason, for a store that does not advertise the feature`,
      );
    }
  });

  test('fails a store that advertises TTL but ignores it: the TTL checks', async () => {
    const report = await runConformance(SKELETON_CLAIMING_TTL, { source: 'claims-ttl.wasm' });
    assert.deepEqual(report.features, ['TTL']);
    const ttl = report.results.filter((r) => r.area === 'ttl');
    assert.equal(ttl.length, 3);
    assert.ok(ttl.every((r) => r.outcome === 'fail'), JSON.stringify(ttl));
    assert.ok(areasFailing(report).has('ttl'));
    assert.equal(report.results.find((r) => r.name.startsWith('without TTL'))?.outcome, 'skip');
  });

  test('fails at the load step, running nothing else, for bytes the host refuses', async () => {
    const report = await runConformance(stateStoreModule({ manifest: null }), { source: 'no-manifest.wasm' });
    assert.equal(report.passed, false);
    assert.equal(report.results.length, 1);
    assert.equal(report.results[0]!.area, 'load');
    assert.match(report.results[0]!.reason!, /no-manifest\.wasm: no tessera:manifest custom section/);
  });
});

describe('the conformance report as text', () => {
  test('a header, one line per check with the reason after a failure or skip, and the count', async () => {
    const report = await runConformance(stateStoreModule(), { source: 'skeleton.wasm' });
    const lines = formatReport(report).split('\n');
    assert.equal(lines[0], 'conformance of state.skeleton v1 (skeleton.wasm)');
    assert.equal(lines[1], 'features: none; snapshot: not exported');
    assert.match(lines[3]!, /^AREA +CHECK +RESULT$/);
    const rows = lines.slice(4, 4 + report.results.length);
    assert.match(rows[0]!, /^load +compiles, passes the host's load checks, starts \(init\) and answers ping +pass$/);
    assert.ok(rows.some((row) => /^set-get +an int round-trips +FAIL {2}get "conformance\|\|an-int" found nothing after set$/.test(row)), rows.join('\n'));
    assert.ok(rows.some((row) => /^ttl +.* +skip {2}does not advertise TTL$/.test(row)));
    const counts = report.results.reduce((n, r) => ({ ...n, [r.outcome]: n[r.outcome] + 1 }), { pass: 0, fail: 0, skip: 0 });
    assert.match(lines.at(-1)!, new RegExp(`^FAIL: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped \\(\\d+\\.\\d s\\)$`));
  });
});
