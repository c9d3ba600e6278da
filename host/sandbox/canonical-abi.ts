// The canonical ABI between the host and a core-module component, as wit-bindgen lays it
// out: core export/import names, core signatures, and per-function compiled callers.
import {
  alignment,
  elemSize,
  flattenFunctype,
  flattenType,
  flattenTypes,
  MAX_FLAT_PARAMS,
  MAX_FLAT_RESULTS,
  resultTypes,
  tupleOf,
  type CoreType,
} from './abi-layout.ts';
import { compileLiftFlat, compileLoad, type AbiContext, type FlatLift } from './abi-lift.ts';
import { compileLowerFlat, compileStore, type FlatLower } from './abi-lower.ts';
import { asTrap, hex, trap, type GuestMemory } from './guest-memory.ts';
import { TesseraError } from '../errors.ts';
import type { WitFunction, WitPackage, WitType } from './wit/ast.ts';

export { GuestMemory } from './guest-memory.ts';

/** Core import module of a WIT interface: `tessera:components/log@0.1.0`. */
export function importModuleName(pkg: WitPackage, iface: string): string {
  if (!pkg.interfaces.has(iface)) throw new TesseraError('ERR_COMPONENT_LOAD', `package ${pkg.namespace}:${pkg.name}@${pkg.version} has no interface \`${iface}\``);
  return `${pkg.namespace}:${pkg.name}/${iface}@${pkg.version}`;
}

/** Core export names as wit-bindgen lays them out: `tessera:components/state@0.1.0#get`. */
export function exportName(pkg: WitPackage, iface: string, func: string): string {
  const module = importModuleName(pkg, iface);
  if (!pkg.interfaces.get(iface)!.functions.some((f) => f.name === func)) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `interface \`${iface}\` of ${pkg.namespace}:${pkg.name}@${pkg.version} has no function \`${func}\``);
  }
  return `${module}#${func}`;
}

export function postReturnName(exportName: string): string {
  return `cabi_post_${exportName}`;
}

/** The core wasm signature a function must have, so a loader can check a module before instantiating it. */
export function coreSignature(fn: WitFunction, direction: 'export' | 'import'): { params: CoreType[]; results: CoreType[] } {
  return flattenFunctype(fn, direction === 'export' ? 'lift' : 'lower');
}

function checkArity(label: string, fn: WitFunction, args: unknown[]): void {
  if (args.length !== fn.params.length) {
    throw new TesseraError('ERR_INTERNAL', `${label}: \`${fn.name}\` takes ${fn.params.length} argument(s), got ${args.length}`);
  }
}

/** The spec's `trap_if`s on a pointer to a spilled tuple (params, results, or the return area). */
function compileAreaCheck(cx: AbiContext, what: string, t: WitType): (ptr: number) => void {
  const align = alignment(t);
  const size = elemSize(t);
  return (ptr) => {
    if (ptr % align !== 0) throw trap(cx.label, `${what} ${hex(ptr)} is not aligned to ${align}`);
    if (ptr + size > cx.mem.u8.length) {
      throw trap(cx.label, `${what} ${hex(ptr)} of ${size} bytes runs past the end of guest memory (${cx.mem.u8.length} bytes)`);
    }
  };
}

/** One FlatLift/FlatLower per value, each over its own run of the flat values. */
function slotRuns<S>(types: WitType[], make: (t: WitType, slots: { index: number; type: CoreType }[]) => S): S[] {
  let index = 0;
  return types.map((t) => make(t, flattenType(t).map((type) => ({ index: index++, type }))));
}

/** The host's half of `canon lift`: lowering the arguments and lifting the result. */
function compileExportHalves(fn: WitFunction, cx: AbiContext): { lowerArgs: (args: unknown[]) => unknown[]; liftResult: (ret: unknown) => unknown } {
  const params = fn.params.map((p) => p.type);
  let lowerArgs: (args: unknown[]) => unknown[];
  if (flattenTypes(params).length <= MAX_FLAT_PARAMS) {
    const lowers: FlatLower[] = slotRuns(params, (t, slots) => compileLowerFlat(t, cx, slots.map(({ index, type }) => ({ index, want: type }))));
    // Reused: the core call reads the array synchronously, before any other call can start.
    const flat: unknown[] = new Array(flattenTypes(params).length).fill(0);
    lowerArgs = (args) => {
      for (let i = 0; i < lowers.length; i++) lowers[i]!(args[i], flat);
      return flat;
    };
  } else {
    const tuple = tupleOf(params);
    const store = compileStore(tuple, cx);
    const align = alignment(tuple);
    const size = elemSize(tuple);
    lowerArgs = (args) => {
      const ptr = cx.mem.realloc(cx.label, 0, 0, align, size);
      store(args, ptr);
      return [ptr];
    };
  }

  const results = resultTypes(fn);
  const flatResults = flattenTypes(results);
  let liftResult: (ret: unknown) => unknown;
  if (fn.result === undefined) {
    liftResult = () => undefined;
  } else if (flatResults.length <= MAX_FLAT_RESULTS) {
    const lift = compileLiftFlat(fn.result, cx, [{ index: 0, have: flatResults[0]! }]);
    liftResult = (ret) => lift([ret]);
  } else {
    const check = compileAreaCheck(cx, 'the returned pointer', fn.result);
    const load = compileLoad(fn.result, cx);
    liftResult = (ret) => {
      const ptr = (ret as number) >>> 0;
      check(ptr);
      return load(ptr);
    };
  }
  return { lowerArgs, liftResult };
}

function postReturnCaller(postReturn: Function | undefined, fn: WitFunction, label: string): (ret: unknown) => void {
  if (postReturn === undefined) return () => {};
  const takesResult = flattenTypes(resultTypes(fn)).length > 0;
  return (ret) => {
    try {
      if (takesResult) postReturn(ret);
      else postReturn();
    } catch (err) {
      throw asTrap(`${label}: post-return`, err);
    }
  };
}

/**
 * Returns a JS function taking lifted args and returning the lifted result: lowers args
 * (calling realloc for strings/lists and, past 16 flat params, for the param area), calls
 * the core export, lifts the result (reading through the returned pointer past 1 flat
 * result), then calls post-return if given.
 */
export function compileExportCall(
  fn: WitFunction,
  coreFunc: Function,
  postReturn: Function | undefined,
  mem: GuestMemory,
  label: string,
): (...args: unknown[]) => unknown {
  const { lowerArgs, liftResult } = compileExportHalves(fn, { mem, label });
  const afterReturn = postReturnCaller(postReturn, fn, label);
  return (...args) => {
    checkArity(label, fn, args);
    mem.refresh();
    mem.liftBudget = mem.maxLift;
    const flat = lowerArgs(args);
    let ret: unknown;
    try {
      ret = coreFunc(...flat);
    } catch (err) {
      throw asTrap(label, err);
    }
    mem.refresh();
    const value = liftResult(ret);
    afterReturn(ret);
    return value;
  };
}

/** Same as `compileExportCall`, for a `coreFunc` that returns a Promise (a `WebAssembly.promising` export). */
export function compileAsyncExportCall(
  fn: WitFunction,
  coreFunc: Function,
  postReturn: Function | undefined,
  mem: GuestMemory,
  label: string,
): (...args: unknown[]) => Promise<unknown> {
  const { lowerArgs, liftResult } = compileExportHalves(fn, { mem, label });
  const afterReturn = postReturnCaller(postReturn, fn, label);
  return async (...args) => {
    checkArity(label, fn, args);
    mem.refresh();
    mem.liftBudget = mem.maxLift;
    const flat = lowerArgs(args);
    let ret: unknown;
    try {
      ret = await coreFunc(...flat);
    } catch (err) {
      throw asTrap(label, err);
    }
    mem.refresh();
    const value = liftResult(ret);
    afterReturn(ret);
    return value;
  };
}

/**
 * Returns the core-level import function (flat params, plus a return-area pointer past 1
 * flat result) that lifts args from the guest, calls `host`, and lowers the result
 * (realloc'ing strings/lists in the guest). With `async: true`, `host` may return a
 * Promise, and the returned function then returns one (it is wrapped in
 * `WebAssembly.Suspending`, which suspends the guest only for a Promise).
 */
export function compileImport(
  fn: WitFunction,
  host: (...args: unknown[]) => unknown,
  mem: GuestMemory,
  opts: { async: boolean; label: string },
): Function {
  const cx: AbiContext = { mem, label: opts.label };
  const params = fn.params.map((p) => p.type);
  const flatParams = flattenTypes(params).length;
  let liftArgs: (flat: unknown[]) => unknown[];
  if (flatParams <= MAX_FLAT_PARAMS) {
    const lifts: FlatLift[] = slotRuns(params, (t, slots) => compileLiftFlat(t, cx, slots.map(({ index, type }) => ({ index, have: type }))));
    liftArgs = (flat) => lifts.map((lift) => lift(flat));
  } else {
    const tuple = tupleOf(params);
    const check = compileAreaCheck(cx, 'the parameter area', tuple);
    const load = compileLoad(tuple, cx);
    liftArgs = (flat) => {
      const ptr = (flat[0] as number) >>> 0;
      check(ptr);
      return load(ptr) as unknown[];
    };
  }

  const flatResults = flattenTypes(resultTypes(fn));
  const retptrIndex = flatParams <= MAX_FLAT_PARAMS ? flatParams : 1;
  let lowerResult: (value: unknown, flat: unknown[]) => unknown;
  if (fn.result === undefined) {
    lowerResult = () => undefined;
  } else if (flatResults.length <= MAX_FLAT_RESULTS) {
    const lower = compileLowerFlat(fn.result, cx, [{ index: 0, want: flatResults[0]! }]);
    lowerResult = (value) => {
      const out: unknown[] = [];
      lower(value, out);
      return out[0];
    };
  } else {
    const check = compileAreaCheck(cx, 'the return area', fn.result);
    const store = compileStore(fn.result, cx);
    lowerResult = (value, flat) => {
      const ptr = (flat[retptrIndex] as number) >>> 0;
      check(ptr);
      store(value, ptr);
      return undefined;
    };
  }

  if (opts.async) {
    // A promise suspends the guest (JSPI) until it settles; an answer the host has at once (a
    // write the socket took, a read of bytes already buffered) is lowered and returned without
    // one: a suspension and its resumption cost more than the rest of such a call.
    return (...flat: unknown[]) => {
      mem.refresh();
      const value = host(...liftArgs(flat));
      if (!(value instanceof Promise)) {
        mem.refresh();
        return lowerResult(value, flat);
      }
      return value.then((settled: unknown) => {
        mem.refresh();
        return lowerResult(settled, flat);
      });
    };
  }
  return (...flat: unknown[]) => {
    mem.refresh();
    const value = host(...liftArgs(flat));
    mem.refresh();
    return lowerResult(value, flat);
  };
}
