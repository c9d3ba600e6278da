// Dapr's gRPC contracts as protobufjs JSON descriptors (host/protos/dapr-descriptors.ts loads
// them): generated from the .proto files of the installed @dapr/dapr, so a start builds the
// services from JSON instead of parsing the .proto text, which held the event loop about twice
// as long. Upgrading @dapr/dapr is `npm run bindgen` (check:bindgen fails until then).
// @dapr/dapr is a development dependency: where it is not installed (the npm package, installed
// for its command), bindgen leaves the committed descriptors alone (daprProtosInstalled).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { generatedHeader, type GeneratedFile } from './model.ts';

export const PROTOS_OUT_DIR = 'host/protos/generated';

/** Each descriptor, by the name dapr-descriptors.ts loads it: its .proto file (with what it imports), and whether field names keep their proto case. */
const SOURCES: Record<string, { file: string; keepCase: boolean }> = {
  runtime: { file: 'dapr/proto/runtime/v1/dapr.proto', keepCase: true },
  internals: { file: 'dapr/proto/internals/v1/service_invocation.proto', keepCase: true },
  // The app channel's calls use proto-loader's default camelCase names.
  appcallback: { file: 'dapr/proto/runtime/v1/appcallback.proto', keepCase: false },
};

function descriptorJson(protoDir: string, file: string, keepCase: boolean): string {
  const root = new protobuf.Root();
  // Imports resolve in @dapr/dapr's proto folder; google/protobuf's well-known types are protobufjs's own, as proto-loader has them.
  root.resolvePath = (_origin, target) => {
    const inDapr = join(protoDir, target);
    return existsSync(inDapr) ? inDapr : target;
  };
  root.loadSync(join(protoDir, file), { keepCase });
  root.resolveAll();
  return JSON.stringify(root.toJSON());
}

function daprPackageJson(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@dapr/dapr/package.json');
  } catch {
    return undefined;
  }
}

/** Whether the .proto files to generate from are installed. */
export function daprProtosInstalled(): boolean {
  return daprPackageJson() !== undefined;
}

export function generateProtoDescriptors(): GeneratedFile[] {
  const packageJson = daprPackageJson();
  if (packageJson === undefined) throw new Error('bindgen: the proto descriptors need @dapr/dapr, a development dependency: run `npm install`');
  const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  const protoDir = join(dirname(packageJson), 'proto');
  const entries = Object.entries(SOURCES).map(
    ([name, { file, keepCase }]) => `  // ${file}${keepCase ? '' : ' (camelCase field names)'}\n  ${name}: ${JSON.stringify(descriptorJson(protoDir, file, keepCase))},`,
  );
  const text = `${generatedHeader('//', `the .proto files of @dapr/dapr ${version}`)}export const DESCRIPTORS = {\n${entries.join('\n')}\n} as const;\n`;
  return [{ path: `${PROTOS_OUT_DIR}/dapr-descriptors.ts`, text }];
}
