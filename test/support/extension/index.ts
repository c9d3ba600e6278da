// The extension module tests load (host/sandbox/extensions.ts): a kind and a capability
// that exist only in tests. Every thread that loads or runs components loads it too.
import type { Extension } from '../../../host/sandbox/extensions.ts';
import { echoKind } from './echo-kind.ts';
import { greetingCapability } from './greeting-capability.ts';

export const TEST_EXTENSION = new URL(import.meta.url);

const extension: Extension = { kinds: [echoKind], capabilities: [greetingCapability] };
export default extension;
