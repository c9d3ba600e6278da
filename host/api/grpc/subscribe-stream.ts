// SubscribeTopicEventsAlpha1, the streaming subscription: the app's first message names
// the pubsub and topic (initial_request); the sidecar subscribes and answers
// initial_response; then each message goes down as event_message and the app answers it
// with event_processed (its id and SUCCESS, RETRY or DROP). The delivery itself — routing,
// retries, dead letters, the deadline for an answer, redelivery of what was unanswered when
// the stream closed — is the pub/sub building block's (streaming-subscriptions.ts).
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { StreamingSubscriptions, StreamSubscription } from '../../building-blocks/pubsub/streaming-subscriptions.ts';
import { TesseraError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { grpcErrorStatus } from './grpc-error.ts';
import type { ProtoMap } from './grpc-messages.ts';
import type { StreamRpc } from './rpc-handlers.ts';
import { topicEventRequest } from './topic-event.ts';

interface SubscribeRequest {
  initial_request?: { pubsub_name: string; topic: string; metadata: ProtoMap; dead_letter_topic?: string } | null;
  event_processed?: { id: string; status: { status: string } | null } | null;
}

type Stream = ServerDuplexStream<SubscribeRequest, object>;

export function subscribeStream(streams: StreamingSubscriptions, logger: Logger | undefined): StreamRpc {
  return (raw) => {
    const stream = raw as unknown as Stream;
    let subscription: StreamSubscription | undefined;
    let opening = false;
    let ended = false;

    const fail = (err: unknown): void => {
      if (ended) return;
      ended = true;
      stream.emit('error', grpcErrorStatus(err));
    };
    const closed = (reason: string): void => {
      ended = true;
      void subscription?.close(reason);
    };

    stream.on('data', (request: SubscribeRequest) => {
      if (ended) return;
      if (subscription === undefined) {
        if (opening) return;
        const initial = request.initial_request;
        if (!initial) {
          fail(new TesseraError('ERR_MALFORMED_REQUEST', 'initial request is required: the first message of SubscribeTopicEventsAlpha1 must be initial_request'));
          return;
        }
        opening = true;
        const open = streams.open(
          { pubsubName: initial.pubsub_name, topic: initial.topic, metadata: initial.metadata, deadLetterTopic: initial.dead_letter_topic ?? '' },
          (_id, message, sub) => {
            if (ended || stream.cancelled) throw new Error('the stream is closed');
            stream.write({ event_message: topicEventRequest(message, sub.pubsubName, sub.topic, '') });
          },
          () => {
            if (ended) return;
            ended = true;
            stream.end();
          },
        );
        open.then(
          (opened) => {
            subscription = opened;
            if (ended) void opened.close('the stream closed while subscribing');
            else stream.write({ initial_response: {} });
          },
          fail,
        );
        return;
      }
      const processed = request.event_processed;
      if (!processed) return;
      const status = processed.status?.status ?? 'SUCCESS';
      if (!subscription.answer(processed.id, status)) logger?.debug(`the stream answered event ${processed.id}, which is not waiting for an answer (answered late, or twice)`);
    });
    stream.on('end', () => {
      closed('the app ended the stream');
      stream.end();
    });
    stream.on('cancelled', () => closed('the app cancelled the stream'));
    stream.on('error', (err: Error) => closed(`the stream failed: ${err.message}`));
    stream.on('close', () => closed('the stream closed'));
  };
}
