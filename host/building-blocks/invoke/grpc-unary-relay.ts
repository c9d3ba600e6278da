// A proxied call under a resiliency policy, as daprd runs one: the whole call is an attempt
// (its timeout cuts it, its retry sends it again, its breaker counts it), so the caller's one
// request message is kept to be sent again, and the callee's answer (headers, message,
// trailers, status) is held until the attempt is over and then sent to the caller once. Both
// are single messages of at most `--max-body-size`. A call that turns out to stream (a second
// message either way) fails FAILED_PRECONDITION, as daprd refuses retries on streaming RPCs;
// streams say so with `dapr-stream: true` metadata and are relayed as they go, outside the policy.
import { Metadata, status as Status, type ClientDuplexStream, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { endToEndMetadata } from './grpc-relay.ts';

const STREAMING = 'cannot use resiliency policies with retries on streaming RPCs';

/** What the callee answered to one attempt. */
export interface UnaryOutcome {
  headers: Metadata | undefined;
  message: Buffer | undefined;
  status: StatusObject;
}

/** A failure of the proxy itself, as the status the caller gets. */
export class ProxyStatusError extends Error {
  readonly code: Status;
  constructor(code: Status, message: string) {
    super(message);
    this.code = code;
  }
}

/** The caller's request: its one message (or none) once it half-closes. */
export function readSingleRequest(inbound: ServerDuplexStream<Buffer, Buffer>): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let message: Buffer | undefined;
    const onData = (chunk: Buffer): void => {
      if (message === undefined) {
        message = chunk;
        return;
      }
      inbound.off('data', onData);
      reject(new ProxyStatusError(Status.FAILED_PRECONDITION, STREAMING));
    };
    inbound.on('data', onData);
    inbound.once('end', () => resolve(message));
    inbound.once('cancelled', () => reject(new ProxyStatusError(Status.CANCELLED, 'the caller cancelled the call')));
  });
}

/** One attempt: `request` on a fresh outbound call; resolves with the callee's whole answer, or its cancellation when `signal` aborts. */
export function callOnce(outbound: ClientDuplexStream<Buffer, Buffer>, request: Buffer | undefined, signal: AbortSignal): Promise<UnaryOutcome> {
  return new Promise((resolve) => {
    const outcome: Omit<UnaryOutcome, 'status'> = { headers: undefined, message: undefined };
    let status: StatusObject | undefined;
    let ended = false;
    let streamed = false;
    const cancel = (): void => outbound.cancel();
    // The status comes with the end of the messages: the answer is whole once both are in.
    const settle = (): void => {
      if (status === undefined || !ended) return;
      signal.removeEventListener('abort', cancel);
      resolve({ ...outcome, status: streamed ? { code: Status.FAILED_PRECONDITION, details: STREAMING, metadata: new Metadata() } : status });
    };
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    outbound.on('metadata', (headers) => (outcome.headers = headers));
    outbound.on('data', (message: Buffer) => {
      if (outcome.message === undefined) return void (outcome.message = message);
      streamed = true;
      outbound.cancel();
    });
    outbound.on('error', () => {});
    outbound.on('status', (received) => {
      status = received;
      settle();
    });
    outbound.on('end', () => {
      ended = true;
      settle();
    });
    if (request !== undefined) outbound.write(request);
    outbound.end();
  });
}

/** The failure an outcome is, for the policy: any status but OK. */
export function failureOf(outcome: UnaryOutcome): { grpc: number } | undefined {
  return outcome.status.code === Status.OK ? undefined : { grpc: outcome.status.code };
}

/** Sends the callee's answer to the caller. */
export function answer(inbound: ServerDuplexStream<Buffer, Buffer>, outcome: UnaryOutcome): void {
  if (inbound.cancelled) return;
  if (outcome.headers !== undefined) inbound.sendMetadata(endToEndMetadata(outcome.headers));
  const trailers = endToEndMetadata(outcome.status.metadata ?? new Metadata());
  if (outcome.status.code !== Status.OK) {
    inbound.emit('error', { code: outcome.status.code, details: outcome.status.details, metadata: trailers });
    return;
  }
  if (outcome.message !== undefined) inbound.write(outcome.message);
  inbound.end(trailers);
}
