// JSON Schema validation with ajv, compiled once per schema. Errors come back as readable
// lines that name the offending field, for messages a user can act on; a few of them, each
// bounded, however many fields a hostile document gets wrong.
import { Ajv, type ErrorObject } from 'ajv';
import { fewProblems } from './errors.ts';

const ajv = new Ajv({ allErrors: true, strict: false });

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

/** Compiles a schema; the returned function lists what is wrong with a value (empty when valid). */
export function compileValidator(schema: object): Validator {
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : fewProblems((validate.errors ?? []).map(describe)));
}
