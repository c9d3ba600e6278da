// Bindings as core modules in WAT, for the conformance kit's tests: `binding` (init, ping)
// plus `output` (an `echo` operation) and/or `input` (one event per read, ids "a".."z"),
// each export with its canonical-ABI core signature and its result written to a fixed area
// of memory; options break one thing each (a repeated operation name, a trap, too many
// events, init refusing metadata).
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { reallocWat, withManifest } from './state-store-wat.ts';
import { wat } from './wat.ts';

export interface BindingOptions {
  /** Export `output` (true by default). */
  output?: boolean;
  /** How many times operations() lists `echo` (once by default). */
  echoListed?: number;
  /** Export `input` (false by default). */
  input?: boolean;
  /** What invoke does with an operation other than echo: refuse it (invalid-argument) or trap. */
  unknownOperation?: 'refuse' | 'trap';
  /** Events a read hands out: one when asked for any (the contract), or always two. */
  eventsPerRead?: 'one' | 'two';
  /** Whether init refuses any metadata with invalid-argument "unknown metadata mode". */
  refusesMetadata?: boolean;
}

const exportName = (iface: string, fn: string): string => `tessera:components/${iface}@${ABI_VERSION}#${fn}`;
/** An i32 as WAT data-string bytes, little-endian. */
const le32 = (n: number): string => [0, 8, 16, 24].map((shift) => `\\${((n >>> shift) & 0xff).toString(16).padStart(2, '0')}`).join('');

// Fixed places in the fixture's memory; the heap starts above them.
const ZERO = 16; // 64 zero bytes: `ok` of any result without payload
const OPERATIONS = 256; // list<string>: (ptr, len)
const NAMES = 512; // its strings: (ptr, len) each
const INVOKE_RESULT = 1024; // result<invoke-response, error>: 32 bytes
const INIT_REFUSAL = 1088; // result<_, error>: 16 bytes
const ECHO = 1536;
const UNSUPPORTED = 1600;
const UNKNOWN_MODE = 1664;
const IDS = 2048; // "a".."z": event ids, one byte each
const READ_RESULT = 3072; // result<list<event>, error>: 12 bytes
const EVENTS = 4096; // events of 36 bytes each
const HEAP = 8192;

const texts: [number, string][] = [
  [ECHO, 'echo'],
  [UNSUPPORTED, 'unsupported operation'],
  [UNKNOWN_MODE, 'unknown metadata mode'],
  [IDS, 'abcdefghijklmnopqrstuvwxyz'],
];

/** `err(invalid-argument(text))` written at `at` (an `error` payload at offset 4), then `at` answered. */
const refusal = (at: number, text: number, length: number): string =>
  `(i32.store (i32.const ${at}) (i32.const 1)) (i32.store (i32.const ${at + 4}) (i32.const 3)) ` +
  `(i32.store (i32.const ${at + 8}) (i32.const ${text})) (i32.store (i32.const ${at + 12}) (i32.const ${length})) (i32.const ${at})`;

/**
 * A binding as a core module: `binding` (init, ping) plus `output` and/or `input`, each
 * with its canonical-ABI core signature and results written to fixed areas.
 */
export function bindingModule(options: BindingOptions = {}): Uint8Array {
  const { echoListed = 1, output = true, input = false, unknownOperation = 'refuse', eventsPerRead = 'one', refusesMetadata = false } = options;
  const funcs: string[] = [
    `(func (export "${exportName('binding', 'init')}") (param $config i32) (param $len i32) (result i32)
    ${refusesMetadata ? `(if (local.get $len) (then (return ${refusal(INIT_REFUSAL, UNKNOWN_MODE, 21)})))` : ''}
    (i32.const ${ZERO}))`,
    `(func (export "${exportName('binding', 'ping')}") (result i32) (i32.const ${ZERO}))`,
  ];
  const data = texts.map(([at, text]) => `(data (i32.const ${at}) "${text}")`);
  if (output) {
    data.push(`(data (i32.const ${OPERATIONS}) "${le32(NAMES)}${le32(echoListed)}")`);
    data.push(`(data (i32.const ${NAMES}) "${`${le32(ECHO)}${le32(4)}`.repeat(echoListed)}")`);
    funcs.push(
      `(func (export "${exportName('output', 'operations')}") (result i32) (i32.const ${OPERATIONS}))`,
      // echo answers ok with the data it was given, no metadata, no content type.
      `(func (export "${exportName('output', 'invoke')}") (param $op i32) (param $op_len i32) (param $data i32) (param $len i32) (param i32 i32) (result i32)
    (if (i32.and (i32.eq (local.get $op_len) (i32.const 4)) (i32.eq (i32.load (local.get $op)) (i32.load (i32.const ${ECHO}))))
      (then
        (i32.store (i32.const ${INVOKE_RESULT}) (i32.const 0))
        (i32.store (i32.const ${INVOKE_RESULT + 4}) (local.get $data))
        (i32.store (i32.const ${INVOKE_RESULT + 8}) (local.get $len))
        (return (i32.const ${INVOKE_RESULT}))))
    ${unknownOperation === 'trap' ? 'unreachable' : refusal(INVOKE_RESULT, UNSUPPORTED, 21)})`,
    );
  }
  if (input) {
    funcs.push(
      // One event per read when asked for any (or always two), its id the next letter.
      `(func (export "${exportName('input', 'read')}") (param $max i32) (param $timeout i32) (result i32)
    (local $n i32) (local $i i32) (local $e i32)
    (local.set $n ${eventsPerRead === 'two' ? '(i32.const 2)' : '(select (i32.const 1) (i32.const 0) (local.get $max))'})
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $e (i32.add (i32.const ${EVENTS}) (i32.mul (local.get $i) (i32.const 36))))
        (i32.store (local.get $e) (i32.add (i32.const ${IDS}) (i32.rem_u (global.get $count) (i32.const 26))))
        (i32.store offset=4 (local.get $e) (i32.const 1))
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const ${READ_RESULT + 4}) (i32.const ${EVENTS}))
    (i32.store (i32.const ${READ_RESULT + 8}) (local.get $n))
    (i32.const ${READ_RESULT}))`,
      `(func (export "${exportName('input', 'ack')}") (param i32 i32 i32) (result i32) (i32.const ${ZERO}))`,
    );
  }
  const text = [
    '(module',
    '  (memory (export "memory") 1)',
    `  (global $heap (mut i32) (i32.const ${HEAP}))`,
    '  (global $count (mut i32) (i32.const 0))',
    reallocWat(),
    ...data.map((d) => `  ${d}`),
    ...funcs.map((f) => `  ${f}`),
    ')',
  ].join('\n');
  const type = `bindings.${[output && 'echo', input && 'letters'].filter(Boolean).join('-')}`;
  return withManifest(wat(text, { bulk_memory: true }), { kind: 'binding', type, version: 'v1', abi: ABI_VERSION, capabilities: [], description: 'A conformance fixture.' });
}
