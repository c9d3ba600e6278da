// Service invocation on the Dapr gRPC API: InvokeService (what the SDKs' gRPC invokers call),
// an InvokeRequest with its HTTP extension in, the callee's body and content type out. A
// callee that answers outside 2xx/3xx fails the call with ERR_DIRECT_INVOKE carrying its
// status and (bounded) body, as a gRPC caller has no HTTP status to read; a gRPC app's status
// is passed on as it is.
import type { InvokeService } from '../../building-blocks/invoke/invoke-service.ts';
import { TesseraError, truncate } from '../../errors.ts';
import { isGrpcStatus } from '../../building-blocks/invoke/invoke-call.ts';
import { PassedGrpcStatus } from './grpc-error.ts';
import { HTTP_VERBS, type HttpVerb } from '../../building-blocks/invoke/internal-protos.ts';
import type { RpcTable } from './rpc-handlers.ts';

interface InvokeServiceRequest {
  id: string;
  message: {
    method: string;
    data: { type_url: string; value: Buffer } | null;
    content_type: string;
    http_extension: { verb: string; querystring: string } | null;
  } | null;
}

/** Most characters of a failed callee's body kept in the error. */
const MAX_BODY_IN_ERROR = 1024;

export function invokeRpcs(invoke: InvokeService): RpcTable {
  return {
    InvokeService: async (request: InvokeServiceRequest) => {
      const message = request.message;
      if (!request.id) throw new TesseraError('ERR_DIRECT_INVOKE', 'failed getting app id: InvokeServiceRequest.id is empty');
      const verb = message?.http_extension?.verb;
      const answer = await invoke.invoke({
        targetId: request.id,
        method: message?.method ?? '',
        // No HTTP extension (a gRPC-style call) is a POST to the app, as daprd's HTTP channel makes it.
        verb: verb !== undefined && (HTTP_VERBS as readonly string[]).includes(verb) ? (verb as HttpVerb) : 'POST',
        query: message?.http_extension?.querystring ?? '',
        contentType: message?.content_type ?? '',
        metadata: {},
        body: message?.data?.value ?? Buffer.alloc(0),
        typeUrl: message?.data?.type_url ?? '',
      });
      if (isGrpcStatus(answer.status)) {
        // A gRPC app's status reaches a gRPC caller as it is, as daprd passes it on.
        if (answer.status !== 0) throw new PassedGrpcStatus(answer.status, answer.statusMessage ?? '');
        return { data: { type_url: answer.typeUrl ?? '', value: answer.body }, content_type: answer.contentType };
      }
      if (answer.status < 200 || answer.status > 399) {
        throw new TesseraError('ERR_DIRECT_INVOKE', `failed to invoke, id: ${request.id}, err: the app answered HTTP ${answer.status}: ${truncate(answer.body.toString('utf8'), MAX_BODY_IN_ERROR)}`, {
          metadata: { appId: request.id, httpStatus: String(answer.status) },
        });
      }
      return { data: { type_url: '', value: answer.body }, content_type: answer.contentType };
    },
  };
}
