// The binding suite: every check, in the order the report lists them, each on an instance of
// its own. Which of them apply follows what the module exports: `output`, `input` or both.
import type { Suite } from '../check.ts';
import { contextOver, type CheckContext } from './harness.ts';
import { initChecks } from './init.ts';
import { inputChecks } from './input.ts';
import { outputChecks } from './output.ts';

export const bindingSuite: Suite<CheckContext> = {
  kind: 'binding',
  noun: 'bindings',
  checks: [...initChecks, ...outputChecks, ...inputChecks],
  summary: (subject) => `directions: ${['input', 'output'].filter((d) => subject.compiled.optionalExports.has(d)).join(', ')}`,
  context: contextOver,
};
