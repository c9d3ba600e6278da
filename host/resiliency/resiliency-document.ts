// Dapr's `Resiliency` resource (apiVersion dapr.io/v1alpha1, kind Resiliency), checked against
// its schema and turned into typed policies: every duration parsed, every CEL `trip` compiled,
// every policy a target names defined. A document that fails is refused whole, with each
// problem named (`spec.policies.retries.important.duration: "5x" is not a duration ...`).
import { TesseraError, fewProblems } from '../errors.ts';
import { compileValidator } from '../schema-validator.ts';
import { parseGoDuration } from './go-duration.ts';
import { compileTrip, type TripExpression } from './trip-expression.ts';
import { parseStatusCodes, type StatusCodes } from './status-codes.ts';

export interface RetryPolicy {
  name: string;
  policy: 'constant' | 'exponential';
  /** Between attempts of a constant policy. */
  durationMs: number;
  /** The first wait of an exponential policy. */
  initialIntervalMs: number;
  /** The longest wait of an exponential policy. */
  maxIntervalMs: number;
  multiplier: number;
  randomizationFactor: number;
  /** Retries after the first attempt; -1: no limit. */
  maxRetries: number;
  /** The statuses that are retried; undefined: every failure. */
  httpStatusCodes?: StatusCodes;
  grpcStatusCodes?: StatusCodes;
}

export interface CircuitBreakerPolicy {
  name: string;
  /** Calls let through while half-open. */
  maxRequests: number;
  /** How often a closed breaker clears its counts; 0: never. */
  intervalMs: number;
  /** How long an open breaker stays open before it lets a trial call through. */
  timeoutMs: number;
  trip: TripExpression;
}

export interface TargetPolicies {
  timeout?: string;
  retry?: string;
  circuitBreaker?: string;
}

export interface ResiliencyDocument {
  name: string;
  source: string;
  /** App ids the document applies to; empty: every app. */
  scopes: string[];
  timeouts: Map<string, number>;
  retries: Map<string, RetryPolicy>;
  circuitBreakers: Map<string, CircuitBreakerPolicy>;
  apps: Map<string, TargetPolicies>;
  components: Map<string, { outbound?: TargetPolicies; inbound?: TargetPolicies }>;
}

/**
 * Named policies of each kind (timeouts, retries, circuit breakers) one document may hold, and
 * targets of each kind: far more than a service needs, few enough that reading a document
 * (every breaker's CEL `trip` is compiled, on the event loop) stays short.
 */
const MAX_POLICIES = 100;
const MAX_TARGETS = 1000;

const name = { type: 'string', minLength: 1, maxLength: 253 };
const targetPolicies = {
  type: 'object',
  additionalProperties: false,
  properties: { timeout: name, retry: name, circuitBreaker: name },
};
/** A map of named policies, each an object of `properties` only. */
const namedPolicies = (properties: Record<string, object>) => ({
  type: 'object',
  maxProperties: MAX_POLICIES,
  additionalProperties: { type: 'object', additionalProperties: false, properties },
});
const SCHEMA = {
  type: 'object',
  required: ['kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'dapr.io/v1alpha1' },
    kind: { const: 'Resiliency' },
    metadata: { type: 'object', required: ['name'], properties: { name } },
    scopes: { type: 'array', items: name, maxItems: 1000 },
    spec: {
      type: 'object',
      additionalProperties: false,
      properties: {
        policies: {
          type: 'object',
          additionalProperties: false,
          properties: {
            timeouts: { type: 'object', maxProperties: MAX_POLICIES, additionalProperties: { type: 'string' } },
            retries: namedPolicies({
              policy: { enum: ['constant', 'exponential'] },
              duration: { type: 'string' },
              initialInterval: { type: 'string' },
              maxInterval: { type: 'string' },
              multiplier: { type: 'number', minimum: 1, maximum: 100 },
              randomizationFactor: { type: 'number', minimum: 0, maximum: 1 },
              maxRetries: { type: 'integer', minimum: -1, maximum: 2147483647 },
              matching: {
                type: 'object',
                additionalProperties: false,
                properties: { httpStatusCodes: { type: 'string', maxLength: 1000 }, gRPCStatusCodes: { type: 'string', maxLength: 1000 } },
              },
            }),
            circuitBreakers: namedPolicies({
              maxRequests: { type: 'integer', minimum: 0, maximum: 2147483647 },
              interval: { type: 'string' },
              timeout: { type: 'string' },
              trip: { type: 'string', maxLength: 1000 },
            }),
          },
        },
        targets: {
          type: 'object',
          additionalProperties: false,
          properties: {
            apps: { type: 'object', maxProperties: MAX_TARGETS, additionalProperties: targetPolicies },
            actors: { type: 'object' },
            components: {
              type: 'object',
              maxProperties: MAX_TARGETS,
              additionalProperties: { type: 'object', additionalProperties: false, properties: { outbound: targetPolicies, inbound: targetPolicies } },
            },
          },
        },
      },
    },
  },
};

const validate = compileValidator(SCHEMA);

interface RawRetry {
  policy?: 'constant' | 'exponential';
  duration?: string;
  initialInterval?: string;
  maxInterval?: string;
  multiplier?: number;
  randomizationFactor?: number;
  maxRetries?: number;
  matching?: { httpStatusCodes?: string; gRPCStatusCodes?: string };
}

interface RawBreaker {
  maxRequests?: number;
  interval?: string;
  timeout?: string;
  trip?: string;
}

interface RawDocument {
  metadata: { name: string };
  scopes?: string[];
  spec: {
    policies?: { timeouts?: Record<string, string>; retries?: Record<string, RawRetry>; circuitBreakers?: Record<string, RawBreaker> };
    targets?: { apps?: Record<string, TargetPolicies>; components?: Record<string, { outbound?: TargetPolicies; inbound?: TargetPolicies }> };
  };
}

/** Collects problems with their place, so one refusal names them all. */
class Problems {
  readonly list: string[] = [];

  duration(where: string, text: string | undefined, fallbackMs: number): number {
    if (text === undefined) return fallbackMs;
    const ms = parseGoDuration(text);
    if (ms instanceof Error) {
      this.list.push(`${where}: ${ms.message}`);
      return fallbackMs;
    }
    return ms;
  }
}

function retryPolicy(policyName: string, raw: RawRetry, problems: Problems): RetryPolicy {
  const where = `spec.policies.retries.${policyName}`;
  const policy: RetryPolicy = {
    name: policyName,
    policy: raw.policy ?? 'constant',
    durationMs: problems.duration(`${where}.duration`, raw.duration, 5000),
    initialIntervalMs: problems.duration(`${where}.initialInterval`, raw.initialInterval, 500),
    maxIntervalMs: problems.duration(`${where}.maxInterval`, raw.maxInterval, 60_000),
    multiplier: raw.multiplier ?? 1.5,
    randomizationFactor: raw.randomizationFactor ?? 0.5,
    maxRetries: raw.maxRetries ?? -1,
  };
  for (const [field, text] of [
    ['httpStatusCodes', raw.matching?.httpStatusCodes],
    ['gRPCStatusCodes', raw.matching?.gRPCStatusCodes],
  ] as const) {
    if (text === undefined) continue;
    const codes = parseStatusCodes(text, field === 'httpStatusCodes' ? [100, 599] : [0, 16]);
    if (codes instanceof Error) problems.list.push(`${where}.matching.${field}: ${codes.message}`);
    else if (field === 'httpStatusCodes') policy.httpStatusCodes = codes;
    else policy.grpcStatusCodes = codes;
  }
  return policy;
}

function breakerPolicy(policyName: string, raw: RawBreaker, problems: Problems): CircuitBreakerPolicy | undefined {
  const where = `spec.policies.circuitBreakers.${policyName}`;
  const trip = compileTrip(raw.trip ?? 'consecutiveFailures > 5');
  if (trip instanceof Error) {
    problems.list.push(`${where}.trip: ${trip.message}`);
    return undefined;
  }
  return {
    name: policyName,
    maxRequests: raw.maxRequests ?? 1,
    intervalMs: problems.duration(`${where}.interval`, raw.interval, 0),
    timeoutMs: problems.duration(`${where}.timeout`, raw.timeout, 60_000),
    trip,
  };
}

function checkNames(where: string, target: TargetPolicies | undefined, doc: ResiliencyDocument, problems: Problems): void {
  if (target === undefined) return;
  const named: [keyof TargetPolicies, Map<string, unknown>, string][] = [
    ['timeout', doc.timeouts, 'timeouts'],
    ['retry', doc.retries, 'retries'],
    ['circuitBreaker', doc.circuitBreakers, 'circuitBreakers'],
  ];
  for (const [field, policies, section] of named) {
    const policyName = target[field];
    if (policyName !== undefined && !policies.has(policyName)) problems.list.push(`${where}.${field}: names "${policyName}", which spec.policies.${section} does not define`);
  }
}

/** The policies of a Resiliency document (`source` names its file); ERR_COMPONENT_CONFIG naming every problem. */
export function parseResiliency(document: unknown, source: string): ResiliencyDocument {
  const schemaProblems = validate(document);
  if (schemaProblems.length > 0) throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: invalid Resiliency: ${schemaProblems.join('; ')}`);
  const raw = document as RawDocument;
  const problems = new Problems();
  const policies = raw.spec.policies ?? {};
  const doc: ResiliencyDocument = {
    name: raw.metadata.name,
    source,
    scopes: raw.scopes ?? [],
    timeouts: new Map(Object.entries(policies.timeouts ?? {}).map(([n, text]) => [n, problems.duration(`spec.policies.timeouts.${n}`, text, 0)])),
    retries: new Map(Object.entries(policies.retries ?? {}).map(([n, r]) => [n, retryPolicy(n, r, problems)])),
    circuitBreakers: new Map(Object.entries(policies.circuitBreakers ?? {}).flatMap(([n, b]) => {
      const breaker = breakerPolicy(n, b, problems);
      return breaker === undefined ? [] : [[n, breaker] as const];
    })),
    apps: new Map(Object.entries(raw.spec.targets?.apps ?? {})),
    components: new Map(Object.entries(raw.spec.targets?.components ?? {})),
  };
  for (const [app, target] of doc.apps) checkNames(`spec.targets.apps.${app}`, target, doc, problems);
  for (const [component, { outbound, inbound }] of doc.components) {
    checkNames(`spec.targets.components.${component}.outbound`, outbound, doc, problems);
    checkNames(`spec.targets.components.${component}.inbound`, inbound, doc, problems);
  }
  if (problems.list.length > 0) throw new TesseraError('ERR_COMPONENT_CONFIG', `${source}: invalid Resiliency "${doc.name}": ${fewProblems(problems.list).join('; ')}`);
  return doc;
}
