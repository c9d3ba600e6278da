// A raw @grpc/grpc-js client of the Dapr runtime service, from the same protos the sidecar
// loads, for tests and benchmarks that call RPCs the SDK does not expose (the streaming
// subscribe) or look at what goes over the wire (status codes, rich error details).
import { credentials, Metadata, type Client, type ClientDuplexStream, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { daprRuntimePackage } from '../../host/api/grpc/dapr-protos.ts';
import { STATUS_DETAILS_TRAILER } from '../../host/app-channel/app-callbacks.ts';
import { decodeStatusDetails, type RichStatus } from '../../host/api/grpc/rich-status.ts';

export type DaprGrpcClient = Client & Record<string, (...args: unknown[]) => unknown>;

export function daprGrpcClient(address: string): DaprGrpcClient {
  const Dapr = (daprRuntimePackage().v1 as GrpcObject).Dapr as ServiceClientConstructor;
  return new Dapr(address, credentials.createInsecure()) as unknown as DaprGrpcClient;
}

/** Call metadata carrying the API token, when given. */
export function callMetadata(apiToken?: string): Metadata {
  const metadata = new Metadata();
  if (apiToken !== undefined) metadata.set('dapr-api-token', apiToken);
  return metadata;
}

/** A unary call as a promise: the response, or the ServiceError it failed with. */
export function unary<T = Record<string, unknown>>(client: DaprGrpcClient, method: string, request: object, metadata = new Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method]!(request, metadata, (err: ServiceError | null, response: T) => (err ? reject(err) : resolve(response)));
  });
}

/** A unary call's outcome with what came around it: the response (or error), its header metadata and its trailers. */
export interface UnaryOutcome<T> {
  response?: T;
  error?: ServiceError;
  headers: Metadata;
  trailers: Metadata;
}

export function unaryWithMetadata<T = Record<string, unknown>>(client: DaprGrpcClient, method: string, request: object, metadata = new Metadata()): Promise<UnaryOutcome<T>> {
  return new Promise((resolve) => {
    let headers = new Metadata();
    let settled: { response?: T; error?: ServiceError } | undefined;
    const call = client[method]!(request, metadata, (err: ServiceError | null, response: T) => {
      settled = err ? { error: err } : { response };
    }) as { on(event: string, listener: (value: never) => void): void };
    call.on('metadata', (m: Metadata) => (headers = m));
    // grpc-js emits the status (with the trailers) right after the callback.
    call.on('status', (status: { metadata: Metadata }) => resolve({ ...settled, headers, trailers: status.metadata }));
  });
}

/** The rich status a failed call carried in grpc-status-details-bin. */
export function richStatusOf(err: ServiceError): RichStatus | undefined {
  const [bytes] = err.metadata?.get(STATUS_DETAILS_TRAILER) ?? [];
  return bytes instanceof Buffer ? decodeStatusDetails(bytes) : undefined;
}

/** The ServiceError a promise rejected with (fails when it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

export interface SubscribeStream {
  call: ClientDuplexStream<object, Record<string, unknown>>;
  /** The next message the sidecar sent (or the error the stream ended with). */
  next(): Promise<Record<string, unknown>>;
  /** Answers an event. */
  answer(id: string, status: 'SUCCESS' | 'RETRY' | 'DROP'): void;
}

/** Opens SubscribeTopicEventsAlpha1 and sends `initial` as its first message (if given). */
export function openSubscribeStream(client: DaprGrpcClient, initial: object | undefined, metadata = new Metadata()): SubscribeStream {
  const call = client.SubscribeTopicEventsAlpha1!(metadata) as ClientDuplexStream<object, Record<string, unknown>>;
  const queued: Record<string, unknown>[] = [];
  const waiting: { resolve(value: Record<string, unknown>): void; reject(err: Error): void }[] = [];
  let failure: Error | undefined;
  call.on('data', (message: Record<string, unknown>) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(message);
    else queued.push(message);
  });
  const end = (err: Error): void => {
    failure ??= err;
    for (const waiter of waiting.splice(0)) waiter.reject(failure);
  };
  call.on('error', end);
  call.on('end', () => end(new Error('the stream ended')));
  if (initial !== undefined) call.write({ initial_request: initial });
  return {
    call,
    next: () => {
      const message = queued.shift();
      if (message !== undefined) return Promise.resolve(message);
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    answer: (id, status) => call.write({ event_processed: { id, status: { status } } }),
  };
}
