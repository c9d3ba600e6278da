// The record field code the canonical ABI makes per record type: fields read and built in
// their order, at their offsets, and nothing but identifiers ever written into code.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { recordBuilder, recordVisitor } from '../../../host/sandbox/record-code.ts';

it('builds a record from its fields in order, each at its offset, all of one shape', () => {
  const seen: string[] = [];
  const part = (name: string) => (at: number) => (seen.push(`${name}@${at}`), `${name}:${at}`);
  const build = recordBuilder(['key', 'value', 'contentType'], [part('key'), part('value'), part('contentType')], [0, 8, 20]);
  const a = build(100);
  assert.deepEqual(a, { key: 'key:100', value: 'value:108', contentType: 'contentType:120' });
  assert.deepEqual(Object.keys(a), ['key', 'value', 'contentType']);
  assert.deepEqual(seen, ['key@100', 'value@108', 'contentType@120']);
  // From flat values: every field reads the same argument.
  const flat = recordBuilder(['a', 'b'], [(f: number[]) => f.shift(), (f: number[]) => f.shift()]);
  assert.deepEqual(flat([1, 2]), { a: 1, b: 2 });
});

it('hands each field of a record to its writer in order, at its offset; a missing field is undefined', () => {
  const written: unknown[] = [];
  const write = recordVisitor(['key', 'metadata'], [(v: unknown, at: number) => written.push(['key', v, at]), (v: unknown, at: number) => written.push(['metadata', v, at])], [0, 8]);
  write({ metadata: [['a', 'b']], key: 'k', extra: 1 }, 40);
  write({ key: 'j' }, 0);
  assert.deepEqual(written, [['key', 'k', 40], ['metadata', [['a', 'b']], 48], ['key', 'j', 0], ['metadata', undefined, 8]]);
});

it('refuses a field name that is not an identifier, and offsets that are not one integer a field', () => {
  assert.throws(() => recordBuilder(['ok', 'x"]);process.exit(1);//'], [() => 1, () => 2]), /not an identifier/);
  assert.throws(() => recordVisitor(['a-b'], [() => {}]), /not an identifier/);
  assert.throws(() => recordBuilder(['a', 'b'], [() => 1, () => 2], [0]), /one integer per field/);
  assert.throws(() => recordBuilder(['a'], [() => 1], [1.5]), /one integer per field/);
});

it('builds and visits records the same where code cannot be made from strings', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const script = `
    import { recordBuilder, recordVisitor } from ${JSON.stringify(new URL('../../../host/sandbox/record-code.ts', import.meta.url).href)};
    const built = recordBuilder(['a', 'b'], [(p) => p, (p) => p * 2], [0, 4])(10);
    const flat = recordBuilder(['a', 'b'], [(f) => f[0], (f) => f[1]])([7, 8]);
    const seen = [];
    recordVisitor(['a', 'b'], [(v, p) => seen.push([v, p]), (v, p) => seen.push([v, p])], [0, 4])({ a: 1, b: 2 }, 100);
    let evalRefused = false;
    try { new Function('return 1'); } catch { evalRefused = true; }
    console.log(JSON.stringify({ built, flat, seen, evalRefused }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script]);
  assert.deepEqual(JSON.parse(stdout), { built: { a: 10, b: 28 }, flat: { a: 7, b: 8 }, seen: [[1, 100], [2, 104]], evalRefused: true });
});
