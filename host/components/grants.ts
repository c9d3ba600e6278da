// The capability grants a Component YAML gives with `tessera.dev/*` annotations, each parsed
// by its capability's descriptor (host/sandbox/capabilities/). A malformed grant fails the
// YAML, naming the file, the component and the annotation.
import { TesseraError } from '../errors.ts';
import type { Grants } from '../sandbox/capabilities/capability.ts';
import { CAPABILITIES, grantAnnotations } from '../sandbox/capabilities/index.ts';

/** Whether `key` is the annotation of a capability's grant. */
export const isGrantAnnotation = (key: string): boolean => grantAnnotations().has(key);

/** The grants `annotations` give the component `name`, by capability; `source` is its file. */
export function grantsFromAnnotations(annotations: Readonly<Record<string, unknown>>, name: string, source: string): Grants {
  const grants: Record<string, unknown> = {};
  for (const capability of CAPABILITIES.values()) {
    const spec = capability.grant;
    if (spec === undefined || spec.sharedWith !== undefined || !Object.hasOwn(annotations, spec.annotation)) continue;
    const value = String(annotations[spec.annotation]);
    try {
      grants[capability.interface] = spec.parse(value);
    } catch (err) {
      throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: component "${name}": annotation "${spec.annotation}" ${(err as Error).message}`);
    }
  }
  return grants;
}
