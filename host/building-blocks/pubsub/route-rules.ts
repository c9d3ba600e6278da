// A subscription's routing rules: CEL `match` expressions, each compiled once, evaluated in
// order against the delivered CloudEvent bound as `event` (as daprd's pkg/expr does); the
// first that holds names the app path, and a rule without `match` (the default) always holds.
import { createRequire } from 'node:module';
import type { ParseResult } from '@marcbachmann/cel-js';
import { TesseraError } from '../../errors.ts';

let celParse: typeof import('@marcbachmann/cel-js').parse | undefined;
/**
 * The CEL parser, loaded on the first rule with a `match`: most sidecars route without one,
 * and loading the library is ~25 ms of a start. `require` of an ES module loads it at once,
 * where it is needed, as the constructor that needs it is synchronous.
 */
function parseCel(source: string): ParseResult {
  celParse ??= (createRequire(import.meta.url)('@marcbachmann/cel-js') as typeof import('@marcbachmann/cel-js')).parse;
  return celParse(source);
}

/**
 * Expressions compiled lately, and why those that are not CEL are not: the subscriptions are
 * built again at every scan of the resources folders, and a compile costs ~40 us on the event
 * loop, so an unchanged folder compiles nothing. Oldest out first past the bound.
 */
const compiled = new Map<string, ParseResult | { invalid: string }>();
const MAX_COMPILED = 4096;

function compileCel(source: string): ParseResult | { invalid: string } {
  let program = compiled.get(source);
  if (program === undefined) {
    try {
      program = parseCel(source);
    } catch (err) {
      program = { invalid: firstLine(err) };
    }
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(source, program);
  }
  return program;
}

export class RouteRule {
  /** The CEL source; empty for the default route. */
  readonly match: string;
  readonly path: string;
  readonly #program: ParseResult | undefined;

  /** Throws when `match` is not valid CEL; the message names the expression. */
  constructor(match: string, path: string) {
    this.match = match.trim();
    this.path = path;
    if (this.match === '') return;
    const program = compileCel(this.match);
    if (typeof program !== 'function') throw new TesseraError('ERR_COMPONENT_CONFIG', `invalid match expression ${JSON.stringify(this.match)}: ${program.invalid}`);
    this.#program = program;
  }

  /** Whether the event takes this route; throws when the expression fails or is not a boolean. */
  holdsFor(event: unknown): boolean {
    if (this.#program === undefined) return true;
    let result: unknown;
    try {
      result = this.#program({ event });
    } catch (err) {
      throw new TesseraError('ERR_INTERNAL', `match expression ${JSON.stringify(this.match)} failed: ${firstLine(err)}`);
    }
    if (typeof result !== 'boolean') {
      throw new TesseraError('ERR_INTERNAL', `the result of match expression ${JSON.stringify(this.match)} was not a boolean`);
    }
    return result;
  }

  toJSON(): { match?: string; path: string } {
    return this.match === '' ? { path: this.path } : { match: this.match, path: this.path };
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n', 1)[0]!;
}

/** The path of the first rule that holds for `event`, or undefined when none does. */
export function routeFor(rules: readonly RouteRule[], event: unknown): string | undefined {
  for (const rule of rules) if (rule.holdsFor(event)) return rule.path;
  return undefined;
}
