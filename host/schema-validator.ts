// JSON Schema validation with ajv, compiled once per schema. Errors come back as readable
// lines that name the offending field, for messages a user can act on.
import { Ajv, type ErrorObject } from 'ajv';

const ajv = new Ajv({ allErrors: true, strict: false });

export type Validator = (value: unknown) => string[];

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : e.instancePath.slice(1).replaceAll('/', '.');
  if (e.keyword === 'additionalProperties') return `${where}: unknown field "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'enum') return `${where}: must be one of ${JSON.stringify(e.params.allowedValues)}`;
  if (e.keyword === 'const') return `${where}: must be ${JSON.stringify(e.params.allowedValue)}`;
  return `${where}: ${e.message ?? 'is invalid'}`;
}

/** Compiles a schema; the returned function lists what is wrong with a value (empty when valid). */
export function compileValidator(schema: object): Validator {
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map(describe));
}
