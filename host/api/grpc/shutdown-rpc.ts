// The Shutdown RPC of the Dapr gRPC API: answers first, then asks the runtime to stop, as
// POST /v1.0/shutdown does, so the caller gets its answer before the listener closes.
import type { RpcTable } from './rpc-handlers.ts';

export function shutdownRpc(shutdown: () => void): RpcTable {
  return {
    Shutdown: () => {
      setImmediate(shutdown);
      return {};
    },
  };
}
