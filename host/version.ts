// The runtime version, from package.json, without loading anything else.
import { createRequire } from 'node:module';

export const RUNTIME_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
