// Relays one proxied gRPC call between the stream the sidecar accepted and the stream it
// opened onward, as daprd's proxy handler does: request messages one way, response headers,
// messages, trailers and status the other, all as raw bytes. Backpressure both ways: a side
// that cannot take more pauses the other (grpc-js reads a message from the wire only when its
// stream wants one, so nothing piles up here). Cancelling either side cancels the other.
import type { Writable } from 'node:stream';
import type { ClientDuplexStream, Metadata, ServerDuplexStream, StatusObject } from '@grpc/grpc-js';

/**
 * Transport headers that each hop sets for itself; the rest of the metadata passes through
 * (`grpc-status-details-bin`, the rich error details, included).
 */
const HOP_HEADERS = ['content-type', 'content-length', 'te', 'user-agent', 'date', 'server', 'host', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'grpc-status', 'grpc-message'];

/** A copy of `metadata` without the headers of the hop it came over. */
export function endToEndMetadata(metadata: Metadata): Metadata {
  const copy = metadata.clone();
  for (const key of HOP_HEADERS) copy.remove(key);
  return copy;
}

/** Pipes `inbound` (the call the sidecar took) and `outbound` (the call it made) into each other until the callee's status. */
export function relay(inbound: ServerDuplexStream<Buffer, Buffer>, outbound: ClientDuplexStream<Buffer, Buffer>, done: (status: StatusObject) => void): void {
  // grpc-js types its streams' write() for their message type, not as a Writable of bytes; they are Writables all the same.
  const requests = outbound as unknown as Writable;
  let status: StatusObject | undefined;
  let ended = false;
  let finished = false;
  const finish = (): void => {
    // The status comes with the end of the messages; the last ones may still be on their way to the caller.
    if (finished || status === undefined || !ended) return;
    finished = true;
    inbound.unpipe(requests);
    const trailers = endToEndMetadata(status.metadata);
    if (status.code === 0) inbound.end(trailers);
    else inbound.emit('error', { code: status.code, details: status.details, metadata: trailers });
    done(status);
  };
  inbound.on('cancelled', () => {
    if (finished) return;
    finished = true;
    outbound.cancel();
  });
  // Requests: pipe() pauses the caller while the callee is slow to take them, and half-closes the call at the caller's end.
  inbound.pipe(requests);
  outbound.on('metadata', (headers) => {
    if (!finished) inbound.sendMetadata(endToEndMetadata(headers));
  });
  outbound.on('data', (message: Buffer) => {
    if (finished || inbound.write(message)) return;
    outbound.pause();
    inbound.once('drain', () => outbound.resume());
  });
  // A failed call ends in its status, which is relayed below; the 'error' event says the same.
  outbound.on('error', () => {});
  outbound.on('status', (received) => {
    status = received;
    finish();
  });
  outbound.on('end', () => {
    ended = true;
    finish();
  });
}
