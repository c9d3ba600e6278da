// JSON Schemas of the state API's request bodies, compiled once at load, with the TypeScript
// shapes they guarantee. Lenient where daprd's Go decoding is (nulls, unknown fields).
import { compileValidator } from '../../schema-validator.ts';

export interface OptionsBody {
  concurrency?: string | null;
  consistency?: string | null;
}

export interface StateRequestBody {
  key: string;
  value?: unknown;
  etag?: string | null;
  metadata?: Record<string, string> | null;
  options?: OptionsBody | null;
}

export interface BulkGetBody {
  keys?: string[] | null;
  parallelism?: number | null;
  metadata?: Record<string, string> | null;
}

export interface TransactionBody {
  operations?: Array<{ operation: string; request: StateRequestBody }> | null;
  metadata?: Record<string, string> | null;
}

const nullableString = { type: ['string', 'null'] };
const metadata = { type: ['object', 'null'], additionalProperties: { type: 'string' } };
const stateRequest = {
  type: 'object',
  required: ['key'],
  properties: {
    key: { type: 'string' },
    etag: nullableString,
    metadata,
    options: {
      type: ['object', 'null'],
      properties: { concurrency: nullableString, consistency: nullableString },
    },
  },
};

export const validateSaveBody = compileValidator({ type: 'array', items: stateRequest });

export const validateBulkGetBody = compileValidator({
  type: 'object',
  properties: {
    keys: { type: ['array', 'null'], items: { type: 'string' } },
    parallelism: { type: ['integer', 'null'], minimum: 0 },
    metadata,
  },
});

export const validateTransactionBody = compileValidator({
  type: 'object',
  properties: {
    operations: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        required: ['operation', 'request'],
        properties: { operation: { type: 'string' }, request: stateRequest },
      },
    },
    metadata,
  },
});
