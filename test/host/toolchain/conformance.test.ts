// The conformance kit (host/toolchain/conformance/) on real modules: it passes the three
// bundled builds of state.memory and pubsub.memory, and fails, naming the checks, components
// that break the contract: the WAT skeletons that answer ok to everything and keep nothing (a
// store and a broker), a store that advertises TTL and ignores it, and bytes the host will
// not load.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runConformance, type ConformanceReport } from '../../../host/toolchain/conformance/runner.ts';
import { pubSubSuite } from '../../../host/toolchain/conformance/pubsub/suite.ts';
import { stateSuite } from '../../../host/toolchain/conformance/state/suite.ts';
import { formatReport } from '../../../host/toolchain/conformance/table.ts';
import { stateStoreModule, withManifest } from '../../support/state-store-wat.ts';
import { wat } from '../../support/wat.ts';

const BUNDLED = ['state-memory', 'state-memory-rust', 'state-memory-cpp'].map((name) =>
  fileURLToPath(new URL(`../../../components-wasm/${name}/${name}.wasm`, import.meta.url)),
);

const PUBSUB_MEMORY = fileURLToPath(new URL('../../../components-wasm/pubsub-memory/pubsub-memory.wasm', import.meta.url));

/**
 * A broker that answers ok to everything and keeps nothing: every export of the pubsub world
 * with its core signature, its result 64 zero bytes (`ok`, `ok(0)`, `ok([])`), and a bump
 * allocator for the arguments the host lowers.
 */
function brokerSkeleton(): Uint8Array {
  const i32s = (n: number): string => (n === 0 ? '' : ` (param${' i32'.repeat(n)})`);
  const exports: [string, string][] = [
    ['init', i32s(2)], ['features', ''], ['publish', i32s(9)], ['bulk-publish', i32s(6)], ['subscribe', i32s(4)],
    ['pull', ' (param i64 i32 i32)'], ['ack', ' (param i64 i32 i32 i32)'], ['unsubscribe', ' (param i64)'], ['ping', ''],
  ];
  const text = `(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1))) (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))))
    (local.get $ptr))
${exports.map(([fn, params]) => `  (func (export "tessera:components/pubsub@0.1.0#${fn}")${params} (result i32) (i32.const 16))`).join('\n')}
)`;
  return withManifest(wat(text), { kind: 'pubsub', type: 'pubsub.skeleton', version: 'v1', abi: '0.1.0', capabilities: [], description: 'Keeps nothing.' });
}

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
      // Only the AssemblyScript build exports `query` (QUERY_API); the others skip its checks.
      const queries = file.endsWith('/state-memory.wasm');
      assert.deepEqual(report.features.sort(), queries ? ['ETAG', 'QUERY_API', 'TRANSACTIONAL', 'TTL'] : ['ETAG', 'TRANSACTIONAL', 'TTL']);
      assert.equal(report.snapshot, true);
      assert.equal(report.results.length, stateSuite.checks.length + 1, 'the load step, then one result per check');
      const skipped = report.results.filter((r) => r.outcome === 'skip').map((r) => r.area);
      assert.deepEqual(skipped, ['features', 'features', ...(queries ? [] : ['query', 'query', 'query'])], 'only the checks for stores that lack a feature are skipped');
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

describe('the conformance kit on pub/sub brokers', { concurrency: true }, () => {
  test('passes the bundled pubsub.memory, skipping only what needs instances that share their messages', async () => {
    const report = await runConformance(new Uint8Array(await readFile(PUBSUB_MEMORY)), { source: PUBSUB_MEMORY });
    assert.deepEqual(failing(report), [], formatReport(report));
    assert.equal(report.results.length, pubSubSuite.checks.length + 1);
    assert.deepEqual(report.results.filter((r) => r.outcome === 'skip').map((r) => r.name), ['another consumerID gets every message as well']);
  });

  test('fails a broker that answers ok and keeps nothing, naming each check it fails with its reason', async () => {
    const report = await runConformance(brokerSkeleton(), { source: 'broker-skeleton.wasm', timeoutMs: 10_000 });
    assert.equal(report.passed, false);
    assert.equal(report.results[0]!.outcome, 'pass', 'it loads');
    assert.deepEqual([...areasFailing(report)].sort(), ['bulk publish', 'consumer groups', 'delivery', 'redelivery', 'topics']);
    const once = report.results.find((r) => r.name.startsWith('each message comes once'));
    assert.match(once?.reason ?? '', /^"m0", "m1", "m2", "m3", "m4" did not come within 3 s after five publishes on topic "conformance-[0-9a-f]{8}-\d+-once" \(came: nothing\)$/);
    const notFound = report.results.find((r) => r.name.startsWith('pull on a subscription it does not hold'));
    assert.equal(notFound?.reason, 'pull on subscription 3735928559, never made, succeeded');
    assert.ok(report.results.filter((r) => r.area === 'snapshot').every((r) => r.outcome === 'skip'));
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
