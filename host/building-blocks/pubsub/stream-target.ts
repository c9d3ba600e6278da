// The target of a streaming subscription (SubscribeTopicEventsAlpha1): each message is sent
// down the app's stream, and its delivery waits for the app's answer naming the event's id
// (SUCCESS, RETRY or DROP), or for the deadline, or for the stream to close, whichever
// comes first. An unanswered event is a retry, so the broker redelivers it.
import type { BulkEntry } from './bulk-delivery.ts';
import type { AppVerdict } from '../../app-channel/app-callbacks.ts';
import { verdictOfStatus } from '../../app-channel/http-callbacks.ts';
import type { PreparedMessage } from './app-delivery.ts';
import type { MessageTarget } from './message-target.ts';
import type { Subscription } from './subscription.ts';

/** Sends one event down the stream; `id` is what the app's answer will name. */
export type SendEvent = (id: string, message: PreparedMessage, subscription: Subscription) => void;

export class StreamTarget implements MessageTarget {
  readonly #send: SendEvent;
  /** The events sent and not answered, by id. */
  readonly #waiting = new Map<string, (verdict: AppVerdict) => void>();
  #closed: string | undefined;

  constructor(send: SendEvent) {
    this.#send = send;
  }

  deliver(_path: string, message: PreparedMessage, subscription: Subscription, timeoutMs: number, signal: AbortSignal): Promise<AppVerdict> {
    if (this.#closed !== undefined) return Promise.resolve({ outcome: 'retry', reason: this.#closed });
    const id = String(message.event.id ?? '');
    // Answers name the event by id: two events with one id at once could not be told apart.
    if (this.#waiting.has(id)) return Promise.resolve({ outcome: 'retry', reason: `event ${id} is already waiting for the stream's answer` });
    return new Promise((resolve) => {
      const settle = (verdict: AppVerdict): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#waiting.delete(id);
        resolve(verdict);
      };
      const onAbort = (): void => settle({ outcome: 'retry', reason: 'the subscription stopped' });
      const timer = setTimeout(() => settle({ outcome: 'retry', reason: `the stream did not answer event ${id} within ${timeoutMs} ms` }), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.set(id, settle);
      try {
        this.#send(id, message, subscription);
      } catch (err) {
        settle({ outcome: 'retry', reason: `sending event ${id} down the stream failed: ${(err as Error).message}` });
      }
    });
  }

  /** Streams carry one event at a time: a bulk subscription cannot be opened on one. */
  deliverBulk(_path: string, entries: BulkEntry[]): Promise<Map<string, AppVerdict>> {
    const verdict: AppVerdict = { outcome: 'retry', reason: 'a stream does not take bulk deliveries' };
    return Promise.resolve(new Map(entries.map((e) => [e.entryId, verdict])));
  }

  /** The app's answer for event `id`: false when no event of that id is waiting. */
  answer(id: string, status: string): boolean {
    const settle = this.#waiting.get(id);
    if (settle === undefined) return false;
    settle(verdictOfStatus(status, ` for event ${id}`));
    return true;
  }

  /** The stream ended: every event waiting, and every later one, is a retry. */
  close(reason: string): void {
    this.#closed = reason;
    for (const settle of [...this.#waiting.values()]) settle({ outcome: 'retry', reason });
  }
}
