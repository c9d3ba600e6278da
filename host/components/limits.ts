// Per-component resource limits and failure policy, set with `tessera.dev/*` annotations on
// a Component YAML (so `spec.metadata` stays the component's own configuration). Every
// limit has a documented default; a bad value fails that YAML with a message naming it.
// Grants of capabilities are annotations too, each parsed by its capability (grants.ts).
import { TesseraError } from '../errors.ts';
import { grantAnnotations } from '../sandbox/capabilities/index.ts';
import {
  DEFAULT_CPU_BUDGET,
  DEFAULT_CPU_SHARE,
  DEFAULT_CPU_SLICE_MS,
  DEFAULT_MAX_INSTANCES,
  DEFAULT_MEMORY_LIMIT_BYTES,
  DEFAULT_QUEUE_LIMIT,
  ISOLATIONS,
  type Isolation,
} from '../sandbox/default-limits.ts';
import { parseCount, parseDuration, parseSize } from '../units.ts';
import { isGrantAnnotation } from './grants.ts';
import { PERSIST, PERSIST_INTERVAL, isPersistAnnotation } from './persist-settings.ts';

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
  /** Calls that may wait for the component at once; more fail fast with ERR_COMPONENT_BUSY. */
  queueLimit: number;
  /** The longest one call may hold the event loop at a stretch before it is paused. */
  cpuSliceMs: number;
  /** The component's share of the event loop over a rolling second (a fraction of one core; 0: no limit). */
  cpuShare: number;
  /** Where the instance runs: on the event loop (`inline`) or on a worker thread of its own (`thread`). */
  isolation: Isolation;
  /** Instances a component whose calls can suspend may run at once (instance-pool.ts); 1 keeps one. */
  maxInstances: number;
}

export const DEFAULT_LIMITS: Readonly<ComponentLimits> = {
  memoryLimitBytes: DEFAULT_MEMORY_LIMIT_BYTES,
  cpuBudget: DEFAULT_CPU_BUDGET,
  callTimeoutMs: 5_000,
  hibernateAfterMs: 10 * 60_000,
  crashLoopTraps: 5,
  crashLoopWindowMs: 30_000,
  queueLimit: DEFAULT_QUEUE_LIMIT,
  cpuSliceMs: DEFAULT_CPU_SLICE_MS,
  cpuShare: DEFAULT_CPU_SHARE,
  isolation: 'inline',
  maxInstances: DEFAULT_MAX_INSTANCES,
};

/** More instances than this would multiply the memory limit past any sensible bound. */
const MAX_INSTANCES_CAP = 256;

const ANNOTATIONS: Record<string, (value: string, setting: string) => Partial<ComponentLimits>> = {
  'tessera.dev/memory-limit': (v, s) => ({ memoryLimitBytes: parseSize(s, v) }),
  'tessera.dev/cpu-budget': (v, s) => ({ cpuBudget: parseCount(s, v) }),
  'tessera.dev/call-timeout': (v, s) => ({ callTimeoutMs: parseDuration(s, v) }),
  'tessera.dev/hibernate-after': (v, s) => ({ hibernateAfterMs: parseDuration(s, v) }),
  'tessera.dev/crash-loop-traps': (v, s) => ({ crashLoopTraps: parseCount(s, v) }),
  'tessera.dev/crash-loop-window': (v, s) => ({ crashLoopWindowMs: parseDuration(s, v) }),
  'tessera.dev/queue-limit': (v, s) => ({ queueLimit: parsePositive(s, v) }),
  'tessera.dev/cpu-slice': (v, s) => ({ cpuSliceMs: parseSlice(s, v) }),
  'tessera.dev/cpu-share': (v, s) => ({ cpuShare: parseShare(s, v) }),
  'tessera.dev/isolation': (v, s) => ({ isolation: parseIsolation(s, v) }),
  'tessera.dev/max-instances': (v, s) => ({ maxInstances: parseInstances(s, v) }),
};

function parseInstances(setting: string, value: string): number {
  const n = parsePositive(setting, value);
  if (n > MAX_INSTANCES_CAP) throw new TesseraError('ERR_COMPONENT_CONFIG', `${setting} must be at most ${MAX_INSTANCES_CAP}, got "${value}"`);
  return n;
}

function parseIsolation(setting: string, value: string): Isolation {
  const isolation = value.trim();
  if (!(ISOLATIONS as readonly string[]).includes(isolation)) throw new TesseraError('ERR_COMPONENT_CONFIG', `${setting} must be ${ISOLATIONS.join(' or ')}, got "${value}"`);
  return isolation as Isolation;
}

/** A CPU slice: at least 1 ms, at most a second (a longer one would not bound anything). */
function parseSlice(setting: string, value: string): number {
  const ms = parseDuration(setting, value);
  if (ms < 1 || ms > 1000) throw new TesseraError('ERR_COMPONENT_CONFIG', `${setting} must be from 1ms to 1s, got "${value}"`);
  return ms;
}

function parsePositive(setting: string, value: string): number {
  const n = parseCount(setting, value);
  if (n < 1) throw new TesseraError('ERR_COMPONENT_CONFIG', `${setting} must be at least 1, got "${value}"`);
  return n;
}

/** `50%` or `0.5` -> 0.5 of one core; `0` turns the share off. */
function parseShare(setting: string, value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(value);
  const share = match ? Number(match[1]) / (match[2] ? 100 : 1) : NaN;
  if (!(share >= 0 && share <= 1)) throw new TesseraError('ERR_COMPONENT_CONFIG', `${setting} must be a share of one core from 0 to 100% (e.g. "50%" or "0.5"), got "${value}"`);
  return share;
}

/**
 * The limits a YAML's annotations ask for, over the defaults. Grant annotations are left to
 * grants.ts, persistence ones to persist-settings.ts; other unknown `tessera.dev/` keys are refused.
 */
export function limitsFromAnnotations(annotations: Readonly<Record<string, string>>, source: string): ComponentLimits {
  const limits: ComponentLimits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith('tessera.dev/') || isGrantAnnotation(key) || isPersistAnnotation(key)) continue;
    const parse = ANNOTATIONS[key];
    if (!parse) {
      const known = [...Object.keys(ANNOTATIONS), ...grantAnnotations().keys(), PERSIST, PERSIST_INTERVAL];
      throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: unknown annotation "${key}" (known: ${known.join(', ')})`);
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
