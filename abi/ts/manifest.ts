// The manifest every component carries in its `tessera:manifest` custom section (JSON),
// validated against `abi/schemas/manifest.schema.json`. See abi/ABI.md.

/** The WIT package version this host implements; a component names it in `abi`. */
export const ABI_VERSION = '0.1.3';
/**
 * ABI versions this host can load. 0.1.1, 0.1.2 and 0.1.3 only added interfaces and worlds (`@since` in the
 * WIT), so a module built against an earlier one loads as it is, bound by the names it spells.
 */
export const SUPPORTED_ABI_VERSIONS: readonly string[] = ['0.1.0', '0.1.1', '0.1.2', ABI_VERSION];
/** Name of the custom section holding the manifest. */
export const MANIFEST_SECTION = 'tessera:manifest';

/**
 * A component kind, which names the WIT world(s) a component implements: `state-store`,
 * `pubsub`, or another kind of the host's table (host/sandbox/kinds/), which checks it.
 */
export type ComponentKind = string;

export interface Manifest {
  /** The component kind (its WIT world). */
  kind: ComponentKind;
  /** The Dapr component type, e.g. `state.memory`; a Component YAML's `spec.type` names it. */
  type: string;
  /** The Dapr component version, e.g. `v1`; matched against a YAML's `spec.version`. */
  version: string;
  /** The WIT package version the component was built against, e.g. `0.1.0`. */
  abi: string;
  /** Host capabilities (WIT interfaces) the component imports, e.g. `["log", "clock"]`. */
  capabilities: string[];
  /** One line on what the component is. */
  description?: string;
}
