// A component kind that exists only in tests, described the way every kind is
// (host/sandbox/kinds/): its own tiny WIT world, its type prefix `echo.`, its adapter (an
// `Echo` with one call), what metadata reports of it, and its instance policy. Its world may
// import `greeting`, a capability that exists only in tests too. Nothing else in the host
// knows of it.
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import type { WitResult } from '../../../abi/ts/types.ts';
import type { ComponentCallable, KindApi, KindDescriptor } from '../../../host/sandbox/kinds/kind.ts';
import { unwrapResult } from '../../../host/sandbox/kinds/wit-result.ts';

/** What a building block would see of an echo component. */
export interface Echo extends KindApi {
  echo(text: string): Promise<string>;
}

const WIT = `package tessera:components@${ABI_VERSION};

/// Echoes text back, the way the component makes it.
interface echo {
  use types.{metadata, error};

  init: func(config: metadata) -> result<_, error>;
  echo: func(text: string) -> result<string, error>;
  ping: func() -> result<_, error>;
}

world echo-component {
  import log;
  import greeting;
  export echo;
}
`;

function adaptEcho(live: ComponentCallable): Echo {
  const call = async <T>(fn: string, ...args: unknown[]): Promise<T> => unwrapResult(live.name, fn, (await live.call(fn, args)) as WitResult<T>);
  return { echo: (text) => call<string>('echo', text), ping: () => call<void>('ping') };
}

export const echoKind: KindDescriptor<Echo> = {
  kind: 'echo',
  typePrefix: 'echo.',
  world: 'echo-component',
  extensions: [],
  wit: WIT,
  adapt: adaptEcho,
  reportedCapabilities: (features) => ['ECHO', ...features],
  instances: 'single',
};
