// The caller side of sidecar-to-sidecar invocation: one gRPC client per callee address, kept
// for the calls that follow (HTTP/2, one connection each), dropped when a call to it fails
// UNAVAILABLE so the next attempt dials afresh (daprd tears its connection down then too).
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { MESSAGE_HEADROOM_BYTES } from './internal-server.ts';
import { serviceInvocationClient, type InternalInvokeRequest, type InternalInvokeResponse } from './internal-protos.ts';

/** Most callee addresses kept connected; the oldest is closed past this. */
const MAX_CLIENTS = 256;

type CallLocal = (
  request: InternalInvokeRequest,
  metadata: Metadata,
  options: { deadline?: number },
  callback: (err: ServiceError | null, response?: InternalInvokeResponse) => void,
) => { cancel(): void };

/** A failed internal call: the gRPC status code (UNAVAILABLE: not reached) and the callee's message. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as ServiceError).code === 'number' && 'details' in err;
}

export class InternalClients {
  readonly #clients = new Map<string, Client>();
  readonly #maxMessageBytes: number;

  constructor(maxBodyBytes: number) {
    this.#maxMessageBytes = maxBodyBytes + MESSAGE_HEADROOM_BYTES;
  }

  #client(address: string): Client {
    let client = this.#clients.get(address);
    if (client !== undefined) return client;
    const Constructor = serviceInvocationClient();
    client = new Constructor(address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': this.#maxMessageBytes,
      'grpc.max_send_message_length': this.#maxMessageBytes,
    });
    this.#clients.set(address, client);
    if (this.#clients.size > MAX_CLIENTS) {
      const [oldest] = this.#clients.keys();
      this.drop(oldest!);
    }
    return client;
  }

  /** Calls `CallLocal` on the sidecar at `address`; rejects with the ServiceError when it fails. */
  call(address: string, request: InternalInvokeRequest, signal: AbortSignal): Promise<InternalInvokeResponse> {
    const client = this.#client(address) as unknown as { CallLocal: CallLocal };
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => call.cancel();
      const call = client.CallLocal(request, new Metadata(), {}, (err, response) => {
        signal.removeEventListener('abort', onAbort);
        if (err !== null) {
          if (err.code === 14) this.drop(address);
          reject(signal.aborted ? signal.reason : err);
        } else resolve(response!);
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Closes the connection to `address`, if any. */
  drop(address: string): void {
    this.#clients.get(address)?.close();
    this.#clients.delete(address);
  }

  close(): void {
    for (const address of [...this.#clients.keys()]) this.drop(address);
  }
}
