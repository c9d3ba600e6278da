// The gRPC state API: GetState and SaveState through the whole sidecar (gRPC API, state
// building block, sandbox, wasm state.memory) against a bare @grpc/grpc-js server of the same
// Dapr service (the same protos) answering from a JS Map, both in this process, loaded
// alternately from a child process (grpc-load-client.ts). Run alone with
// `node test/bench/grpc-state.bench.ts`.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { daprService } from '../../host/api/grpc/dapr-protos.ts';
import { STATESTORE_YAML, benchSidecar, median, type Load } from './bench-support.ts';

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('./grpc-load-client.ts', import.meta.url));

async function grpcLoad(address: string, method: string, request: object, seconds: number, concurrency: number): Promise<Load> {
  const { stdout } = await run(process.execPath, [CLIENT, address, method, JSON.stringify(request), String(seconds), String(concurrency)], { timeout: (seconds + 30) * 1000 });
  return JSON.parse(stdout) as Load;
}

/** The bare server: the Dapr service's GetState and SaveState over a Map, nothing else. */
async function bareServer(): Promise<{ address: string; close: () => void }> {
  const map = new Map<string, Buffer>();
  const server = new Server();
  server.addService(daprService(), {
    GetState: (call: ServerUnaryCall<{ key: string }, unknown>, callback: sendUnaryData<unknown>) => callback(null, { data: map.get(call.request.key) ?? Buffer.alloc(0) }),
    SaveState: (call: ServerUnaryCall<{ states: { key: string; value: Buffer }[] }, unknown>, callback: sendUnaryData<unknown>) => {
      for (const item of call.request.states) map.set(item.key, item.value);
      callback(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

export interface GrpcStateBenchOptions {
  seconds: number;
  /** Calls in flight at once. */
  concurrency: number;
  rounds: number;
}

export async function grpcStateBench(options: GrpcStateBenchOptions): Promise<string[]> {
  const side = await benchSidecar((dir) => writeFile(join(dir, 'statestore.yaml'), STATESTORE_YAML), undefined, { grpcPort: 0 });
  const bare = await bareServer();
  const tessera = `127.0.0.1:${await side.sidecar.grpcPort}`;
  const save = { store_name: 'statestore', states: [{ key: 'k1', value: { utf8: JSON.stringify({ name: 'tessera', n: 42 }) } }] };
  const get = { store_name: 'statestore', key: 'k1' };
  const ops = [
    ['GetState', get],
    ['SaveState', save],
  ] as const;
  try {
    // Warm both paths (JIT, wasm tier-up) and seed the key GetState reads.
    for (const address of [tessera, bare.address]) for (const [method, request] of [ops[1], ops[0]]) await grpcLoad(address, method, request, 2, options.concurrency);
    const results: Record<string, Load[]> = {};
    for (let round = 0; round < options.rounds; round++) {
      for (const [name, address] of [['tessera', tessera], ['bare', bare.address]] as const) {
        for (const [method, request] of ops) (results[`${method} ${name}`] ??= []).push(await grpcLoad(address, method, request, options.seconds, options.concurrency));
      }
    }
    const lines = [`gRPC state API, ${options.concurrency} calls in flight on one channel, ${options.rounds} alternating rounds of ${options.seconds}s, medians:`];
    lines.push('    op        | server  |  calls/s | p50 ms | p99 ms | errors');
    for (const [method] of ops) {
      for (const name of ['tessera', 'bare']) {
        const rs = results[`${method} ${name}`]!;
        lines.push(
          `    ${method.padEnd(9)} | ${name.padEnd(7)} | ${median(rs.map((r) => r.rps)).toFixed(0).padStart(8)} | ${median(rs.map((r) => r.p50)).toFixed(2).padStart(6)} | ${median(rs.map((r) => r.p99)).toFixed(2).padStart(6)} | ${rs.reduce((n, r) => n + r.errors, 0)}`,
        );
      }
      const bareRuns = results[`${method} bare`]!;
      const ratios = results[`${method} tessera`]!.map((r, i) => r.rps / bareRuns[i]!.rps);
      lines.push(`    ${method} throughput ratio tessera/bare: median ${median(ratios).toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')}; target >= 0.8)`);
    }
    return lines;
  } finally {
    bare.close();
    await side.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await grpcStateBench({ seconds: 3, concurrency: 10, rounds: 3 })).join('\n'));
