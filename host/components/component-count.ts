// How many components one sidecar runs (`--max-components`): every component holds memory
// of its own (its instances, up to its memory limit each), so a resources folder that
// declares thousands (a generated file, a hostile one) would otherwise take the sidecar's
// memory by count, each under its own limit. The components that hold their name already
// (running, starting or waiting to retry) keep their places, so adding files never stops one
// that runs; the others follow in scan order. Those past the cap are refused in one failure,
// not one each: a file of thousands of documents makes one log line, not thousands.
import { heldFirst } from './resource-bounds.ts';
import type { DesiredComponent, PlanFailure } from './resources-loader.ts';

/** Components a sidecar runs at most unless `--max-components` says otherwise. */
export const DEFAULT_MAX_COMPONENTS = 256;

export interface CountedComponents {
  kept: DesiredComponent[];
  /** Why the rest are not loaded, naming the first of them and the flag; undefined when none is over. */
  over: PlanFailure | undefined;
}

/** At most `max` of `candidates` (one per name), those `holds` names first, then in scan order. */
export function withinCount(candidates: readonly DesiredComponent[], max: number, holds: (name: string) => boolean): CountedComponents {
  if (candidates.length <= max) return { kept: [...candidates], over: undefined };
  const keptSet = new Set(heldFirst(candidates, (c) => holds(c.name)).slice(0, max));
  const kept = candidates.filter((c) => keptSet.has(c));
  const refused = candidates.filter((c) => !keptSet.has(c));
  const first = refused[0]!;
  const others = refused.length - 1;
  return {
    kept,
    over: {
      name: first.name,
      type: first.manifest.type,
      source: first.source,
      error:
        `${first.source}: component "${first.name}"${others > 0 ? ` and ${others} more after it` : ''} not loaded: ` +
        `the resources folders declare ${candidates.length} components, over the ${max} this sidecar runs (--max-components)`,
    },
  };
}
