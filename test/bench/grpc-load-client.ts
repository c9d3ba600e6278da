// Runs one gRPC load in its own process (so the load generator does not share an event loop
// with the servers under test): `concurrency` calls of one Dapr RPC kept in flight for
// `seconds` over one channel, and prints the throughput and latency percentiles as JSON, in
// the shape load-client.ts prints for HTTP.
import { daprGrpcClient, unary } from '../support/grpc-client.ts';

const [address, method, requestJson, seconds, concurrency] = process.argv.slice(2);
/** Fields named `*_utf8` are sent as the bytes of their text (a JSON argument cannot carry a Buffer). */
function request(json: string): object {
  return JSON.parse(json, (key, value: unknown) => (typeof value === 'object' && value !== null && 'utf8' in value ? Buffer.from(String((value as { utf8: string }).utf8)) : value)) as object;
}
const client = daprGrpcClient(address!);
const body = request(requestJson!);
const latencies: number[] = [];
let errors = 0;
const end = performance.now() + Number(seconds) * 1000;

async function worker(): Promise<void> {
  while (performance.now() < end) {
    const start = performance.now();
    try {
      await unary(client, method!, body);
      latencies.push(performance.now() - start);
    } catch {
      errors++;
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
client.close();
process.stdout.write(JSON.stringify({ rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors, total: latencies.length }));
