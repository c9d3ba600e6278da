// JSON Schema validators compiled ahead of time: ajv's standalone code for the schemas a start
// needs at once (a Component YAML and a module's manifest, validated on the load worker as the
// first scan reads the resources folder). Loading ajv and compiling the schemas there took
// ~100 ms of a start's CPU; a generated module is a plain function. The schemas a request needs (HTTP bodies) are
// still compiled on first use (host/schema-validator.ts).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { packageFile } from '../../package-root.ts';
import { manifestSchema } from '../../sandbox/manifest.ts';
import { generatedHeader, type GeneratedFile } from './model.ts';

export const VALIDATORS_OUT_DIRS = ['host/components/generated', 'host/sandbox/generated'];

/** The schemas compiled ahead of time: where the schema comes from, and the module the validator goes to. */
const SCHEMAS: { from: string; schema: () => object; module: string; what: string }[] = [
  {
    from: 'abi/schemas/component.schema.json',
    schema: () => JSON.parse(readFileSync(packageFile('abi', 'schemas', 'component.schema.json'), 'utf8')) as object,
    module: 'host/components/generated/component-schema.ts',
    what: 'a Dapr Component resource',
  },
  {
    from: 'abi/schemas/manifest.schema.json and the built-in kinds and capabilities',
    schema: manifestSchema,
    module: 'host/sandbox/generated/manifest-schema.ts',
    what: "a component's manifest",
  },
];

/** ajv's one runtime helper the standalone code requires, imported the ES-module way. */
const RUNTIME_REQUIRE = /const (\w+) = require\("(ajv\/dist\/runtime\/[\w-]+)"\)\.default;/g;

export function generateSchemaValidators(): GeneratedFile[] {
  const require = createRequire(import.meta.url);
  const { Ajv } = require('ajv') as typeof import('ajv');
  const standalone = (require('ajv/dist/standalone') as { default: (ajv: unknown, validate: unknown) => string }).default;
  return SCHEMAS.map(({ from, schema, module, what }) => {
    // The options of host/schema-validator.ts, so both report alike.
    const ajv = new Ajv({ allErrors: true, strict: false, code: { source: true, esm: true } });
    const imports: string[] = [];
    const code = standalone(ajv, ajv.compile(schema()))
      .replace(/^"use strict";/, '')
      .replace(RUNTIME_REQUIRE, (_whole, name: string, path: string) => {
        imports.push(`import ${name}Module from '${path}.js';`);
        return `const ${name} = ${name}Module.default;`;
      });
    const text = `${generatedHeader('//', from)}// @ts-nocheck: ajv's standalone validator of ${what}, as JavaScript.
${imports.join('\n')}
${code}
`;
    return { path: module, text };
  });
}
