// Runs one load in its own process with Node's fetch — the client an app would use — and
// prints rps and latency percentiles as JSON: `concurrency` requests in flight for `seconds`.
// The bindings benchmark drives both of its paths (through the sidecar, and straight to the
// server) with it, so the two differ only in what lies between client and server.
const [url, method, body, seconds, concurrency] = process.argv.slice(2);
const until = performance.now() + Number(seconds) * 1000;
const latencies: number[] = [];
let errors = 0;

async function worker(): Promise<void> {
  while (performance.now() < until) {
    const start = performance.now();
    try {
      const res = await fetch(url!, { method: method!, ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}) });
      await res.arrayBuffer();
      if (res.status >= 300) errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - start);
  }
}

const began = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const elapsed = (performance.now() - began) / 1000;
latencies.sort((a, b) => a - b);
const at = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(JSON.stringify({ rps: latencies.length / elapsed, p50: at(50), p99: at(99), errors, total: latencies.length }));
