// JSON Schema validators compiled ahead of time: ajv's standalone code for the schemas a start
// needs at once (a Component YAML is validated on the load worker as the first scan reads the
// resources folder). Loading ajv and compiling the schema there took ~60 ms of a start's CPU;
// the generated module is a plain function. The schemas a request needs (HTTP bodies) are
// still compiled on first use (host/schema-validator.ts).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { packageFile } from '../../package-root.ts';
import { generatedHeader, type GeneratedFile } from './model.ts';

export const VALIDATORS_OUT_DIR = 'host/components/generated';

/** The schemas compiled ahead of time: the file in abi/schemas, and the module the validator goes to. */
const SCHEMAS = [{ schema: 'component.schema.json', module: 'component-schema.ts', what: 'a Dapr Component resource' }];

/** ajv's one runtime helper the standalone code requires, imported the ES-module way. */
const RUNTIME_REQUIRE = /const (\w+) = require\("(ajv\/dist\/runtime\/[\w-]+)"\)\.default;/g;

export function generateSchemaValidators(): GeneratedFile[] {
  const require = createRequire(import.meta.url);
  const { Ajv } = require('ajv') as typeof import('ajv');
  const standalone = (require('ajv/dist/standalone') as { default: (ajv: unknown, validate: unknown) => string }).default;
  return SCHEMAS.map(({ schema, module, what }) => {
    // The options of host/schema-validator.ts, so both report alike.
    const ajv = new Ajv({ allErrors: true, strict: false, code: { source: true, esm: true } });
    const json = JSON.parse(readFileSync(packageFile('abi', 'schemas', schema), 'utf8')) as object;
    const imports: string[] = [];
    const code = standalone(ajv, ajv.compile(json))
      .replace(/^"use strict";/, '')
      .replace(RUNTIME_REQUIRE, (_whole, name: string, path: string) => {
        imports.push(`import ${name}Module from '${path}.js';`);
        return `const ${name} = ${name}Module.default;`;
      });
    const text = `${generatedHeader('//')}// @ts-nocheck: ajv's standalone validator of abi/schemas/${schema} (${what}), as JavaScript.
${imports.join('\n')}
${code}
`;
    return { path: `${VALIDATORS_OUT_DIR}/${module}`, text };
  });
}
