// The conformance report as text: a header naming the component, one line per check (the
// reason after a failure or a skip), and a count.
import type { ConformanceReport } from './runner.ts';

const WORDS = { pass: 'pass', fail: 'FAIL', skip: 'skip' } as const;

export function formatReport(report: ConformanceReport): string {
  const { manifest } = report;
  const what = manifest === undefined ? report.source : `${manifest.type} ${manifest.version} (${report.source})`;
  const lines = [`conformance of ${what}`];
  if (report.summary !== undefined) lines.push(report.summary);
  lines.push('');
  const areaWidth = Math.max(4, ...report.results.map((r) => r.area.length));
  const nameWidth = Math.max(5, ...report.results.map((r) => r.name.length));
  lines.push(`${'AREA'.padEnd(areaWidth)}  ${'CHECK'.padEnd(nameWidth)}  RESULT`);
  for (const r of report.results) {
    const reason = r.reason === undefined ? '' : `  ${r.reason}`;
    lines.push(`${r.area.padEnd(areaWidth)}  ${r.name.padEnd(nameWidth)}  ${WORDS[r.outcome]}${reason}`.trimEnd());
  }
  const count = (outcome: keyof typeof WORDS): number => report.results.filter((r) => r.outcome === outcome).length;
  lines.push('');
  lines.push(
    `${report.passed ? 'PASS' : 'FAIL'}: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped ` +
      `(${(report.ms / 1000).toFixed(1)} s)`,
  );
  return lines.join('\n');
}
