// Where the components the host ships live: components-wasm/, one folder per component, in
// the checkout and in the installed package alike.
import { packageFile } from '../package-root.ts';

export const BUNDLED_DIR = packageFile('components-wasm');
