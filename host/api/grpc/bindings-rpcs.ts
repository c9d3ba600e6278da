// The output bindings RPC of the Dapr gRPC API over the bindings building block:
// InvokeBinding, with `data` passed as the bytes it came as (the HTTP API passes the JSON
// text of its `data` field).
import type { BindingsService } from '../../building-blocks/bindings/bindings-service.ts';
import { metadataOf, type ProtoMap } from './grpc-messages.ts';
import type { RpcTable } from './rpc-handlers.ts';

interface InvokeBindingRequest {
  name: string;
  data: Buffer;
  metadata: ProtoMap;
  operation: string;
}

export function bindingsRpcs(bindings: BindingsService): RpcTable {
  return {
    InvokeBinding: async (request: InvokeBindingRequest) => {
      const response = await bindings.invoke({ name: request.name, operation: request.operation, data: request.data, metadata: metadataOf(request.metadata) });
      return { data: Buffer.from(response.data.buffer, response.data.byteOffset, response.data.byteLength), metadata: Object.fromEntries(response.metadata) };
    },
  };
}
