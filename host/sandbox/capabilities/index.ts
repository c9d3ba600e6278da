// The table of host capabilities, by WIT interface name: the built-in ones, and any a
// module registers (host/sandbox/extensions.ts). Everything the host does per capability
// comes from here: which imports suspend, which annotation grants what, the import
// functions each instance gets, and what is reported about grants at load.
import { TesseraError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { WitInterface } from '../wit/ast.ts';
import type { Capability, Grants, HostFunction } from './capability.ts';
import { clockCapability } from './clock.ts';
import { httpCapability } from './http.ts';
import { logCapability } from './log.ts';
import { notGranted } from './not-granted.ts';
import { randomCapability } from './random.ts';
import { redisCapability } from './redis.ts';
import { sleepCapability } from './sleep.ts';
import { tcpCapability } from './tcp.ts';
import { timezoneCapability } from './timezone.ts';

const table = new Map<string, Capability>(
  [logCapability, clockCapability, randomCapability, sleepCapability, tcpCapability, httpCapability, timezoneCapability, redisCapability].map((c) => [c.interface, c]),
);
let registrations = 0;

/** Every capability by WIT interface name (a live view: registrations show up in it). */
export const CAPABILITIES: ReadonlyMap<string, Capability> = table;

/** Adds a capability beyond the built-in ones; its interface must be new, and so must its grant annotation. */
export function registerCapability(capability: Capability): void {
  if (table.has(capability.interface)) throw new TesseraError('ERR_INTERNAL', `capability "${capability.interface}" is already registered`);
  const annotation = capability.grant?.annotation;
  const owner = annotation === undefined ? undefined : grantAnnotations().get(annotation);
  if (owner !== undefined) throw new TesseraError('ERR_INTERNAL', `capability "${capability.interface}": annotation ${annotation} already grants capability "${owner}"`);
  table.set(capability.interface, capability);
  registrations++;
}

/** Changes whenever a capability is registered (caches of what derives from the table compare it). */
export const capabilitiesVersion = (): number => registrations;

/** Grant annotations and the capability each grants. */
export function grantAnnotations(): Map<string, string> {
  const annotations = new Map<string, string>();
  for (const c of table.values()) if (c.grant && c.grant.sharedWith === undefined) annotations.set(c.grant.annotation, c.interface);
  return annotations;
}

/** The grant a capability gets from `grants`: its own, or that of the capability whose annotation it shares. */
export const grantOf = (capability: Capability, grants: Grants): unknown => grants[capability.grant?.sharedWith ?? capability.interface];

/** WIT sources of registered capabilities whose interface is not in abi/wit. */
export const capabilityWit = (): string[] => [...table.values()].flatMap((c) => (c.wit === undefined ? [] : [c.wit]));

export interface InstanceContext {
  component: string;
  logger: Logger;
  grants: Grants;
  onDispose(cleanup: () => void): void;
  shared: Map<string, unknown>;
  memoryLimitBytes: number;
}

/**
 * The host functions of one capability for one instance: the capability's own when it needs
 * no grant or the component has it, else functions that refuse every call (not-granted.ts).
 */
export function hostFunctions(capability: Capability, iface: WitInterface, ctx: InstanceContext): Record<string, HostFunction> {
  const { component, logger, grants, onDispose, shared, memoryLimitBytes } = ctx;
  const grant = grantOf(capability, grants);
  if (capability.grant !== undefined && grant === undefined) return notGranted(iface, component, capability.grant.annotation);
  return capability.build({ component, logger, grant, onDispose, shared, memoryLimitBytes });
}

/**
 * What a component should be told at load about its grants: each capability it imports but
 * is not granted (its calls are refused), each grant for a capability it does not import,
 * and what each capability's own check finds.
 */
export function grantProblems(component: string, imported: ReadonlySet<string>, grants: Grants): string[] {
  const problems: string[] = [];
  for (const capability of table.values()) {
    const spec = capability.grant;
    if (spec === undefined) continue;
    const use = { component, imported: imported.has(capability.interface), grant: grantOf(capability, grants) };
    const granted = use.grant !== undefined;
    // A grant serves every capability that shares its annotation (tcp's serves redis): it is
    // unused only when none of them is imported, and told of once, by its owner.
    const usedBySharer = [...table.values()].some((c) => c.grant?.sharedWith === capability.interface && imported.has(c.interface));
    if (use.imported && !granted) {
      problems.push(`it imports capability "${capability.interface}" but its YAML does not grant it (annotation ${spec.annotation}): its ${capability.interface} calls are refused`);
    } else if (!use.imported && granted && !usedBySharer && spec.sharedWith === undefined) {
      problems.push(`annotation ${spec.annotation} grants capability "${capability.interface}", which the component does not import`);
    }
    problems.push(...(spec.check?.(use) ?? []));
  }
  return problems;
}
