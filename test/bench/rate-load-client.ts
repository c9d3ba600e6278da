// An open-loop load at a fixed rate, in its own process: POSTs a body of N bytes to a URL at R
// requests per second for S seconds over kept-alive connections, each request sent at its
// scheduled time whether or not earlier ones have answered (a closed loop would hide the
// latency a slow server adds), and prints the latency percentiles (ms) as JSON.
import { Agent, request } from 'node:http';

const [url, rateText, secondsText, bytesText] = process.argv.slice(2);
const rate = Number(rateText);
const total = Math.round(rate * Number(secondsText));
const body = Buffer.alloc(Number(bytesText), 'x');
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const target = new URL(url!);
const latencies = new Float64Array(total);
let done = 0;
let errors = 0;

function send(i: number): void {
  const start = process.hrtime.bigint();
  const req = request(
    { host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'POST', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body.byteLength } },
    (res) => {
      res.resume();
      res.on('end', () => {
        latencies[i] = Number(process.hrtime.bigint() - start) / 1e6;
        if (res.statusCode !== 200) errors++;
        finish();
      });
    },
  );
  req.on('error', () => {
    errors++;
    latencies[i] = Number.NaN;
    finish();
  });
  req.end(body);
}

function finish(): void {
  if (++done < total) return;
  const sorted = [...latencies].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  process.stdout.write(JSON.stringify({ p50: at(50), p90: at(90), p99: at(99), errors, total }));
  agent.destroy();
}

// Sends every request whose time has come at each tick: timers fire every ms at best.
const t0 = performance.now();
let sent = 0;
const tick = setInterval(() => {
  const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
  while (sent < due) send(sent++);
  if (sent >= total) clearInterval(tick);
}, 1);
