// Test guests for the canonical ABI: WAT modules with a memory and a bump-allocator
// cabi_realloc, so lifting and lowering run through real WebAssembly memory.
import assert from 'node:assert/strict';
import { isTesseraError } from '../../../host/errors.ts';
import { GuestMemory } from '../../../host/sandbox/canonical-abi.ts';
import { parseWitPackage } from '../../../host/sandbox/wit/parser.ts';
import type { WitFunction, WitPackage, WitType } from '../../../host/sandbox/wit/ast.ts';
import { wat } from '../../support/wat.ts';

/** Bumps a pointer from 1024, grows memory when it runs out, copies the old block on realloc. */
const BUMP_REALLOC = `
  (global $bump (export "bump") (mut i32) (i32.const 1024))
  (func $cabi_realloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $p) (local.get $new_size)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then (if (i32.eq (i32.const -1)
                  (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16))) (i32.const 65535))
                                          (i32.const 16))))
              (then unreachable))))
    (global.set $bump (local.get $end))
    (if (local.get $old_size)
      (then (memory.copy (local.get $p) (local.get $old)
              (select (local.get $old_size) (local.get $new_size) (i32.lt_u (local.get $old_size) (local.get $new_size))))))
    (local.get $p))`;

export interface Guest {
  exports: Record<string, any>;
  memory: WebAssembly.Memory;
  mem: GuestMemory;
}

/** Instantiates `(module imports memory realloc body)` and binds a GuestMemory to it. */
export async function instantiateGuest(body = '', imports = '', importObject: WebAssembly.Imports = {}, mem = new GuestMemory()): Promise<Guest> {
  const bytes = wat(`(module ${imports} (memory (export "memory") 1) ${BUMP_REALLOC} ${body})`);
  const { instance } = await WebAssembly.instantiate(bytes, importObject);
  const exports = instance.exports as Record<string, any>;
  const memory = exports.memory as WebAssembly.Memory;
  mem.bind(memory, exports.cabi_realloc);
  return { exports, memory, mem };
}

/** Helper types in scope for `witType`: an enum with 257 cases and flags of 8, 9 and 32. */
const cases = Array.from({ length: 257 }, (_, i) => `c${i}`);
const HELPERS = `
  enum e257 { ${cases.join(', ')} }
  flags flags8 { ${cases.slice(0, 8).join(', ')} }
  flags flags9 { ${cases.slice(0, 9).join(', ')} }
  flags flags32 { ${cases.slice(0, 32).join(', ')} }
  variant mixed { a(f32), b(u32), c(u64), d(f64), e(tuple<f32, u8>), f(string), g }
  record point { x: s16, y: s16, label-text: string }`;

/** The WIT type `text`, with the helper types in scope. */
export function witType(text: string): WitType {
  return parseWitPackage([{ file: 't.wit', text: `package t:t@0.1.0; interface t { ${HELPERS} type t = ${text}; }` }])
    .interfaces.get('t')!
    .types.get('t')!;
}

/** A package of one interface `t` declaring `funcs` (with the helper types in scope). */
export function witPackage(funcs: string): WitPackage {
  return parseWitPackage([{ file: 't.wit', text: `package test:guest@0.1.0; interface t { ${HELPERS} ${funcs} }` }]);
}

export function witFunction(pkg: WitPackage, name: string): WitFunction {
  return pkg.interfaces.get('t')!.functions.find((f) => f.name === name)!;
}

/** Asserts `fn` throws the guest-misbehaved error, its message naming the call `label`. */
export function assertTrap(fn: () => unknown, label: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => isTesseraError(err, 'ERR_COMPONENT_TRAP') && err.message.startsWith(`${label}: `) && pattern.test(err.message));
}
