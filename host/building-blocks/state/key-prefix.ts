// Dapr's state key prefixing: a store's `keyPrefix` setting decides what goes in front of a
// user key (`<appId>||key` by default), so apps sharing one store do not see each other's keys.
import { TesseraError } from '../../errors.ts';

const SEPARATOR = '||';

function refuseSeparator(key: string): void {
  if (key.includes(SEPARATOR)) {
    throw new TesseraError('ERR_MALFORMED_REQUEST', `input key/keyPrefix '${key}' can't contain '${SEPARATOR}'`);
  }
}

export class KeyPrefix {
  readonly #prefix: string;

  /** `prefix` is what goes before the separator; empty means keys are stored as given. */
  constructor(prefix: string) {
    this.#prefix = prefix === '' ? '' : prefix + SEPARATOR;
  }

  /** What goes before every user key (`<appId>||`), or '' when keys are stored as given. */
  get value(): string {
    return this.#prefix;
  }

  /** The key the store sees; refuses a user key containing `||`, as Dapr does. */
  apply(key: string): string {
    refuseSeparator(key);
    return this.#prefix + key;
  }

  /** The user's key back from a stored key. */
  strip(storedKey: string): string {
    if (this.#prefix !== '' && storedKey.startsWith(this.#prefix)) return storedKey.slice(this.#prefix.length);
    return storedKey;
  }
}

export interface KeyPrefixContext {
  storeName: string;
  appId: string;
  /** The Kubernetes namespace, for the `namespace` strategy; Dapr reads `NAMESPACE`. */
  namespace?: string;
}

/**
 * The prefix a store's `keyPrefix` setting asks for: `appid` (default), `name`, `namespace`,
 * `none`, or any other value as a literal prefix. Dapr lowercases the setting before use, so
 * a literal prefix is lowercased too: keys stay compatible with data written by daprd.
 */
export function keyPrefixFor(config: ReadonlyMap<string, string>, context: KeyPrefixContext): KeyPrefix {
  const setting = config.get('keyPrefix') ?? '';
  if (setting.includes(SEPARATOR)) {
    throw new TesseraError(
      'ERR_COMPONENT_CONFIG',
      `state store ${context.storeName}: keyPrefix '${setting}' can't contain '${SEPARATOR}'; choose appid, name, namespace, none or a literal without '${SEPARATOR}'`,
    );
  }
  const strategy = setting.toLowerCase();
  switch (strategy) {
    case '':
    case 'appid':
      return new KeyPrefix(context.appId);
    case 'name':
      return new KeyPrefix(context.storeName);
    case 'none':
      return new KeyPrefix('');
    case 'namespace':
      if (context.appId === '' || !context.namespace) return new KeyPrefix(context.appId);
      return new KeyPrefix(`${context.namespace}.${context.appId}`);
    default:
      return new KeyPrefix(strategy);
  }
}
