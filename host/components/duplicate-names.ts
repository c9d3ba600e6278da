// Two resources files that declare the same component name: one keeps the name, the others
// are refused with an error naming both files. The file that holds the name already (its
// component runs, starts or waits to retry) keeps it, so dropping in a second definition
// never replaces a running component; otherwise the first in scan order wins (folder order,
// a folder's YAML files by name before its bare modules), the same at every start.
import type { DesiredComponent, PlanFailure } from './resources-loader.ts';

export interface NameOwners {
  /** One component per name. */
  components: DesiredComponent[];
  /** The definitions refused, by name. */
  refused: Map<string, PlanFailure[]>;
}

/** Picks one definition per name; `holder` gives the file that holds a name now, if any. */
export function ownersOf(candidates: readonly DesiredComponent[], holder: (name: string) => string | undefined): NameOwners {
  const byName = new Map<string, DesiredComponent[]>();
  for (const c of candidates) {
    const same = byName.get(c.name);
    if (same === undefined) byName.set(c.name, [c]);
    else same.push(c);
  }
  const components: DesiredComponent[] = [];
  const refused = new Map<string, PlanFailure[]>();
  for (const [name, same] of byName) {
    const held = holder(name);
    const owner = same.find((c) => c.source === held) ?? same[0]!;
    components.push(owner);
    if (same.length === 1) continue;
    refused.set(
      name,
      same
        .filter((c) => c !== owner)
        .map((c) => ({
          name,
          type: c.manifest.type,
          source: c.source,
          error: `${c.source}: component "${name}" is already defined by ${owner.source}; this definition is ignored (rename one of them)`,
        })),
    );
  }
  return { components, refused };
}
