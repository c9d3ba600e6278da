// Core modules of the test-only `echo` kind (echo-kind.ts), in WAT: `init` and `ping` answer
// `ok`; `echo` answers its text back, or, in a greeter, what the test-only `greeting`
// capability makes of it (`greet`, or `salutation` for empty text).
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import { withManifest } from '../state-store-wat.ts';
import { wat } from '../wat.ts';

const echoExport = (fn: string): string => `tessera:components/echo@${ABI_VERSION}#${fn}`;
const greeting = `tessera:components/greeting@${ABI_VERSION}`;

/** 16 zero bytes: `ok` read as `result<_, error>`. */
const OK_AREA = 16;
/** Where `echo` builds its `result<string, error>` (16 bytes). */
const ECHO_AREA = 32;
/** Where `salutation` writes its string (ptr, len). */
const SALUTATION_AREA = 64;

const ECHO_TEXT = `
    (i32.store8 (i32.const ${ECHO_AREA}) (i32.const 0))
    (i32.store (i32.const ${ECHO_AREA + 4}) (local.get $text))
    (i32.store (i32.const ${ECHO_AREA + 8}) (local.get $len))
    (i32.const ${ECHO_AREA})`;

const GREET = `
    (if (result i32) (i32.eqz (local.get $len))
      (then
        (call $salutation (i32.const ${SALUTATION_AREA}))
        (i32.store8 (i32.const ${ECHO_AREA}) (i32.const 0))
        (i32.store (i32.const ${ECHO_AREA + 4}) (i32.load (i32.const ${SALUTATION_AREA})))
        (i32.store (i32.const ${ECHO_AREA + 8}) (i32.load (i32.const ${SALUTATION_AREA + 4})))
        (i32.const ${ECHO_AREA}))
      (else
        (call $greet (local.get $text) (local.get $len) (i32.const ${ECHO_AREA}))
        (i32.const ${ECHO_AREA})))`;

export interface EchoModuleOptions {
  /** Import `greeting` and answer with it. */
  greets?: boolean;
  /** The manifest's type, `echo.test` by default. */
  type?: string;
}

/** An echo component's bytes: its core module with its manifest. */
export function echoModule(options: EchoModuleOptions = {}): Uint8Array {
  const greets = options.greets ?? false;
  const text = `(module
  ${greets ? `(import "${greeting}" "greet" (func $greet (param i32 i32 i32)))` : ''}
  ${greets ? `(import "${greeting}" "salutation" (func $salutation (param i32)))` : ''}
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1))) (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))
  (func (export "${echoExport('init')}") (param i32 i32) (result i32) (i32.const ${OK_AREA}))
  (func (export "${echoExport('ping')}") (result i32) (i32.const ${OK_AREA}))
  (func (export "${echoExport('echo')}") (param $text i32) (param $len i32) (result i32)
    ${greets ? GREET : ECHO_TEXT}))`;
  return withManifest(wat(text), {
    kind: 'echo',
    type: options.type ?? 'echo.test',
    version: 'v1',
    abi: ABI_VERSION,
    capabilities: greets ? ['greeting'] : [],
    description: 'An echo component for tests.',
  });
}
