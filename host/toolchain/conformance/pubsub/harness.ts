// What every pub/sub check is written against: the broker bound as the sidecar binds one
// (adaptPubSub: a dedicated instance per subscription when `pull` can wait), topics of the
// check's own, and pulls that wait a bounded while, in small timeouts, for what should come.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message, PubSub, PubSubSubscription } from '../../../../abi/ts/pubsub.ts';
import type { LiveComponent } from '../../../sandbox/live-component.ts';
import { adaptPubSub } from '../../../sandbox/kinds/pubsub-adapter.ts';
import { fail, type Check as KitCheck, type StartInstance, type Subject } from '../check.ts';

export { describeBytes, expectAccepted, expectRefused, fail, metadataValue, needs, outcome, sameBytes, skipCheck, utf8 } from '../check.ts';

/** One started broker, as the pub/sub building block sees it. */
export interface Broker {
  pubsub: PubSub;
  live: LiveComponent;
}

export interface CheckContext extends Broker {
  subject: Subject;
  /** Another instance of the broker, with `config` over the subject's. */
  fresh(config?: Record<string, string>): Promise<Broker>;
  /** A topic name of this check's own (and this run's, for a broker that keeps topics outside its instance). */
  topic(name: string): string;
}

export type Check = KitCheck<CheckContext>;

/** How long a message that should come is waited for. */
export const DELIVERY_WAIT_MS = 3000;
/** The timeout of each pull of a broker that can wait; so a wait is many short pulls. */
const PULL_TIMEOUT_MS = 100;
/** The pause between pulls of a broker that answers at once. */
const POLL_MS = 10;

/** The broker over `live`, its subscriptions' dedicated instances (when `pull` can wait) started by `start` with `config`. */
export function brokerOver(live: LiveComponent, start: StartInstance, config: ReadonlyMap<string, string>): Broker {
  const pubsub = adaptPubSub({
    name: live.name,
    get features() {
      return live.features;
    },
    call: (fn, args) => live.call(fn, args),
    generation: 0,
    blocking: live.compiled.needsJspi,
    exports: live.compiled.optionalExports,
    dedicatedInstance: async () => {
      const own = await start(config);
      return { call: (fn, args) => own.call(fn, args), close: () => own.close() };
    },
  });
  return { pubsub, live };
}

const decoder = new TextDecoder();
export const text = (m: Message): string => decoder.decode(m.data);
export const texts = (messages: Message[]): string[] => messages.map(text);
const shown = (data: string[]): string => (data.length === 0 ? 'nothing' : data.map((d) => JSON.stringify(d)).join(', '));

/** One pull: waits up to its short timeout when the broker can wait, else answers what is there. */
export const pullOnce = (sub: PubSubSubscription, max = 10): Promise<Message[]> => sub.pull(max, sub.canWait ? PULL_TIMEOUT_MS : 0);

/** Pulls until `count` messages came or `ms` passed; what came, unacknowledged. */
export async function collect(sub: PubSubSubscription, count: number, ms = DELIVERY_WAIT_MS): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + ms;
  while (got.length < count && Date.now() < deadline) {
    const batch = await pullOnce(sub, count - got.length);
    got.push(...batch);
    if (batch.length === 0 && !sub.canWait) await sleep(POLL_MS);
  }
  return got;
}

/** The messages with exactly the data `want` (in any order) come, and are acknowledged `success`. */
export async function expectDelivered(sub: PubSubSubscription, want: string[], when: string): Promise<Message[]> {
  const got = await collect(sub, want.length);
  const data = texts(got);
  const missing = want.filter((w) => !data.includes(w));
  if (missing.length > 0) fail(`${shown(missing)} did not come within ${DELIVERY_WAIT_MS / 1000} s ${when} on topic ${JSON.stringify(sub.topic)} (came: ${shown(data)})`);
  const extra = data.filter((d, i) => !want.includes(d) || data.indexOf(d) !== i);
  if (extra.length > 0) fail(`${shown(extra)} came ${when} on topic ${JSON.stringify(sub.topic)}, which was not expected (or not twice)`);
  for (const m of got) await sub.ack(m.id, 'success');
  return got;
}

/** Nothing more comes on `sub` (one pull). */
export async function expectQuiet(sub: PubSubSubscription, when: string): Promise<void> {
  const got = await pullOnce(sub);
  if (got.length > 0) fail(`${shown(texts(got))} came again ${when} on topic ${JSON.stringify(sub.topic)}`);
}

/** A publish of text `data` to `topic`. */
export const publish = (pubsub: PubSub, topic: string, data: string): Promise<void> => pubsub.publish({ topic, data: new TextEncoder().encode(data), metadata: [] });

/** Fails unless `m` carries `want` (the pairs given at publish; a broker may add its own). */
export function expectMetadata(m: Message, want: [string, string][], what: string): void {
  const absent = want.filter(([k, v]) => !m.metadata.some(([mk, mv]) => mk === k && mv === v));
  if (absent.length > 0) fail(`${what} came without the metadata ${JSON.stringify(absent)} it was published with (it carries ${JSON.stringify(m.metadata)})`);
}
