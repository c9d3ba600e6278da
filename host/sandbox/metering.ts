// CPU metering: rewrites a module so every call and every loop iteration pays for its code
// from one exported i64 fuel global, and traps when the fuel runs out. V8 cannot interrupt
// running wasm, so the bound on a call has to be enforced inside the module.
import { TesseraError } from '../errors.ts';
import { ENCODING, SECTION, concat, encodeU32, readModuleShape } from './wasm-binary.ts';
import { ByteWriter } from './byte-writer.ts';
import { addFunctionImports, functionShift, type AddedImport, type FunctionShift } from './function-imports.ts';
import { foldCalls, type Folding } from './metering-fold.ts';
import { appendEntry, entryCount, rebuild } from './section-edits.ts';
import { EXIT_MARK, planBody, type BodyPlan } from './metering-plan.ts';
import { CodeReader, OP, functionBodies, sectionSpans, type FunctionBody, type SectionSpan } from './wasm-instructions.ts';

/** The export name of the fuel global the host sets before each call. */
export const FUEL_EXPORT = 'tessera:fuel';
/** The import module of the hooks metered code calls when its fuel runs out (call-meter.ts provides them). */
export const FUEL_HOOKS_MODULE = 'tessera:fuel';


const I64 = ENCODING.i64;
/** `refuel(fuel: i64) -> i64` and `yield() -> i64`, in this order, after the module's own imports. */
const FUEL_HOOKS: readonly AddedImport[] = [
  { module: FUEL_HOOKS_MODULE, name: 'refuel', params: [I64], results: [I64] },
  { module: FUEL_HOOKS_MODULE, name: 'yield', params: [], results: [I64] },
];
const { mutable: MUTABLE, exportGlobal: EXPORT_GLOBAL, emptyBlock: EMPTY_BLOCK } = ENCODING;
const { localGet: LOCAL_GET, localSet: LOCAL_SET, localTee: LOCAL_TEE, globalGet: GLOBAL_GET, globalSet: GLOBAL_SET, i64Const: I64_CONST } = OP;
const UNREACHABLE = 0x00;
const I64_LT_S = 0x53;
const I64_EQZ = 0x50;
const I64_SUB = 0x7d;
const I64_SHR_U = 0x88;
const I64_EXTEND_I32_U = 0xad;
const I32 = ENCODING.i32;
/** A bulk operation is charged one unit per 16 bytes (or elements) it touches, on top of its own. */
const BULK_SHIFT = 4;

/** Signed LEB128, as `i64.const` and constant expressions take it. */
function encodeI64(value: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(value & 0x7fn);
    value >>= 7n;
    if ((value === 0n && (b & 0x40) === 0) || (value === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/**
 * The injected code. A function charged only at entry charges the global directly. A
 * function with more charge points (loops, large arms) keeps the fuel in a local of its own
 * (a register, in V8's optimising tier), so a loop header costs a subtract and a branch:
 * measured, a store and reload of the global there made a tight loop ~40% slower. The
 * global is brought up to date wherever control can leave the function (calls, returns,
 * branches out of the body, the final `end`) and read back after each call.
 *
 * When a charge leaves the fuel below zero, the code asks the host for more: `refuel(fuel)`
 * returns the next slice, or traps (the host sets the global negative first, which is how
 * it tells an exhausted call from any other trap) once the call has held the event loop or
 * spent its budget past its limit; or returns 0, asking the code to `yield` (a suspending
 * import) so the event loop serves others before the call goes on.
 *
 * Each piece is written straight into the body being rewritten: metering is most of what
 * preparing a module costs, and so of a hot swap's time.
 */
class Injector {
  readonly #global: number[];
  readonly #local: number[];
  readonly #refill: number[];
  readonly #scratch: number[];

  constructor(global: number, local: number, scratch: number, refill: number) {
    this.#global = encodeU32(global);
    this.#local = encodeU32(local);
    this.#scratch = encodeU32(scratch);
    this.#refill = encodeU32(refill);
  }

  #op(w: ByteWriter, op: number, index: number[]): void {
    w.byte(op);
    w.bytes(index);
  }

  /** `i64.const cost; i64.sub` */
  #subtract(w: ByteWriter, cost: number): void {
    w.byte(I64_CONST);
    w.i64(cost);
    w.byte(I64_SUB);
  }

  /**
   * With the (negative) fuel in `get`/`set`'s place: fuel = refill(fuel), the module's one
   * out-of-line helper (refillBody). Kept this small at every charge point on purpose: a
   * larger cold branch in every function measurably slowed hot code (V8 inlines less).
   */
  #whenEmpty(w: ByteWriter, get: number, set: number, place: number[]): void {
    this.#op(w, get, place);
    w.byte(I64_CONST);
    w.byte(0);
    w.byte(I64_LT_S);
    w.byte(OP.if);
    w.byte(EMPTY_BLOCK);
    this.#op(w, get, place);
    this.#op(w, OP.call, this.#refill);
    this.#op(w, set, place);
    w.byte(OP.end);
  }

  /** local -> global, before control leaves the function. */
  store(w: ByteWriter): void {
    this.#op(w, LOCAL_GET, this.#local);
    this.#op(w, GLOBAL_SET, this.#global);
  }

  /** global -> local, after a call has spent from the global. */
  reload(w: ByteWriter): void {
    this.#op(w, GLOBAL_GET, this.#global);
    this.#op(w, LOCAL_SET, this.#local);
  }

  /** global -= cost; refuel below zero. */
  chargeGlobal(w: ByteWriter, cost: number): void {
    this.spendGlobal(w, cost);
    this.#whenEmpty(w, GLOBAL_GET, GLOBAL_SET, this.#global);
  }

  /** global -= cost, unchecked: an arm of a function its callers pay for (metering-fold.ts). */
  spendGlobal(w: ByteWriter, cost: number): void {
    this.#op(w, GLOBAL_GET, this.#global);
    this.#subtract(w, cost);
    this.#op(w, GLOBAL_SET, this.#global);
  }

  /** local -= cost, unchecked: straight-line code whose overdraft the next check sees. */
  spendLocal(w: ByteWriter, cost: number): void {
    this.#op(w, LOCAL_GET, this.#local);
    this.#subtract(w, cost);
    this.#op(w, LOCAL_SET, this.#local);
  }

  /**
   * A wrapped loop's header: local -= cost, and below zero a branch out of the loop to its
   * slow path (`loopExit`), which refuels and re-enters the loop at its header.
   */
  chargeLoop(w: ByteWriter, cost: number): void {
    this.#op(w, LOCAL_GET, this.#local);
    this.#subtract(w, cost);
    this.#op(w, LOCAL_TEE, this.#local);
    w.byte(I64_CONST);
    w.byte(0);
    w.byte(I64_LT_S);
    w.byte(OP.brIf);
    w.byte(1);
  }

  /** After a wrapped loop's `end`: the exit with its results, then the slow path, which goes round again. */
  loopExit(w: ByteWriter): void {
    w.byte(OP.br);
    w.byte(2);
    w.byte(OP.end);
    this.#op(w, LOCAL_GET, this.#local);
    this.#op(w, OP.call, this.#refill);
    this.#op(w, LOCAL_SET, this.#local);
    w.byte(OP.br);
    w.byte(0);
    w.byte(OP.end);
    w.byte(UNREACHABLE);
    w.byte(OP.end);
  }

  /** local = (the local, or the global at entry) - cost; refuel below zero. */
  chargeLocal(w: ByteWriter, cost: number, atEntry: boolean): void {
    if (cost === 0) return this.reload(w);
    if (atEntry) this.#op(w, GLOBAL_GET, this.#global);
    else this.#op(w, LOCAL_GET, this.#local);
    this.#subtract(w, cost);
    this.#op(w, LOCAL_SET, this.#local);
    this.#whenEmpty(w, LOCAL_GET, LOCAL_SET, this.#local);
  }

  /**
   * Before a bulk memory or table operation: charges its length operand (on top of the stack,
   * left there) at run time, since one instruction may touch the whole memory.
   */
  chargeLength(w: ByteWriter, localMode: boolean): void {
    const [get, set, place] = localMode ? [LOCAL_GET, LOCAL_SET, this.#local] : [GLOBAL_GET, GLOBAL_SET, this.#global];
    this.#op(w, LOCAL_TEE, this.#scratch);
    this.#op(w, get, place);
    this.#op(w, LOCAL_GET, this.#scratch);
    w.bytes([I64_EXTEND_I32_U, I64_CONST, BULK_SHIFT, I64_SHR_U, I64_SUB]);
    this.#op(w, set, place);
    this.#whenEmpty(w, get, set, place);
  }
}

/**
 * Writes the body rewritten to its plan into `out` (its size, then the body): charges, syncs,
 * loop wrappers and renumbered instructions in place. `body` is a scratch writer.
 */
function meterBody(
  bytes: Uint8Array,
  fn: FunctionBody,
  plan: BodyPlan,
  fuelGlobal: number,
  params: number,
  refill: number,
  folding: Folding,
  shift: FunctionShift,
  out: ByteWriter,
  body: ByteWriter,
): void {
  const { code, costs, sites, wrappedLoops, armParent } = plan;
  const charged = !folding.cost.has(fn.index);
  const locals = new CodeReader(bytes, fn.start, code);
  const groups = locals.u32();
  const firstGroup = locals.pos;
  let declared = 0;
  for (let n = groups; n > 0; n--) {
    declared += locals.u32();
    locals.skipValType();
  }
  // A function its callers pay for (charged false) has no entry charge (and no loop, no bulk operation).
  const local = charged && (wrappedLoops.size > 0 || plan.facts.chargesRegions);
  const bulk = sites.some((site) => 'bulk' in site);
  // New locals go after the function's own, so no index moves: the fuel (i64), then the scratch (i32).
  const inject = new Injector(fuelGlobal, params + declared, params + declared + (local ? 1 : 0), refill);
  body.reset();
  const added = (local ? 1 : 0) + (bulk ? 1 : 0);
  if (added > 0) {
    body.u32(groups + added);
    body.copy(bytes, firstGroup, code);
    if (local) body.bytes([1, I64]);
    if (bulk) body.bytes([1, I32]);
  } else body.copy(bytes, fn.start, code);
  let copied = code;
  /** The original code up to `at`: what comes next goes in there. */
  const upTo = (at: number): void => {
    body.copy(bytes, copied, at);
    copied = at;
  };
  upTo(code);
  if (local) inject.chargeLocal(body, costs[0]!, true);
  else if (charged && costs[0]! > 0) inject.chargeGlobal(body, costs[0]!);
  for (const site of sites) {
    if ('replace' in site) {
      upTo(site.at);
      body.bytes(site.replace);
      copied = site.next;
    } else if ('bulk' in site) {
      upTo(site.at);
      inject.chargeLength(body, local);
    } else if ('wrap' in site) {
      upTo(site.at);
      if (site.wrap === EXIT_MARK) inject.loopExit(body);
      else body.bytes(site.wrap);
    } else if ('call' in site) {
      // What the plan left to the folding: the callee's entry paid here, the fuel synced
      // around the call (stored before a tail call), and the callee renumbered.
      upTo(site.at);
      const spend = folding.cost.get(site.call);
      if (spend !== undefined && spend > 0) {
        if (local) inject.spendLocal(body, spend);
        else inject.spendGlobal(body, spend);
      }
      const synced = !site.tail && !folding.pure.has(site.call);
      if (local && (synced || site.tail)) inject.store(body);
      const moved = shift(site.call);
      if (moved !== site.call) {
        body.byte(site.tail ? OP.returnCall : OP.call);
        body.u32(moved);
        copied = site.next;
      }
      if (local && synced) {
        upTo(site.next);
        inject.reload(body);
      }
    } else if (!charged && 'region' in site && costs[site.region]! > 0) {
      upTo(site.at);
      inject.spendGlobal(body, costs[site.region]!);
    } else if (!local) continue;
    else if ('sync' in site) {
      upTo(site.at);
      inject[site.sync](body);
    } else if (wrappedLoops.has(site.region)) {
      upTo(site.at);
      inject.chargeLoop(body, costs[site.region]!);
    } else if (costs[site.region]! === 0) continue;
    else if (armParent.has(site.region)) {
      upTo(site.at);
      inject.spendLocal(body, costs[site.region]!);
    } else {
      upTo(site.at);
      inject.chargeLocal(body, costs[site.region]!, false);
    }
  }
  upTo(fn.end);
  out.u32(body.length);
  out.bytes(body.view());
}

/** The number of parameters of each function the module defines, in order. */
function definedParams(bytes: Uint8Array, spans: SectionSpan[]): number[] {
  const types: number[] = [];
  const typeSection = spans.find((s) => s.id === SECTION.type);
  if (typeSection) {
    const r = new CodeReader(bytes, typeSection.payload, typeSection.end);
    for (let n = r.u32(); n > 0; n--) {
      r.byte();
      const params = r.u32();
      for (let p = params; p > 0; p--) r.skipValType();
      for (let results = r.u32(); results > 0; results--) r.skipValType();
      types.push(params);
    }
  }
  const functions = spans.find((s) => s.id === SECTION.function);
  if (!functions) return [];
  const r = new CodeReader(bytes, functions.payload, functions.end);
  return Array.from({ length: r.u32() }, () => types[r.u32()] ?? 0);
}

/**
 * A copy of the module that meters its CPU use: a new mutable i64 global, exported as
 * `tessera:fuel` and starting at `initialFuel` (what a start function runs with), pays for
 * every function entry and loop iteration, and once it drops below zero the module calls
 * the host's `refuel` and `yield` hooks (two function imports of `tessera:fuel`), which
 * refill it, pause the call, or trap. The host sets the global before each call. The new
 * global comes after every existing one and a function's new local after its own, so no
 * global or local index moves; the module's own functions move up by the two imports (every
 * call, `ref.func`, export, element segment and start is renumbered, and the `name` section,
 * whose function names would be off by two, is dropped); all else is kept as it was, other
 * custom sections included (offsets in DWARF debug info go stale, as after any code rewrite).
 */
export function instrumentFuel(bytes: Uint8Array, initialFuel = 0): Uint8Array {
  if (!Number.isSafeInteger(initialFuel) || initialFuel < 0) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `the initial fuel must be a non-negative integer, not ${initialFuel}`);
  }
  const shape = readModuleShape(bytes);
  if (shape.exports.some((e) => e.name === FUEL_EXPORT)) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `the module already exports "${FUEL_EXPORT}" (metered twice?)`);
  }
  const spans = sectionSpans(bytes);
  const find = (id: number): SectionSpan | undefined => spans.find((s) => s.id === id);
  const globals = find(SECTION.global);
  const definedGlobals = entryCount(bytes, globals);
  const fuel = shape.imports.filter((i) => i.kind === 'global').length + definedGlobals;
  const name = new TextEncoder().encode(FUEL_EXPORT);
  const importedFunctions = shape.imports.filter((i) => i.kind === 'func').length;
  // The host hooks go after the module's own imports: every defined function moves up by two.
  const hooks = { refuel: importedFunctions, yield: importedFunctions + 1 };
  const shift = functionShift(importedFunctions, FUEL_HOOKS.length);
  // Every function named other than by a direct call (exports, start, elements, globals) is an entry point.
  const referenced = new Set<number>();
  const { payloads, typeIndices, dropCustom } = addFunctionImports(bytes, spans, FUEL_HOOKS, (index) => (referenced.add(index), shift(index)));
  const payloadOf = (id: number): Uint8Array | undefined => {
    const span = find(id);
    return payloads.get(id) ?? (span && bytes.subarray(span.payload, span.end));
  };
  payloads.set(SECTION.global, appendEntry(payloadOf(SECTION.global), [I64, MUTABLE, I64_CONST, ...encodeI64(BigInt(initialFuel)), OP.end]));
  payloads.set(SECTION.export, appendEntry(payloadOf(SECTION.export), [...encodeU32(name.length), ...name, EXPORT_GLOBAL, ...encodeU32(fuel)]));
  const code = find(SECTION.code);
  if (code) {
    const params = definedParams(bytes, spans);
    const bodies = functionBodies(bytes, code, importedFunctions);
    // The refill helper goes after the module's own functions (and the two hooks before them).
    const refill = importedFunctions + FUEL_HOOKS.length + bodies.length;
    // One decode of each body: its plan, and the facts the folding of calls needs.
    const plans = bodies.map((b) => planBody(bytes, b, shift, importedFunctions));
    for (const plan of plans) for (const index of plan.refFuncs) referenced.add(index);
    const folding = foldCalls(new Map(plans.map((plan, i) => [bodies[i]!.index, plan.facts])), referenced);
    const out = new ByteWriter(2 * (code.end - code.payload));
    const scratch = new ByteWriter();
    out.u32(bodies.length + 1);
    bodies.forEach((b, i) => meterBody(bytes, b, plans[i]!, fuel, params[i] ?? 0, refill, folding, shift, out, scratch));
    const helper = refillBody(fuel, hooks);
    out.u32(helper.length);
    out.bytes(helper);
    payloads.set(SECTION.function, appendEntry(payloadOf(SECTION.function), encodeU32(typeIndices[0]!)));
    payloads.set(SECTION.code, out.view());
  }
  return rebuild(bytes, spans, payloads, dropCustom);
}

/**
 * `refill(fuel: i64) -> i64`, the module's slow path when a charge leaves its fuel negative:
 * the negative fuel goes to the global (so a host that traps leaves it there, how an
 * exhausted call is told from any other trap), then `refuel(fuel)` gives the next slice, or
 * 0, and then `yield()` does, once the event loop has served others.
 */
function refillBody(fuelGlobal: number, hooks: { refuel: number; yield: number }): Uint8Array {
  const g = encodeU32(fuelGlobal);
  return Uint8Array.of(
    0, // no locals: the parameter is reused
    LOCAL_GET, 0, GLOBAL_SET, ...g,
    LOCAL_GET, 0, OP.call, ...encodeU32(hooks.refuel), LOCAL_TEE, 0,
    I64_EQZ, OP.if, I64, OP.call, ...encodeU32(hooks.yield), OP.else, LOCAL_GET, 0, OP.end,
    OP.end,
  );
}

/** Whether the fuel global is negative: the code ran through its slice (and, where the host's `refuel` trapped, stopped there). */
export function fuelExhausted(fuel: WebAssembly.Global): boolean {
  return (fuel.value as bigint) < 0n;
}
