// A host capability that exists only in tests, described the way every capability is
// (host/sandbox/capabilities/): its WIT interface, which function suspends, and its grant —
// the annotation `tessera.dev/greeting` gives the salutation (one word), and a load-time
// check warns when it shouts. Nothing else in the host knows of it.
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import type { WitResult } from '../../../abi/ts/types.ts';
import type { Capability } from '../../../host/sandbox/capabilities/capability.ts';

export const GREETING_ANNOTATION = 'tessera.dev/greeting';

const WIT = `package tessera:components@${ABI_VERSION};

/// Greets in the words the component's grant gives (tessera.dev/greeting). \`greet\` suspends
/// the component, as a capability doing I/O does.
interface greeting {
  use types.{error};

  /// "<salutation>, <name>".
  greet: func(name: string) -> result<string, error>;
  /// The salutation alone.
  salutation: func() -> string;
}
`;

export const greetingCapability: Capability<string> = {
  interface: 'greeting',
  async: new Set(['greet']),
  wit: WIT,
  grant: {
    annotation: GREETING_ANNOTATION,
    parse(value) {
      const word = value.trim();
      if (!/^[A-Za-z]{1,20}$/.test(word)) throw new Error(`must be one word of letters, got "${value}"`);
      return word;
    },
    check: ({ grant }) => (grant !== undefined && grant === grant.toUpperCase() ? [`the salutation "${grant}" is all capitals: it shouts`] : []),
  },
  build: ({ grant }) => ({
    greet: async (name: string): Promise<WitResult<string>> => ({ tag: 'ok', val: `${grant}, ${name}` }),
    salutation: () => grant,
  }),
};
