// The field loops of the canonical ABI's records, as code made once per record type with the
// field names written in. A generic loop (`o[names[i]] = ...`, `v[names[i]]`) sees every field
// name of every record at one property access, so V8 gives up on it (a megamorphic access: a
// stub-cache probe per field, on every call); with the names written in, each access sees one
// name and one shape, and a lifted record is one object literal of a fixed shape. Every
// component call lowers and lifts records (a state get lowers its request and lifts its
// response), so this is the ABI's hot path. The names are WIT identifiers turned camelCase
// (checked again here) and enter the code as JSON string literals; offsets as integers.
// Where code cannot be made from strings (`--disallow-code-generation-from-strings`), the
// generic loops serve instead: slower, the same results.

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function checked(names: readonly string[], offsets: readonly number[] | undefined): void {
  for (const name of names) if (!IDENTIFIER.test(name)) throw new Error(`record field "${name}" is not an identifier`);
  if (offsets !== undefined && (offsets.length !== names.length || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))) throw new Error('record offsets must be one integer per field');
}

/** `+ offset` for field `i`, or nothing when the fields share the argument (flat values). */
const plus = (offsets: readonly number[] | undefined, i: number): string => (offsets === undefined || offsets[i] === 0 ? '' : ` + ${offsets[i]}`);

/**
 * `(at) => ({ name0: parts[0](at + offsets[0]), ... })`, the fields in order: a record lifted
 * from guest memory (`at` its address), or from flat values (`at` the values, no offsets).
 */
export function recordBuilder<A>(names: readonly string[], parts: readonly ((at: A) => unknown)[], offsets?: readonly number[]): (at: A) => Record<string, unknown> {
  checked(names, offsets);
  const fields = names.map((name, i) => `${JSON.stringify(name)}: parts[${i}](at${plus(offsets, i)})`).join(', ');
  const made = madeFrom(`return (at) => ({ ${fields} });`, parts);
  if (made !== undefined) return made as (at: A) => Record<string, unknown>;
  return (at) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) o[names[i]!] = parts[i]!(offsets === undefined ? at : ((at as number) + offsets[i]!) as A);
    return o;
  };
}

/**
 * `(v, at) => { parts[0](v.name0, at + offsets[0]); ... }`, the fields in order: a record
 * lowered into guest memory (`at` its address), or into flat values (`at` the array, no offsets).
 */
export function recordVisitor<A>(names: readonly string[], parts: readonly ((value: unknown, at: A) => void)[], offsets?: readonly number[]): (v: Record<string, unknown>, at: A) => void {
  checked(names, offsets);
  const calls = names.map((name, i) => `parts[${i}](v[${JSON.stringify(name)}], at${plus(offsets, i)});`).join(' ');
  const made = madeFrom(`return (v, at) => { ${calls} };`, parts);
  if (made !== undefined) return made as (v: Record<string, unknown>, at: A) => void;
  return (v, at) => {
    for (let i = 0; i < names.length; i++) parts[i]!(v[names[i]!], offsets === undefined ? at : ((at as number) + offsets[i]!) as A);
  };
}

/**
 * Compiled code by its source: one per record shape (names and offsets) in the process, so an
 * instance made later (a pool's next one, a wake from hibernation, a swap) pays a lookup, not a
 * compile (~25 µs each, tens of them a component). Bounded by the ABI's record types.
 */
const made = new Map<string, (parts: readonly unknown[]) => unknown>();

/** The function `body` returns, made with `parts` in scope; undefined where code cannot be made from strings. */
function madeFrom(body: string, parts: readonly unknown[]): unknown {
  let factory = made.get(body);
  if (factory === undefined) {
    try {
      factory = new Function('parts', `"use strict"; ${body}`) as (parts: readonly unknown[]) => unknown;
    } catch (err) {
      if (err instanceof EvalError) return undefined;
      throw err;
    }
    made.set(body, factory);
  }
  return factory(parts);
}
