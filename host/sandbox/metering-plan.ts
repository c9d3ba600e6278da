// The metering's plan of one function body: its charge regions and what each costs, and the
// points where code goes in (charges, fuel syncs, loop wrappers, renumbered instructions).
// metering.ts writes the plan into the body.
import { shiftedInstruction, type FunctionShift } from './function-imports.ts';
import type { FoldFacts } from './metering-fold.ts';
import { CodeReader, OP, bodyReader, checkBodyEnd, type FunctionBody } from './wasm-instructions.ts';
import { encodeU32 } from './wasm-binary.ts';

const EMPTY_BLOCK = 0x40;
/** 0xFC sub-opcodes whose last operand is a length: memory.init/copy/fill, table.init/copy/grow/fill. */
export const BULK_OPS = new Set([8, 10, 11, 12, 14, 15, 17]);
const PREFIX_MISC = 0xfc;
const REF_FUNC = 0xd2;
const MEMORY_GROW = 0x40;
const TABLE_GROW = 15;
/**
 * Instructions that call into V8's runtime cost far more than one unit; measured on the
 * 2-core development machine, a loop of `memory.grow 0` took ~660 ns an iteration, of
 * `table.grow 0` ~26 ns, of a 16-byte `memory.copy` ~10 ns. They are charged what they
 * take (on top of a bulk operation's length), so a loop of them is bounded like any other.
 */
const MEMORY_GROW_COST = 1000;
const TABLE_GROW_COST = 50;
const BULK_BASE_COST = 16;

/**
 * Units per plain instruction where one costs clearly more than the simplest: memory
 * accesses (a loop of loads and stores ran ~2.4 ns an instruction where register arithmetic
 * ran ~0.5), integer division, float division and square roots, indirect calls.
 */
const OP_COST = (() => {
  const cost = new Uint8Array(256).fill(1);
  cost.fill(2, 0x28, 0x3f); // loads and stores
  for (const op of [0x6d, 0x6e, 0x6f, 0x70, 0x7f, 0x80, 0x81, 0x82]) cost[op] = 3; // i32/i64 div and rem
  for (const op of [0x91, 0x95, 0x9f, 0xa3]) cost[op] = 4; // f32/f64 sqrt and div
  cost[OP.callIndirect] = 3;
  cost[OP.returnCallIndirect] = 3;
  return cost;
})();

export interface BodyPlan {
  /** Offset of the body's first instruction. */
  code: number;
  /** Cost of each region; region 0 is the function's own, charged at entry. */
  costs: number[];
  /** In body order. */
  sites: Site[];
  /** Loop regions whose slow path is out of the loop (loopWrapper). */
  wrappedLoops: Set<number>;
  /** The region each `if`/`else` arm would be merged into if it is small: arms are these regions. */
  armParent: Map<number, number>;
  /** What the folding of calls needs to know of the function (metering-fold.ts). */
  facts: FoldFacts;
  /** Functions its code names with `ref.func`: reachable other than by a direct call. */
  refFuncs: number[];
}

/** A point in a body where code goes in: a region's charge, a sync of local and global, a loop's wrapping, a bulk operation's length, a direct call, or a renumbered instruction. */
export type Site =
  | { at: number; region: number }
  | { at: number; wrap: Uint8Array }
  | { at: number; sync: 'store' | 'reload' }
  | { at: number; bulk: true }
  /**
   * A direct call (`call`, or `return_call` when `tail`): renumbered as it is written, with
   * what the folding decides around it (metering-fold.ts): the callee's entry cost spent here
   * when its callers pay for it, the fuel synced unless the callee is pure (stored before
   * a tail call, which leaves for good).
   */
  | { at: number; call: number; tail: boolean; next: number }
  /** An instruction naming a function, renumbered for the imports the metering adds. */
  | { at: number; replace: Uint8Array; next: number };

/** Value types a loop's block type may name as its one result (numeric, vector, funcref, externref, `(ref null? ht)`). */
const SINGLE_RESULT = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x63, 0x64]);
/** Stands for a wrapped loop's exit (Injector.loopExit) among the sites. */
export const EXIT_MARK = new Uint8Array(0);

/**
 * What goes before a loop so its refuel can be out of line, or undefined for a loop taking
 * parameters (a type-index block type), which keeps its slow path inline:
 *
 *     block <the loop's type>    ;; where the loop's results leave
 *       loop                     ;; the slow path goes round to here
 *         block                  ;; the loop header branches here when its charge leaves the fuel negative
 *           loop <type> ...      ;; the original loop, charging at its header
 *           end
 *           br 2                 ;; the loop ended: out with its results
 *         end
 *         fuel = refill(fuel)    ;; the slow path, outside the loop
 *         br 0
 *       end
 *       unreachable
 *     end
 *
 * Why: a call inside the loop, even in a branch that never runs, made V8 keep the loop's
 * values in memory across it; measured, state-memory's get was ~10% slower that way. Out of
 * the loop, the loop's code is what it was plus a subtract and a branch.
 */
function loopWrapper(blockType: Uint8Array): Uint8Array | undefined {
  const first = blockType[0]!;
  if (first !== EMPTY_BLOCK && !SINGLE_RESULT.has(first)) return undefined;
  return Uint8Array.of(OP.block, ...blockType, OP.loop, EMPTY_BLOCK, OP.block, EMPTY_BLOCK);
}

/** A branch with its labels moved out past the three blocks around each wrapped loop it leaves, or undefined when none moves. */
function relabelled(op: number, labels: number[], openWrapped: readonly boolean[]): Uint8Array | undefined {
  let moved = false;
  const out = labels.map((label) => {
    let added = 0;
    // The blocks left are the `label` innermost; the target itself keeps its wrapping.
    for (let i = openWrapped.length - 1; i > openWrapped.length - 1 - label && i >= 0; i--) if (openWrapped[i]) added += 3;
    if (added > 0) moved = true;
    return label + added;
  });
  if (!moved) return undefined;
  const immediates = op === OP.brTable ? [...encodeU32(out.length - 1), ...out.flatMap((l) => encodeU32(l))] : encodeU32(out[0]!);
  return Uint8Array.of(op, ...immediates);
}

/**
 * What one instruction costs, the whole of it known before it runs (a bulk operation's length
 * is charged apart, as it runs): structural markers nothing, others OP_COST, plus what the
 * instructions that call into V8's runtime take.
 */
export function instructionCost(bytes: Uint8Array, op: number, start: number, next: number): number {
  if (op === OP.block || op === OP.loop || op === OP.else || op === OP.end) return 0;
  if (op === MEMORY_GROW) return MEMORY_GROW_COST;
  if (op === PREFIX_MISC) {
    const sub = new CodeReader(bytes, start + 1, next).u32();
    if (BULK_OPS.has(sub)) return sub === TABLE_GROW ? TABLE_GROW_COST : BULK_BASE_COST;
  }
  return OP_COST[op]!;
}

/**
 * An `if` or `else` arm with at least this many instructions is charged on its own when it
 * runs; a smaller one is charged with the code around it whether it runs or not. Against
 * an exact count of the instructions state-memory's calls ran, charging every arm up front
 * overcharged 1.5-2.4x; this brings it to 1.3-1.45x at no measurable cost in speed.
 */
const ARM_CHARGED_APART = 16;

/**
 * Cost model: code splits into regions, one per function body, per `loop` and per large
 * `if`/`else` arm, each holding the instructions not inside a nested region. A region's
 * cost is charged where it starts (function entry, loop header, start of the arm) and is
 * the number of its instructions, counting both arms of a small `if`: an upper bound of
 * what it runs before it reaches the next charge (a nested region, a callee, or its own
 * loop header again). Structural markers (`block`, `loop`, `else`, `end`) compile to no
 * code and are free; a region that costs nothing is not charged (a loop body without
 * instructions cannot branch back to its header).
 */
export function planBody(bytes: Uint8Array, body: FunctionBody, shift: FunctionShift, importedFunctions: number): BodyPlan {
  /** Cost of each region; region 0 is the function's own. */
  const costs = [0];
  /** Loop regions whose slow path is out of the loop (wrapLoop), by region. */
  const wrappedLoops = new Set<number>();
  /** Whether each open block is a wrapped loop (three blocks more around it for branches that leave it). */
  const openWrapped = [false];
  /** The region each `if`/`else` arm would be merged into if it is small. */
  const armParent = new Map<number, number>();
  const sites: Site[] = [];
  const facts: FoldFacts = { unbounded: false, touchesHost: false, callees: [], entryCost: 0, chargesRegions: false };
  const refFuncs: number[] = [];
  /** The region of each open block, innermost last; the function's own block is first. */
  const open = [0];
  const leavesFunction = (label: number): boolean => label === open.length - 1;
  const beginRegion = (at: number): number => {
    sites.push({ at, region: costs.length });
    return costs.push(0) - 1;
  };
  const endArm = (arm: number): void => {
    const parent = armParent.get(arm);
    if (parent === undefined || costs[arm]! >= ARM_CHARGED_APART) return;
    costs[parent]! += costs[arm]!;
    costs[arm] = 0;
  };
  // decodeBody's loop, written out here: this runs for every instruction of every module
  // hardened, and calling a visitor per instruction made the metering ~10% slower.
  const r = bodyReader(bytes, body);
  const code = r.pos;
  for (let depth = 1; depth > 0; ) {
    const start = r.pos;
    const op = r.instruction();
    const next = r.pos;
    if (op === OP.block || op === OP.loop || op === OP.if) depth++;
    else if (op === OP.end) depth--;
    const region = open[open.length - 1]!;
    switch (op) {
      case OP.block:
        open.push(region);
        openWrapped.push(false);
        continue;
      case OP.loop: {
        facts.unbounded = true;
        const blockType = bytes.subarray(start + 1, next);
        const wrap = loopWrapper(blockType);
        if (wrap) sites.push({ at: start, wrap });
        const loop = beginRegion(next);
        if (wrap) wrappedLoops.add(loop);
        open.push(loop);
        openWrapped.push(wrap !== undefined);
        continue;
      }
      case OP.if: {
        costs[region]! += 1;
        const arm = beginRegion(next);
        armParent.set(arm, region);
        open.push(arm);
        openWrapped.push(false);
        continue;
      }
      case OP.else: {
        endArm(region);
        const arm = beginRegion(next);
        armParent.set(arm, armParent.get(region)!);
        open[open.length - 1] = arm;
        continue;
      }
      case OP.end:
        if (open.length === 1) sites.push({ at: start, sync: 'store' });
        endArm(region);
        open.pop();
        if (openWrapped.pop()) sites.push({ at: next, wrap: EXIT_MARK });
        continue;
    }
    costs[region]! += instructionCost(bytes, op, start, next);
    if (op === PREFIX_MISC && BULK_OPS.has(new CodeReader(bytes, start + 1, next).u32())) {
      sites.push({ at: start, bulk: true });
      facts.unbounded = true;
    }
    // A host call is charged by the host for the time it takes (call-meter.ts), however
    // it is reached, so the call instruction itself costs one unit here like any other. A
    // callee paid for at its call sites (metering-fold.ts) is spent for where the call is,
    // not added to the region: one case of a large switch may call it, not all of them.
    if (op === OP.call || op === OP.returnCall) {
      const callee = new CodeReader(bytes, start + 1, next).u32();
      if (callee < importedFunctions) facts.touchesHost = true;
      else facts.callees.push(callee);
      sites.push({ at: start, call: callee, tail: op === OP.returnCall, next });
      continue;
    }
    if (op === OP.callIndirect || op === OP.returnCallIndirect) facts.touchesHost = true;
    if (op === REF_FUNC) refFuncs.push(new CodeReader(bytes, start + 1, next).u32());
    // The fuel goes to the global before an indirect call (read back after it) and before a
    // return leaves for good; direct calls are left to the writer (the `call` site above).
    const synced = op === OP.callIndirect;
    if (synced || op === OP.return || op === OP.returnCallIndirect) sites.push({ at: start, sync: 'store' });
    let labels: number[] | undefined;
    if (op === OP.br || op === OP.brIf || op === OP.brTable) {
      const r = new CodeReader(bytes, start + 1, next);
      labels = op === OP.brTable ? Array.from({ length: r.u32() + 1 }, () => r.u32()) : [r.u32()];
    }
    if (labels?.some(leavesFunction)) sites.push({ at: start, sync: 'store' });
    // A site at an instruction's start goes before its replacement, which moves past it.
    const replace = labels ? relabelled(op, labels, openWrapped) : shiftedInstruction(bytes, op, start, next, shift);
    if (replace !== undefined) sites.push({ at: start, replace, next });
    if (synced) sites.push({ at: next, sync: 'reload' });
  }
  checkBodyEnd(r, body);
  facts.entryCost = costs[0]!;
  facts.chargesRegions = costs.some((cost, region) => region > 0 && cost > 0);
  return { code, costs, sites, wrappedLoops, armParent, facts, refFuncs };
}
