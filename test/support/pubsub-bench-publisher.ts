// The publisher of the pub/sub benchmark, run as a child process so it does not share an
// event loop with what it measures: `node pubsub-bench-publisher.ts '<PublishPlan JSON>'`.
// It sends messages `{seq, sent}` (`sent` = process.hrtime.bigint() when the publish
// started, as a decimal string) either as HTTP POSTs (to the sidecar's publish route, or
// straight to the app) or as XADDs to a Redis stream, `concurrency` at a time, either as
// fast as they go or one every `intervalMs`, and prints a PublishResult as JSON. With
// `batch` > 1 (HTTP only) each request is a bulk publish of that many messages, whose
// `sent` is when the request started.
import { Agent, request } from 'node:http';
import { RespClient } from './resp-client.ts';

export interface PublishPlan {
  target: { kind: 'http'; url: string } | { kind: 'redis'; port: number; stream: string };
  /** seq of the first message; the others follow. */
  firstSeq: number;
  count: number;
  concurrency: number;
  /** 0: as fast as they go; else one publish started every intervalMs (at most `concurrency` in flight). */
  intervalMs: number;
  /** Messages per request: > 1 sends bulk publishes (the sidecar's /v1.0-alpha1/publish/bulk); only with intervalMs 0. */
  batch?: number;
}

export interface PublishResult {
  ok: number;
  failed: number;
  firstError?: string;
  /** hrtime (ns, decimal string) when the first publish started and when the last was answered. */
  startNs: string;
  endNs: string;
}

type Send = (body: string) => Promise<void>;

function httpSender(url: string, concurrency: number): Send {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  return (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode! >= 200 && res.statusCode! < 300 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', reject);
      req.end(body);
    });
}

async function redisSender(port: number, stream: string): Promise<Send> {
  const client = await RespClient.connect(port);
  return async (body) => {
    await client.command('XADD', stream, '*', 'data', body);
  };
}

const plan = JSON.parse(process.argv[2]!) as PublishPlan;
const send = plan.target.kind === 'http' ? httpSender(plan.target.url, plan.concurrency) : await redisSender(plan.target.port, plan.target.stream);
const result: PublishResult = { ok: 0, failed: 0, startNs: '0', endNs: '0' };
const start = process.hrtime.bigint();
let next = 0;

async function one(seq: number): Promise<void> {
  const sent = process.hrtime.bigint();
  try {
    await send(JSON.stringify({ seq, sent: String(sent) }));
    result.ok++;
  } catch (err) {
    result.failed++;
    result.firstError ??= (err as Error).message;
  }
}

/** One bulk publish of the messages `first`..`first + n - 1`. */
async function many(first: number, n: number): Promise<void> {
  const sent = String(process.hrtime.bigint());
  const entries = Array.from({ length: n }, (_, i) => ({ entryId: String(i), event: { seq: first + i, sent }, contentType: 'application/json' }));
  try {
    await send(JSON.stringify(entries));
    result.ok += n;
  } catch (err) {
    result.failed += n;
    result.firstError ??= (err as Error).message;
  }
}

const batch = plan.batch ?? 1;
if (batch > 1) {
  const worker = async (): Promise<void> => {
    while (next < plan.count) {
      const n = Math.min(batch, plan.count - next);
      const first = plan.firstSeq + next;
      next += n;
      await many(first, n);
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
} else if (plan.intervalMs === 0) {
  const worker = async (): Promise<void> => {
    while (next < plan.count) await one(plan.firstSeq + next++);
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
} else {
  // Open loop: publish i starts at start + i * interval (later if `concurrency` are in flight).
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < plan.count; i++) {
    const due = start + BigInt(Math.round(i * plan.intervalMs * 1e6));
    const wait = Number(due - process.hrtime.bigint()) / 1e6;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight.size >= plan.concurrency) await Promise.race(inFlight);
    const p: Promise<void> = one(plan.firstSeq + i).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
}
result.startNs = String(start);
result.endNs = String(process.hrtime.bigint());
process.stdout.write(JSON.stringify(result));
process.exit(0);
