// Per-component resource limits and failure policy, set with `tessera.dev/*` annotations on
// a Component YAML (so `spec.metadata` stays the component's own configuration). Every
// limit has a documented default; a bad value fails that YAML with a message naming it.
import { TesseraError } from '../errors.ts';
import { DEFAULT_CPU_BUDGET, DEFAULT_MEMORY_LIMIT_BYTES } from '../sandbox/compiled-component.ts';
import { parseCount, parseDuration, parseSize } from '../units.ts';

export interface ComponentLimits {
  /** Hard cap on the instance's linear memory. */
  memoryLimitBytes: number;
  /** Fuel per call (≈ wasm instructions); 0 turns metering off. */
  cpuBudget: number;
  /** Wall-clock deadline for a call that is suspended on a host function. */
  callTimeoutMs: number;
  /** Idle time after which the instance is given up (0: never). */
  hibernateAfterMs: number;
  /** This many traps within `crashLoopWindowMs` mark the component unhealthy. */
  crashLoopTraps: number;
  crashLoopWindowMs: number;
  /** `host:port` pairs the component may open TCP connections to (a grant, not a limit). */
  allowTcp: string[];
}

export const DEFAULT_LIMITS: Readonly<ComponentLimits> = {
  memoryLimitBytes: DEFAULT_MEMORY_LIMIT_BYTES,
  cpuBudget: DEFAULT_CPU_BUDGET,
  callTimeoutMs: 5_000,
  hibernateAfterMs: 10 * 60_000,
  crashLoopTraps: 5,
  crashLoopWindowMs: 30_000,
  allowTcp: [],
};

const ANNOTATIONS: Record<string, (value: string, setting: string) => Partial<ComponentLimits>> = {
  'tessera.dev/memory-limit': (v, s) => ({ memoryLimitBytes: parseSize(s, v) }),
  'tessera.dev/cpu-budget': (v, s) => ({ cpuBudget: parseCount(s, v) }),
  'tessera.dev/call-timeout': (v, s) => ({ callTimeoutMs: parseDuration(s, v) }),
  'tessera.dev/hibernate-after': (v, s) => ({ hibernateAfterMs: parseDuration(s, v) }),
  'tessera.dev/crash-loop-traps': (v, s) => ({ crashLoopTraps: parseCount(s, v) }),
  'tessera.dev/crash-loop-window': (v, s) => ({ crashLoopWindowMs: parseDuration(s, v) }),
  'tessera.dev/allow-tcp': (v, s) => ({ allowTcp: parseHostPorts(s, v) }),
};

/** `127.0.0.1:6379, redis:6380` -> ['127.0.0.1:6379', 'redis:6380']. */
function parseHostPorts(setting: string, value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const match = /^(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      if (!match || Number(match[2]) > 65535) throw new TesseraError('ERR_COMPONENT_CONFIG', `${setting} must list host:port pairs, got "${entry}"`);
      return entry.toLowerCase();
    });
}

/** The limits a YAML's annotations ask for, over the defaults. Unknown `tessera.dev/` keys are refused. */
export function limitsFromAnnotations(annotations: Readonly<Record<string, string>>, source: string): ComponentLimits {
  const limits: ComponentLimits = { ...DEFAULT_LIMITS, allowTcp: [] };
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith('tessera.dev/')) continue;
    const parse = ANNOTATIONS[key];
    if (!parse) {
      throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: unknown annotation "${key}" (known: ${Object.keys(ANNOTATIONS).join(', ')})`);
    }
    try {
      Object.assign(limits, parse(String(value), `annotation "${key}"`));
    } catch (err) {
      throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: ${(err as Error).message}`);
    }
  }
  if (limits.memoryLimitBytes < 65536) throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: tessera.dev/memory-limit must be at least 64Ki`);
  if (limits.crashLoopTraps < 1) throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: tessera.dev/crash-loop-traps must be at least 1`);
  return limits;
}
