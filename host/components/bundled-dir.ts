// Where the components the host ships live: components-wasm/, one folder per component.
import { fileURLToPath } from 'node:url';

export const BUNDLED_DIR = fileURLToPath(new URL('../../components-wasm/', import.meta.url));
