// The output half of the bindings building block below the transports: daprd's checks and
// errors, `data` passed as the JSON text daprd's `json.Marshal(req.Data)` gives, and the
// binding's answer handed back as bytes, metadata and a content type.
import type { Binding, InvokeResponse } from '../../../abi/ts/binding.ts';
import type { Metadata } from '../../../abi/ts/types.ts';
import type { ComponentLookup } from '../../components/types.ts';
import { outbound } from '../../resiliency/component-calls.ts';
import type { Resiliency } from '../../resiliency/resiliency.ts';
import { bindingKind } from '../../sandbox/kinds/binding.ts';
import { observed, type BlockObserver } from '../../observability/component-observer.ts';
import { bindingFailed, bindingNotFound, bindingNotLoaded, notAnOutputBinding, operationMissing } from './bindings-errors.ts';

export interface InvokeBindingInput {
  name: string;
  /** The request's `operation`; empty or absent is refused as daprd does. */
  operation: string | undefined;
  /** The request's `data`, already serialised as JSON text (`goJson`). */
  data: Uint8Array;
  metadata: Metadata;
}

/**
 * JSON text as Go's encoding/json writes it (daprd marshals `data` so): `<`, `>`, `&` and
 * U+2028/U+2029 escaped, which JSON.stringify leaves alone. `undefined` (no `data`) is `null`.
 */
export function goJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class BindingsService {
  readonly #components: ComponentLookup;
  readonly #resiliency: Resiliency | undefined;
  /** Told of every invocation (dapr_component_output_binding_*), when metrics are on. */
  readonly #observer: BlockObserver | undefined;

  /** `resiliency`: the outbound policies of invocations (Dapr's Resiliency); none: each runs once. */
  constructor(components: ComponentLookup, resiliency?: Resiliency, observer?: BlockObserver) {
    this.#components = components;
    this.#resiliency = resiliency;
    this.#observer = observer;
  }

  /** The live output binding `name`, or the error daprd gives when there is none. */
  #outputBinding(name: string): Binding {
    const live = this.#components.lookup(bindingKind, name);
    if (live === undefined) {
      const failure = this.#components.failureOf(bindingKind, name);
      if (failure !== undefined) throw bindingNotLoaded(name, failure);
      throw bindingNotFound(name, this.outputNames());
    }
    if (!live.api.output) throw notAnOutputBinding(name);
    return live.api;
  }

  /** Names of the ready output bindings. */
  outputNames(): string[] {
    return this.#components.namesOf(bindingKind).filter((n) => this.#components.lookup(bindingKind, n)?.api.output === true);
  }

  async invoke(input: InvokeBindingInput): Promise<InvokeResponse> {
    const binding = this.#outputBinding(input.name);
    if (input.operation === undefined || input.operation === '') throw operationMissing(input.name);
    try {
      const { operation } = input;
      const observer = this.#observer;
      const req = { operation, data: input.data, metadata: input.metadata };
      return await observed(
        () => outbound(this.#resiliency, input.name, 'Bindings', () => binding.invoke(req)),
        observer && ((ok, ms) => observer.outputBinding(input.name, operation, ok, ms)),
      );
    } catch (err) {
      throw bindingFailed(input.name, err);
    }
  }
}
