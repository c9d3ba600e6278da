// What the count limits of the resources folders share (component-count.ts, the scan's file
// and module budgets in resources-loader.ts, the subscriptions' in pubsub): the items that
// hold their place already come first, so adding files never displaces what runs; and one
// pass logs its first new failures line by line and counts the rest in one more line, so a
// folder of thousands of broken documents cannot flood the log.

/** `items` with those `held` first, each part in its own order. */
export function heldFirst<T>(items: readonly T[], held: (item: T) => boolean): T[] {
  const first: T[] = [];
  const rest: T[] = [];
  for (const item of items) (held(item) ? first : rest).push(item);
  return [...first, ...rest];
}

/** New failures one pass logs line by line; one more line counts the rest (all are in /v1.0/metadata). */
const MAX_FAILURES_LOGGED = 20;

/** Failures kept for /v1.0/metadata. */
export const MAX_FAILURES_LISTED = 1000;

/** The lines one pass logs: MAX_FAILURES_LOGGED new ones, then a count of the rest. */
export class LogBudget {
  #logged = 0;
  #unlogged = 0;

  /** Logs a failure (`log`) while the budget lasts, else counts it; one that is not new is neither. */
  spend(isNew: boolean, log: () => void): void {
    if (!isNew) return;
    if (this.#logged < MAX_FAILURES_LOGGED) {
      this.#logged++;
      log();
    } else this.#unlogged++;
  }

  /** The line that counts what was not logged (`what`: "resources not loaded"), or undefined when all was. */
  summary(what: string): string | undefined {
    return this.#unlogged > 0 ? `${this.#unlogged} more ${what}, not logged one by one: GET /v1.0/metadata lists them` : undefined;
  }
}
