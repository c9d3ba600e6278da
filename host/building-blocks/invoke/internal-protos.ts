// Dapr's sidecar-to-sidecar protocol, `dapr.proto.internals.v1.ServiceInvocation`, from the
// descriptor generated from the .proto files @dapr/dapr ships (host/protos): loaded once, on
// first use (after the HTTP API listens), as the Dapr API's protos are. The message shapes
// below are the ones proto-loader gives with the Dapr API's options (snake_case fields, enums
// as names, defaults filled in).
import type { GrpcObject, ServiceClientConstructor, ServiceDefinition } from '@grpc/grpc-js';
import { loadGrpcObject } from '../../protos/dapr-descriptors.ts';

/** One header or metadata entry: every value it was given. */
export interface ListStringValue {
  values: string[];
}

/** The verbs of `common.v1.HTTPExtension`. */
export const HTTP_VERBS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
export type HttpVerb = (typeof HTTP_VERBS)[number];
/**
 * The verb of a call as the caller's HTTP extension gave it: an HTTP verb, `NONE` (the enum's
 * zero), or `null` for a request with no HTTP extension at all (a gRPC-style call). A gRPC app
 * gets it as sent, as daprd passes the caller's message on; an HTTP app gets POST for the last two.
 */
export type InvokeVerb = HttpVerb | 'NONE' | null;

/** The verb of an HTTP extension as proto-loader gives it (enum names; a number for a value this proto does not know). */
export function invokeVerbOf(extension: { verb: unknown } | null | undefined): InvokeVerb {
  if (extension === null || extension === undefined) return null;
  const verb = extension.verb;
  return typeof verb === 'string' && (HTTP_VERBS as readonly string[]).includes(verb) ? (verb as HttpVerb) : 'NONE';
}

export interface InternalInvokeRequest {
  ver: 'V1' | 'APIVERSION_UNSPECIFIED';
  metadata: Record<string, ListStringValue>;
  message: {
    method: string;
    data: { type_url: string; value: Buffer } | null;
    content_type: string;
    http_extension: { verb: Exclude<InvokeVerb, null>; querystring: string } | null;
  };
}

export interface InternalInvokeResponse {
  /**
   * For an HTTP callee, `code` is the app's HTTP status. For a gRPC callee, its status, with
   * the rich error details its app sent (`google.rpc.Status.details`), as daprd carries them.
   */
  status: { code: number; message: string; details?: { type_url: string; value: Uint8Array }[] };
  headers: Record<string, ListStringValue>;
  /** A gRPC app's trailers. */
  trailers?: Record<string, ListStringValue>;
  message: { data: { type_url: string; value: Buffer } | null; content_type: string };
}

/** As the Dapr API loads its protos: proto field names (the descriptor keeps them), enums as names, defaults filled in. */
const LOADER_OPTIONS = { longs: String, enums: String, defaults: true, oneofs: true } as const;

/** Room for the headers and framing around a body of `--max-body-size` in one message. */
export const MESSAGE_HEADROOM_BYTES = 1024 * 1024;

let loaded: GrpcObject | undefined;

function serviceInvocation(): ServiceClientConstructor {
  // At first use: every start imports this module (for its types and HTTP_VERBS), and
  // loadGrpcObject requires grpc-js and proto-loader only when called.
  loaded ??= loadGrpcObject('internals', LOADER_OPTIONS);
  const v1 = (((loaded.dapr as GrpcObject).proto as GrpcObject).internals as GrpcObject).v1 as GrpcObject;
  return v1.ServiceInvocation as ServiceClientConstructor;
}

/** The service definition the callee side serves. */
export function serviceInvocationService(): ServiceDefinition {
  return serviceInvocation().service;
}

/** The client constructor the caller side dials with. */
export function serviceInvocationClient(): ServiceClientConstructor {
  return serviceInvocation();
}
