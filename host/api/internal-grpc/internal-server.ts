// The callee side of sidecar-to-sidecar invocation: Dapr's internal `ServiceInvocation`
// service on `--dapr-internal-grpc-port`. `CallLocal` turns the internal request into a call
// to this sidecar's app over its app channel and the app's answer into the internal response
// (an HTTP app's status in `status.code`, a gRPC app's code and message, as daprd sends
// them). Actor RPCs and the streaming variant answer UNIMPLEMENTED. Calls to any other service are proxied gRPC calls (grpc-proxy.ts),
// relayed to this sidecar's app. Errors carry daprd's codes: INTERNAL when the app cannot be called
// (which the caller does not retry), UNAVAILABLE when the call reached the wrong app id (a
// stale registration: the caller resolves again and retries). With mTLS, the server takes only
// callers whose certificate chains to the trust anchors, and the caller's app id is the one in
// its certificate's SPIFFE id: `dapr-caller-app-id` is set from it, whatever the caller sent.
import type { Socket } from 'node:net';
import { Server, ServerCredentials, status as Status, type MethodDefinition, type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { AppCallbacks } from '../../app-channel/app-callbacks.ts';
import { callApp } from '../../building-blocks/invoke/invoke-call.ts';
import { headersToMetadata, type HeaderValues } from '../../building-blocks/invoke/invoke-headers.ts';
import { STATUS_DETAILS_TRAILER } from '../../app-channel/app-callbacks.ts';
import { decodeRpcStatus, type AnyMessage } from '../../protos/rpc-status.ts';
import { normaliseMethod } from '../../building-blocks/invoke/method-path.ts';
import type { GrpcProxy } from '../../building-blocks/invoke/grpc-proxy.ts';
import type { Logger } from '../../observability/logger.ts';
import type { MtlsMaterial } from '../../security/mtls-credentials.ts';
import { callerAppId } from '../../security/peer-identity.ts';
import { serveUnknownMethods } from '../grpc/unknown-methods.ts';
import { serveRawUnary, type RawUnaryCall } from '../grpc/raw-unary.ts';
import { closeGrpc, injectConnections, listenGrpc, SERVER_OPTIONS } from '../grpc/grpc-listen.ts';
import { MESSAGE_HEADROOM_BYTES, invokeVerbOf, serviceInvocationService, type InternalInvokeRequest, type InternalInvokeResponse } from '../../building-blocks/invoke/internal-protos.ts';


/** How long close() lets calls under way finish before it cuts them. */
const CLOSE_GRACE_MS = 2000;

export interface InternalServerDeps {
  appId: string;
  channel: AppCallbacks | undefined;
  maxBodyBytes: number;
  logger: Logger;
  /** Serve over mTLS; undefined: insecure. */
  mtls?: MtlsMaterial | undefined;
  /** Proxied gRPC calls from other sidecars, for this sidecar's app. */
  proxy?: GrpcProxy | undefined;
}

export interface InternalServer {
  listen(host: string, port: number): Promise<number>;
  /** Serves a connection accepted elsewhere, paused (deferred-listener.ts). */
  inject(socket: Socket): void;
  close(): Promise<void>;
}

function failure(code: Status, message: string): Partial<ServiceError> {
  return { code, details: message, message };
}

/**
 * A gRPC app's rich error details (its `grpc-status-details-bin` trailer, base64 from the app
 * channel) go in the response's `status.details`, as daprd's callee puts them, not among the
 * trailers: a daprd caller reads them there. Details that do not decode stay a trailer.
 */
function takeStatusDetails(trailers: HeaderValues): { trailers: HeaderValues; details: AnyMessage[] } {
  const raw = trailers[STATUS_DETAILS_TRAILER];
  const encoded = Array.isArray(raw) ? raw[0] : raw;
  if (encoded === undefined) return { trailers, details: [] };
  try {
    const { details } = decodeRpcStatus(Buffer.from(encoded, 'base64'));
    const { [STATUS_DETAILS_TRAILER]: _taken, ...rest } = trailers;
    return { trailers: rest, details };
  } catch {
    return { trailers, details: [] };
  }
}

async function callLocal(deps: InternalServerDeps, request: InternalInvokeRequest, call: RawUnaryCall): Promise<InternalInvokeResponse> {
  // Over mTLS the certificate says who calls; a header saying otherwise is overridden. A
  // caller refused throws a PeerIdentityError, which carries its gRPC status.
  if (deps.mtls !== undefined) request.metadata['dapr-caller-app-id'] = { values: [callerAppId(call)] };
  const callee = request.metadata['dapr-callee-app-id']?.values[0];
  if (callee !== undefined && callee !== deps.appId) throw failure(Status.UNAVAILABLE, `this sidecar serves app id "${deps.appId}", not "${callee}"`);
  let method: string;
  try {
    // The caller normalised it; a caller that did not is not trusted to have.
    method = normaliseMethod(request.message.method);
  } catch (err) {
    throw failure(Status.INVALID_ARGUMENT, (err as Error).message);
  }
  try {
    const answer = await callApp(
      deps.channel,
      deps.appId,
      {
        method,
        verb: invokeVerbOf(request.message.http_extension),
        query: request.message.http_extension?.querystring ?? '',
        contentType: request.message.content_type,
        metadata: request.metadata,
        body: request.message.data?.value ?? Buffer.alloc(0),
        typeUrl: request.message.data?.type_url ?? '',
      },
      { signal: call.signal, maxBodyBytes: deps.maxBodyBytes, timeoutMs: call.timeoutMs },
    );
    const { trailers, details } = takeStatusDetails(answer.trailers ?? {});
    return {
      status: { code: answer.status, message: answer.statusMessage ?? '', details },
      headers: headersToMetadata(answer.headers),
      trailers: headersToMetadata(trailers, true),
      message: { content_type: answer.contentType, data: { type_url: answer.typeUrl ?? '', value: answer.body } },
    };
  } catch (err) {
    // The app channel's errors already say so; others (no app channel) are prefixed as daprd does.
    const message = (err as Error).message;
    throw failure(Status.INTERNAL, message.startsWith('error invoking app channel: ') ? message : `error invoking app channel: ${message}`);
  }
}

/** mTLS: a client certificate is required and verified against the trust anchors. */
function credentialsOf(mtls: MtlsMaterial | undefined): ServerCredentials {
  if (mtls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(mtls.trustAnchors, [{ cert_chain: mtls.certChain, private_key: mtls.key }], true);
}

export function createInternalServer(deps: InternalServerDeps): InternalServer {
  const service = serviceInvocationService();
  const implementation: UntypedServiceImplementation = {};
  for (const [name, definition] of Object.entries(service)) {
    // CallLocal is served on its raw HTTP/2 streams, below.
    if (name === 'CallLocal') continue;
    const unimplemented = failure(Status.UNIMPLEMENTED, `${name} is not implemented by Tessera`);
    implementation[name] = (
      definition.responseStream
        ? (call: { emit(event: 'error', err: object): void }) => call.emit('error', unimplemented)
        : (_call: unknown, callback: (err: object) => void) => callback(unimplemented)
    ) as UntypedServiceImplementation[string];
  }
  const server = new Server({
    ...SERVER_OPTIONS,
    'grpc.max_receive_message_length': deps.maxBodyBytes + MESSAGE_HEADROOM_BYTES,
    'grpc.max_send_message_length': deps.maxBodyBytes + MESSAGE_HEADROOM_BYTES,
  });
  server.addService(service, implementation);
  const maxMessageBytes = deps.maxBodyBytes + MESSAGE_HEADROOM_BYTES;
  serveRawUnary(server, service.CallLocal as MethodDefinition<InternalInvokeRequest, InternalInvokeResponse>, maxMessageBytes, (request, call) =>
    callLocal(deps, request, call).catch((err: Partial<ServiceError>) => {
      deps.logger.debug('internal CallLocal failed', { code: err.code, message: err.details });
      throw err;
    }),
  );
  const proxy = deps.proxy;
  if (proxy !== undefined) serveUnknownMethods(server, (stream) => proxy.proxy(stream, 'sidecar'));
  return {
    listen: (host, port) => listenGrpc(server, host, port, credentialsOf(deps.mtls)),
    inject: injectConnections(server, credentialsOf(deps.mtls)),
    close: () => closeGrpc(server, CLOSE_GRACE_MS),
  };
}
