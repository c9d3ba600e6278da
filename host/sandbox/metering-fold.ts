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

/** The most a function's entry region may cost to be paid for by its callers (a bound on the charge of one call site). */
export const FOLD_MAX_COST = 1000;

/** How the metering treats each defined function, by function index. */
export interface Folding {
  /** The cost its callers pay at each direct call, for a function charged that way. */
  readonly cost: ReadonlyMap<number, number>;
  /** Of those, the ones that reach no host and no self-charging function: no fuel sync around their calls. */
  readonly pure: ReadonlySet<number>;
}

/** What folding needs to know of one function: its plan (metering-plan.ts) finds it as it decodes the body. */
export interface FoldFacts {
  /** A loop or a bulk operation: work not bounded by the instruction count. */
  unbounded: boolean;
  /** Calls a host import or through a table: the fuel global must be current around it. */
  touchesHost: boolean;
  /** The defined functions it calls directly (`call`, `return_call`), in code order. */
  callees: number[];
  /** The cost of its entry region. */
  entryCost: number;
  /** A region other than its entry costs something (a loop, a large arm): it spends from the global itself. */
  chargesRegions: boolean;
}

/**
 * The folding of a module's functions, from the facts of each (in module order). `entries`
 * is every function index named outside direct calls (exports, start, elements, globals,
 * `ref.func` in code). Decided callees first, so a caller knows what its calls spend.
 */
export function foldCalls(facts: ReadonlyMap<number, FoldFacts>, entries: ReadonlySet<number>): Folding {
  const entry = new Set(entries);
  const cost = new Map<number, number>();
  const pure = new Set<number>();
  /** 1 while on the walk's path, 2 once decided. */
  const state = new Map<number, 1 | 2>();
  const decide = (index: number): void => {
    const f = facts.get(index)!;
    state.set(index, 2);
    if (f.unbounded || entry.has(index) || f.entryCost > FOLD_MAX_COST) return;
    cost.set(index, f.entryCost);
    // A call of a callee its callers pay for spends from the global at the call.
    const spendsGlobal = f.chargesRegions || f.callees.some((callee) => (cost.get(callee) ?? 0) > 0);
    if (!f.touchesHost && !spendsGlobal && f.callees.every((callee) => pure.has(callee))) pure.add(index);
  };
  // Depth first, callees before callers, without recursion (call chains can be long). A callee
  // met again while still on the path closes a cycle: it is charged at its own entry.
  for (const root of facts.keys()) {
    if (state.has(root)) continue;
    const path: { index: number; next: number }[] = [{ index: root, next: 0 }];
    state.set(root, 1);
    while (path.length > 0) {
      const top = path.at(-1)!;
      const callees = facts.get(top.index)!.callees;
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
  return { cost, pure };
}
