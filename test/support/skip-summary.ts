// A test reporter that ends the run with one line: the tests (or whole suites) skipped and why (each reason
// names the Debian packages to install, test/support/tools.ts), or that none was. It runs
// beside the usual reporter (`npm test` names both).
import type { TestEvent } from 'node:test/reporters';

export default async function* skipSummary(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const reasons = new Map<string, number>();
  let skipped = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const skip = event.data.skip;
    if (skip === undefined || skip === false) continue;
    skipped++;
    const reason = typeof skip === 'string' ? skip : 'no reason given';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  if (skipped === 0) {
    yield 'tessera: no test skipped\n';
    return;
  }
  const parts = [...reasons].map(([reason, n]) => `${n} ${reason}`);
  yield `tessera: skipped ${skipped} (tests, or whole suites): ${parts.join('; ')}\n`;
}
