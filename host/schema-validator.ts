// JSON Schema validation with ajv, compiled once per schema, on its first use: a sidecar
// starts without loading ajv or compiling the schemas of routes nobody has called. Errors come
// back as readable lines that name the offending field, for messages a user can act on; a few
// of them, each bounded, however many fields a hostile document gets wrong.
import { createRequire } from 'node:module';
import type { Ajv as AjvType, ErrorObject, ValidateFunction } from 'ajv';
import { fewProblems } from './errors.ts';

let ajv: AjvType | undefined;
/** The one ajv instance, loaded on the first compile (CommonJS: `require` loads it at once, where it is needed). */
function theAjv(): AjvType {
  if (ajv === undefined) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajv = new Ajv({ allErrors: true, strict: false });
  }
  return ajv;
}

/** Longest field path or name quoted in a problem (both come from the document). */
const MAX_QUOTED = 100;

export type Validator = (value: unknown) => string[];

const clip = (text: string): string => (text.length <= MAX_QUOTED ? text : `${text.slice(0, MAX_QUOTED)}…`);

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : clip(e.instancePath.slice(1).replaceAll('/', '.'));
  if (e.keyword === 'additionalProperties') return `${where}: unknown field "${clip(String(e.params.additionalProperty))}"`;
  if (e.keyword === 'enum') return `${where}: must be one of ${JSON.stringify(e.params.allowedValues)}`;
  if (e.keyword === 'const') return `${where}: must be ${JSON.stringify(e.params.allowedValue)}`;
  return `${where}: ${e.message ?? 'is invalid'}`;
}

/** The validator over a function ajv compiled ahead of time (host/components/generated/). */
export function validatorOf(validate: ValidateFunction): Validator {
  return (value) => (validate(value) ? [] : fewProblems((validate.errors ?? []).map(describe)));
}

/**
 * A validator for a schema, compiled on its first call; the returned function lists what is
 * wrong with a value (empty when valid).
 */
export function compileValidator(schema: object): Validator {
  let validate: ValidateFunction | undefined;
  return (value) => {
    validate ??= theAjv().compile(schema);
    return validate(value) ? [] : fewProblems((validate.errors ?? []).map(describe));
  };
}
