// Service invocation, as daprd's direct messaging does it: the method is normalised first
// (a traversal refused before anything else), the app id split into id and namespace, and the
// call run under the target app's resiliency policy: a call to this sidecar's own app id goes
// straight to its app channel, any other is resolved by the name resolver and sent to the
// callee sidecar's internal gRPC API. With no policy for the app, daprd's built-in retry
// applies instead: a callee not reached (UNAVAILABLE, UNAUTHENTICATED) is tried again up to 3
// times, 1 s apart, resolving the id afresh each time.
import { STATUS_DETAILS_TRAILER, type AppCallbacks } from '../../app-channel/app-callbacks.ts';
import type { ClientMetrics } from '../../observability/grpc-metrics.ts';
import { InternalClients, isServiceError } from './internal-client.ts';
import { TesseraError, isTesseraError } from '../../errors.ts';
import { NO_POLICY, runWithPolicy, type FailureStatus, type TargetPolicy } from '../../resiliency/policy-runner.ts';
import type { RetryPolicy } from '../../resiliency/resiliency-document.ts';
import type { Resiliency } from '../../resiliency/resiliency.ts';
import { callApp, isGrpcStatus, type InvokeAnswer, type InvokeCall } from './invoke-call.ts';
import { addCallerHeaders, metadataToHeaders } from './invoke-headers.ts';
import type { InternalInvokeResponse } from './internal-protos.ts';
import { normaliseMethod } from './method-path.ts';
import type { NameResolver } from './name-resolution/name-resolver.ts';
import type { MtlsMaterial } from '../../security/mtls-credentials.ts';

const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

/** daprd's `BuiltInServiceRetries`: 3 retries, 1 s apart, of a callee that was not reached. */
export const BUILT_IN_RETRY: RetryPolicy = {
  name: 'DaprBuiltInServiceRetries',
  policy: 'constant',
  durationMs: 1000,
  initialIntervalMs: 1000,
  maxIntervalMs: 1000,
  multiplier: 1,
  randomizationFactor: 0,
  maxRetries: 3,
  grpcStatusCodes: new Set([UNAVAILABLE, UNAUTHENTICATED]),
};

export interface InvokeServiceOptions {
  appId: string;
  namespace: string;
  channel: AppCallbacks | undefined;
  resolver: NameResolver;
  resiliency: Resiliency | undefined;
  maxBodyBytes: number;
  /** mTLS to the callee sidecars; undefined: insecure. */
  mtls?: MtlsMaterial | undefined;
  /** Overrides the built-in retry (tests shorten its wait). */
  builtInRetry?: RetryPolicy;
  /** daprd's gRPC client families for the calls to other sidecars; undefined with metrics off. */
  clientMetrics?: ClientMetrics | undefined;
}

/** The call as the HTTP API (or the gRPC API) received it, before the method is checked. */
export type InvokeInput = Omit<InvokeCall, 'method'> & { targetId: string; method: string; signal?: AbortSignal };

/**
 * The callee's trailers, with its gRPC app's rich error details (`status.details`, where
 * daprd's callee and ours put them) as the `grpc-status-details-bin` trailer, base64 as the
 * app channel gives it, which the gRPC API sends on as bytes.
 */
async function withStatusDetails(response: InternalInvokeResponse): Promise<Record<string, string[]> | undefined> {
  const trailers = response.trailers === undefined ? undefined : metadataToHeaders(response.trailers, true);
  const { code, message, details } = response.status;
  if (details === undefined || details.length === 0 || code === 0 || !isGrpcStatus(code)) return trailers;
  // Imported on this path only: protobufjs is not part of a start.
  const { encodeRpcStatus } = await import('../../protos/rpc-status.ts');
  return { ...trailers, [STATUS_DETAILS_TRAILER]: [encodeRpcStatus({ code, message, details }).toString('base64')] };
}

export class InvokeService {
  readonly #options: InvokeServiceOptions;
  readonly #clients: InternalClients;

  constructor(options: InvokeServiceOptions) {
    this.#options = options;
    this.#clients = new InternalClients(options.maxBodyBytes, options.mtls, options.clientMetrics);
  }

  /** Invokes `method` on app `targetId` (`id` or `id.namespace`); resolves with the app's answer, whatever its status. */
  async invoke(input: InvokeInput): Promise<InvokeAnswer> {
    const method = normaliseMethod(input.method);
    const { appId, namespace } = this.#options;
    const [id, ns = namespace, ...extra] = input.targetId.split('.');
    if (id === undefined || id === '' || ns === '' || extra.length > 0) throw invokeError(input.targetId, 'invalid app id: use "id" or "id.namespace"');
    const call: InvokeCall = { verb: input.verb, query: input.query, contentType: input.contentType, metadata: input.metadata, body: input.body, method, ...(input.typeUrl ? { typeUrl: input.typeUrl } : {}) };
    const local = id === appId && ns === namespace;
    const policy = this.#options.resiliency?.app(id) ?? NO_POLICY;
    const hasPolicy = policy.timeoutMs !== undefined || policy.retry !== undefined || policy.breaker !== undefined;
    const run: TargetPolicy = hasPolicy || local ? policy : { target: `app "${id}"`, retry: this.#options.builtInRetry ?? BUILT_IN_RETRY };
    const op = local ? (signal: AbortSignal) => this.#callLocal(call, signal) : (signal: AbortSignal) => this.#callRemote(id, ns, call, signal);
    try {
      return await runWithPolicy(run, op, {
        ...(input.signal === undefined ? {} : { signal: input.signal }),
        // A user's policy counts the callee's 5xx (and any status its retry matches) as failures; the built-in one only unreached callees.
        ...(hasPolicy ? { failureOf: (answer: InvokeAnswer) => failureOf(answer, policy) } : {}),
        statusOf: (err) => (isServiceError(err) ? { grpc: err.code } : {}),
        // The built-in policy retries only callees not reached: an id no resolver knows fails at once, as in daprd.
        permanent: (err) => !hasPolicy && !isServiceError(err),
      });
    } catch (err) {
      throw invokeError(input.targetId, err);
    }
  }

  async #callLocal(call: InvokeCall, signal: AbortSignal): Promise<InvokeAnswer> {
    const { appId, channel, maxBodyBytes } = this.#options;
    const metadata = { ...call.metadata };
    addCallerHeaders(metadata, appId, appId);
    return callApp(channel, appId, { ...call, metadata }, { signal, maxBodyBytes });
  }

  async #callRemote(id: string, namespace: string, call: InvokeCall, signal: AbortSignal): Promise<InvokeAnswer> {
    const { resolver, appId } = this.#options;
    const address = await resolver.resolve(id, namespace);
    if (address === undefined) {
      throw new TesseraError('ERR_DIRECT_INVOKE', `no sidecar of app id "${id}" (namespace "${namespace}") is registered with the ${resolver.name} name resolver; is it running?`);
    }
    const metadata = { ...call.metadata };
    addCallerHeaders(metadata, appId, id);
    try {
      const response = await this.#clients.call(
        address,
        { appId: id, namespace },
        {
          ver: 'V1',
          metadata,
          message: {
            method: call.method,
            data: { type_url: call.typeUrl ?? '', value: call.body },
            content_type: call.contentType,
            http_extension: call.verb === null ? null : { verb: call.verb, querystring: call.query },
          },
        },
        signal,
      );
      const trailers = await withStatusDetails(response);
      return {
        status: response.status.code,
        statusMessage: response.status.message,
        headers: metadataToHeaders(response.headers),
        ...(trailers === undefined ? {} : { trailers }),
        contentType: response.message.content_type,
        typeUrl: response.message.data?.type_url ?? '',
        body: response.message.data?.value ?? Buffer.alloc(0),
      };
    } catch (err) {
      // Resolved afresh next time: the instance may have gone, or moved to another port.
      if (isServiceError(err) && err.code === UNAVAILABLE) resolver.forget(id, namespace);
      throw err;
    }
  }

  close(): void {
    this.#clients.close();
  }
}

function failureOf(answer: InvokeAnswer, policy: TargetPolicy): FailureStatus | undefined {
  // A gRPC app's status other than OK is a failure, which the retry's gRPC codes may match.
  if (isGrpcStatus(answer.status)) return answer.status === 0 ? undefined : { grpc: answer.status };
  if (answer.status >= 500 || policy.retry?.httpStatusCodes?.has(answer.status)) return { http: answer.status };
  return undefined;
}

/** daprd's ERR_DIRECT_INVOKE (500) naming the app id; a refused request keeps its own code. */
function invokeError(targetId: string, err: unknown): TesseraError {
  if (isTesseraError(err) && err.code !== 'ERR_DIRECT_INVOKE' && err.code !== 'ERR_APP_CHANNEL') return err;
  const why = isServiceError(err) ? err.details || err.message : err instanceof Error ? err.message : String(err);
  return new TesseraError('ERR_DIRECT_INVOKE', `failed to invoke, id: ${targetId}, err: ${why}`, { cause: err, metadata: { appId: targetId } });
}
