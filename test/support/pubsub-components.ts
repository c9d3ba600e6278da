// FakeComponents with pub/sub brokers: any `PubSub` added under a name with its Component
// YAML metadata, and removable or replaceable, as the registry does on a resources change.
import type { PubSub } from '../../abi/ts/pubsub.ts';
import type { ComponentInfo, LivePubSub } from '../../host/components/types.ts';
import { FakeComponents } from './fake-components.ts';

export class PubSubComponents extends FakeComponents {
  readonly #pubsubs = new Map<string, LivePubSub>();

  /** Adds (or replaces) a ready broker named `name` with the given Component YAML metadata. */
  addPubSub(name: string, pubsub: PubSub, config: Record<string, string> = {}): this {
    this.#pubsubs.set(name, { name, pubsub, config: new Map(Object.entries(config)) });
    return this;
  }

  removePubSub(name: string): this {
    this.#pubsubs.delete(name);
    return this;
  }

  // FakeComponents declares `getPubSub(): undefined`; the overload keeps that type while answering by name.
  override getPubSub(): undefined;
  override getPubSub(name?: string): LivePubSub | undefined {
    return name === undefined ? undefined : this.#pubsubs.get(name);
  }

  override pubSubCount(): number {
    return this.#pubsubs.size;
  }

  override pubSubNames(): string[] {
    return [...this.#pubsubs.keys()];
  }

  override list(): ComponentInfo[] {
    const brokers = [...this.#pubsubs.values()].map(
      ({ name, pubsub }): ComponentInfo => ({ name, kind: 'pubsub', type: 'pubsub.memory', version: 'v1', capabilities: [...pubsub.features], status: 'ready', source: `/resources/${name}.yaml` }),
    );
    return [...super.list(), ...brokers];
  }
}
