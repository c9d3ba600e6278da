// What an instance gets in place of a capability its YAML does not grant: the same
// functions, each refusing the call. One that returns the ABI's `error` answers
// `err(invalid-argument)`, which the component handles like any refusal; any other fails
// the component's call with a trap naming the capability and the annotation that grants it.
// Never a crash of the host, and nothing of the capability itself is built.
import type { WitError, WitResult } from '../../../abi/ts/types.ts';
import { TesseraError } from '../../errors.ts';
import type { WitInterface, WitType } from '../wit/ast.ts';
import type { HostFunction } from './capability.ts';

const resolved = (t: WitType | undefined): WitType | undefined => {
  while (t?.kind === 'named') t = t.type;
  return t;
};

/** Whether `t` is a `result` whose error is the ABI's `error` variant (an `invalid-argument(string)` case). */
function returnsAbiError(t: WitType | undefined): boolean {
  const result = resolved(t);
  if (result?.kind !== 'result') return false;
  const err = resolved(result.err);
  return err?.kind === 'variant' && err.cases.some((c) => c.name === 'invalid-argument' && resolved(c.type)?.kind === 'primitive');
}

/** The refusing host functions of `iface` for a component not granted it (`annotation` grants it). */
export function notGranted(iface: WitInterface, component: string, annotation: string): Record<string, HostFunction> {
  const functions: Record<string, HostFunction> = {};
  for (const fn of iface.functions) {
    const why = `${iface.name}.${fn.name} is refused for component "${component}": it has no ${iface.name} grant; grant it with the annotation ${annotation}`;
    const refusal: WitResult<never> = { tag: 'err', val: { tag: 'invalid-argument', val: why } satisfies WitError };
    functions[fn.name] = returnsAbiError(fn.result)
      ? () => refusal
      : () => {
          throw new TesseraError('ERR_COMPONENT_TRAP', why);
        };
  }
  return functions;
}
