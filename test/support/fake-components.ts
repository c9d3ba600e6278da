// The one `ComponentDirectory` double, for API and building-block tests: state stores and
// pub/sub brokers and bindings added by hand (any `StateStore` or `PubSub`, as a rule the in-memory doubles
// memory-state-store.ts and memory-pubsub.ts) and files that "failed", without the registry or
// the sandbox. A broker can be removed or replaced, as the registry does on a resources change.
import type { Binding } from '../../abi/ts/binding.ts';
import type { PubSub } from '../../abi/ts/pubsub.ts';
import type { StateStore } from '../../abi/ts/state.ts';
import type { ComponentDirectory, ComponentInfo, GenerationInfo, LiveComponentOf, LivePubSub, LiveStateStore, LoadFailure } from '../../host/components/types.ts';
import { TesseraError } from '../../host/errors.ts';
import type { KindApi, KindDescriptor } from '../../host/sandbox/kinds/kind.ts';
import { pubSubKind } from '../../host/sandbox/kinds/pubsub-broker.ts';
import { stateStoreKind } from '../../host/sandbox/kinds/state-store.ts';

export class FakeComponents implements ComponentDirectory {
  readonly #stores = new Map<string, LiveStateStore>();
  readonly #pubsubs = new Map<string, LivePubSub>();
  readonly #bindings = new Map<string, LiveComponentOf<Binding>>();
  readonly #infos: ComponentInfo[] = [];

  /** Adds a ready state store named `name` with the given Component YAML metadata. */
  addStateStore(name: string, store: StateStore, config: Record<string, string> = {}): this {
    this.#stores.set(name, { name, store, config: new Map(Object.entries(config)) });
    this.#infos.push({
      name,
      kind: 'state-store',
      type: 'state.memory',
      version: 'v1',
      capabilities: [...store.features],
      status: 'ready',
      source: `/resources/${name}.yaml`,
      module: '/resources/state-memory.wasm',
      sha256: '0'.repeat(64),
      loadedAt: '2025-01-01T00:00:00.000Z',
    });
    return this;
  }

  /** Records a component that failed to load (it counts as a configured state store). */
  addFailed(info: ComponentInfo): this {
    this.#infos.push(info);
    return this;
  }

  /** Adds (or replaces) a ready broker named `name` with the given Component YAML metadata. */
  addPubSub(name: string, pubsub: PubSub, config: Record<string, string> = {}): this {
    this.#pubsubs.set(name, { name, pubsub, config: new Map(Object.entries(config)) });
    return this;
  }

  /** Adds (or replaces) a ready binding named `name` with the given Component YAML metadata. */
  addBinding(name: string, binding: Binding, config: Record<string, string> = {}): this {
    this.#bindings.set(name, { name, api: binding, config: new Map(Object.entries(config)) });
    return this;
  }

  removeBinding(name: string): this {
    this.#bindings.delete(name);
    return this;
  }

  removePubSub(name: string): this {
    this.#pubsubs.delete(name);
    return this;
  }

  getPubSub(name: string): LivePubSub | undefined {
    return this.#pubsubs.get(name);
  }

  pubSubCount(): number {
    return this.#pubsubs.size;
  }

  pubSubNames(): string[] {
    return [...this.#pubsubs.keys()];
  }

  /** The lookup by kind, over the lookups of each kind (as the registry answers both). */
  lookup<Api extends KindApi>(kind: KindDescriptor<Api>, name: string): LiveComponentOf<Api> | undefined {
    const directory: ComponentDirectory = this;
    const store = kind.kind === 'state-store' ? directory.getStateStore(name) : undefined;
    const pubsub = kind.kind === 'pubsub' ? directory.getPubSub(name) : undefined;
    const found = store ? { ...store, api: store.store } : pubsub ? { ...pubsub, api: pubsub.pubsub } : kind.kind === 'binding' ? this.#bindings.get(name) : undefined;
    return found as LiveComponentOf<Api> | undefined;
  }

  countOf(kind: KindDescriptor<KindApi>): number {
    return kind.kind === 'state-store' ? this.stateStoreCount() : kind.kind === 'pubsub' ? this.pubSubCount() : kind.kind === 'binding' ? this.#bindings.size : 0;
  }

  namesOf(kind: KindDescriptor<KindApi>): string[] {
    return kind.kind === 'state-store' ? [...this.#stores.keys()] : kind.kind === 'pubsub' ? this.pubSubNames() : kind.kind === 'binding' ? [...this.#bindings.keys()] : [];
  }

  getStateStore(name: string): LiveStateStore | undefined {
    return this.#stores.get(name);
  }

  stateStoreCount(): number {
    return this.#infos.filter((info) => info.kind === 'state-store').length;
  }

  list(): ComponentInfo[] {
    const brokers = [...this.#pubsubs.values()].map(
      ({ name, pubsub }): ComponentInfo => ({ name, kind: 'pubsub', type: 'pubsub.memory', version: 'v1', capabilities: [...pubsub.features], status: 'ready', source: `/resources/${name}.yaml` }),
    );
    return [...this.#infos.map((info) => ({ ...info })), ...brokers];
  }

  /** A component recorded with `addFailed` (of `kind`, by its `kind` field). */
  failureOf(kind: KindDescriptor<KindApi>, name: string): LoadFailure | undefined {
    const info = this.#infos.find((i) => i.name === name && i.status === 'failed' && i.kind === kind.kind);
    return info === undefined ? undefined : { error: info.error ?? '', ...(info.nextRetryAt === undefined ? {} : { nextRetryAt: info.nextRetryAt }) };
  }

  stateStoreFailure(name: string): LoadFailure | undefined {
    return this.failureOf(stateStoreKind, name);
  }

  pubSubFailure(name: string): LoadFailure | undefined {
    return this.failureOf(pubSubKind, name);
  }

  async pingAll(): Promise<string[]> {
    const failing: string[] = [];
    for (const { name, store } of this.#stores.values()) {
      try {
        await store.ping();
      } catch {
        failing.push(name);
      }
    }
    return failing;
  }

  /** Fake components have one generation each and nothing to roll back to. */
  generations(name: string): { current: GenerationInfo; previous: GenerationInfo[] } {
    const info = this.#infos.find((i) => i.name === name && i.status !== 'failed');
    if (!info) throw new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${name}" is not loaded`);
    return { current: { generation: 1, sha256: info.sha256!, module: info.module!, loadedAt: info.loadedAt! }, previous: [] };
  }

  async rollback(name: string): Promise<GenerationInfo> {
    this.generations(name);
    throw new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${name}" has no earlier generation to roll back to`);
  }
}
