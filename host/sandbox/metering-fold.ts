// Which functions the metering charges at their call sites instead of at their own entry.
//
// A function with no loop and no bulk operation runs a bounded number of instructions before
// it reaches a callee or returns, so its caller can pay for its entry region at the call: that
// cost joins the caller's region, checked where the caller's region starts. Such a function
// then has no checked charge of its own (its large arms spend from the fuel global unchecked:
// straight-line code whose overdraft the caller's next check sees), and one that touches
// neither the global nor a host need not even sync the caller's fuel around the call.
// Measured on state-memory's get, the checked charge at the entry of every small helper (a
// subtract, a compare and a cold call to the refill helper) was about half of what the
// metering cost in all.
//
// A function stays charged at its entry when it can be reached other than by a direct call:
// exported, in a table (`call_indirect`), named by `ref.func`, or the start function; when it
// lies on a cycle of such functions (recursion); or when its cost is over FOLD_MAX_COST.
import { CodeReader, OP, decodeBody, type FunctionBody } from './wasm-instructions.ts';

/** The most a function's entry region may cost to be paid for by its callers (a bound on the charge of one call site). */
export const FOLD_MAX_COST = 1000;

const REF_FUNC = 0xd2;
const PREFIX_MISC = 0xfc;

/** How the metering treats each defined function, by function index. */
export interface Folding {
  /** The cost its callers pay at each direct call, for a function charged that way. */
  readonly cost: ReadonlyMap<number, number>;
  /** Of those, the ones that reach no host and no self-charging function: no fuel sync around their calls. */
  readonly pure: ReadonlySet<number>;
}

/** What the plan of one body says that folding needs: the cost of its entry region (callees folded so far included), whether it spends from the global itself. */
export type PlanEntry = (index: number, folding: Folding) => { entryCost: number; spendsGlobal: boolean };

interface Shape {
  /** A loop or a bulk operation: work not bounded by the instruction count. */
  unbounded: boolean;
  /** Calls a host import or through a table: the fuel global must be current around it. */
  touchesHost: boolean;
  callees: number[];
}

/**
 * The folding of a module's functions. `referenced` is every function index named outside
 * direct calls (exports, start, elements, globals); `ref.func` in code is found here. `plan`
 * is called once per function, callees first, with the folding decided so far.
 */
export function foldCalls(bytes: Uint8Array, bodies: readonly FunctionBody[], importedFunctions: number, referenced: ReadonlySet<number>, plan: PlanEntry): Folding {
  const entry = new Set(referenced);
  const shapes = new Map<number, Shape>();
  for (const body of bodies) {
    const shape: Shape = { unbounded: false, touchesHost: false, callees: [] };
    decodeBody(bytes, body, (op, start, next) => {
      if (op === OP.loop || op === PREFIX_MISC) shape.unbounded ||= op === OP.loop || isBulk(bytes, start, next);
      else if (op === OP.callIndirect || op === OP.returnCallIndirect) shape.touchesHost = true;
      else if (op === OP.call || op === OP.returnCall || op === REF_FUNC) {
        const index = new CodeReader(bytes, start + 1, next).u32();
        if (op === REF_FUNC) entry.add(index);
        else if (index < importedFunctions) shape.touchesHost = true;
        else shape.callees.push(index);
      }
    });
    shapes.set(body.index, shape);
  }

  const cost = new Map<number, number>();
  const pure = new Set<number>();
  const folding: Folding = { cost, pure };
  /** 1 while on the walk's path, 2 once decided. */
  const state = new Map<number, 1 | 2>();
  const decide = (index: number): void => {
    const shape = shapes.get(index)!;
    const { entryCost, spendsGlobal } = plan(index, folding);
    state.set(index, 2);
    if (shape.unbounded || entry.has(index) || entryCost > FOLD_MAX_COST) return;
    cost.set(index, entryCost);
    if (!shape.touchesHost && !spendsGlobal && shape.callees.every((callee) => pure.has(callee))) pure.add(index);
  };
  // Depth first, callees before callers, without recursion (call chains can be long). A callee
  // met again while still on the path closes a cycle: it is charged at its own entry.
  for (const root of shapes.keys()) {
    if (state.has(root)) continue;
    const path: { index: number; next: number }[] = [{ index: root, next: 0 }];
    state.set(root, 1);
    while (path.length > 0) {
      const top = path.at(-1)!;
      const callees = shapes.get(top.index)!.callees;
      if (top.next < callees.length) {
        const callee = callees[top.next++]!;
        const seen = state.get(callee);
        if (seen === undefined) {
          state.set(callee, 1);
          path.push({ index: callee, next: 0 });
        } else if (seen === 1) entry.add(callee);
        continue;
      }
      decide(top.index);
      path.pop();
    }
  }
  return folding;
}

/** Whether a 0xFC instruction is one of the bulk operations whose length the metering charges. */
function isBulk(bytes: Uint8Array, start: number, next: number): boolean {
  const sub = new CodeReader(bytes, start + 1, next).u32();
  return sub === 8 || sub === 10 || sub === 11 || sub === 12 || sub === 14 || sub === 15 || sub === 17;
}
