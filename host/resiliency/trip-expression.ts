// A circuit breaker's `trip`: a CEL expression over the breaker's counts since it last closed
// or cleared (`requests`, `totalSuccesses`, `totalFailures`, `consecutiveSuccesses`,
// `consecutiveFailures`, as Dapr's gobreaker names them), e.g. `consecutiveFailures > 5`.
// Compiled once per policy; CEL has no loops, so an evaluation is bounded by the expression.
import { createRequire } from 'node:module';
import type { ParseResult } from '@marcbachmann/cel-js';

export interface BreakerCounts {
  requests: number;
  totalSuccesses: number;
  totalFailures: number;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

export interface TripExpression {
  readonly source: string;
  /** Whether the counts trip the breaker; an expression that fails or is not a boolean does not trip it. */
  trips(counts: BreakerCounts): boolean;
}

let celParse: typeof import('@marcbachmann/cel-js').parse | undefined;
/** Loaded with the first breaker: most sidecars run without one (see route-rules.ts). */
function parseCel(source: string): ParseResult {
  celParse ??= (createRequire(import.meta.url)('@marcbachmann/cel-js') as typeof import('@marcbachmann/cel-js')).parse;
  return celParse(source);
}

const SAMPLE: BreakerCounts = { requests: 0, totalSuccesses: 0, totalFailures: 0, consecutiveSuccesses: 0, consecutiveFailures: 0 };

/** CEL counts are integers: the library's int type for numbers. */
function bindings(counts: BreakerCounts): Record<string, bigint> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, BigInt(v)]));
}

/** The compiled expression, or an Error naming why it is not one (not CEL, or not a boolean). */
export function compileTrip(source: string): TripExpression | Error {
  let program: ParseResult;
  try {
    program = parseCel(source);
  } catch (err) {
    return new Error(`${JSON.stringify(source)} is not a CEL expression: ${(err instanceof Error ? err.message : String(err)).split('\n', 1)[0]}`);
  }
  const evaluate = (counts: BreakerCounts): unknown => program(bindings(counts));
  try {
    if (typeof evaluate(SAMPLE) !== 'boolean') return new Error(`${JSON.stringify(source)} is not a boolean expression over requests, totalSuccesses, totalFailures, consecutiveSuccesses and consecutiveFailures`);
  } catch (err) {
    return new Error(`${JSON.stringify(source)} cannot be evaluated: ${(err instanceof Error ? err.message : String(err)).split('\n', 1)[0]}`);
  }
  return {
    source,
    trips(counts) {
      try {
        return evaluate(counts) === true;
      } catch {
        return false;
      }
    },
  };
}
