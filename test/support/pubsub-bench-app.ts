// The app of the pub/sub benchmark, run as a child process (`node pubsub-bench-app.ts
// '<subscriptions JSON>'`): node:http on 127.0.0.1, GET /dapr/subscribe answered with the
// subscriptions it was given, and every other POST taken as a message carrying
// `{seq, sent}` (in a CloudEvent's `data`, or the body itself; a bulk delivery's entries
// each carry one, and are answered SUCCESS each), where `sent` is the
// publisher's process.hrtime.bigint() when it started publishing. hrtime is the system's
// monotonic clock, the same in every process of this machine, so `now - sent` is the
// publish-to-delivery latency. Control routes, for the benchmark:
//   POST /bench/reset           forget what was received
//   GET  /bench/wait?count=K    answers once K messages came since the reset: the stats
// With a third argument `grpc` it also serves Dapr's AppCallback gRPC service (the same
// subscriptions from ListTopicSubscriptions, each OnTopicEvent's data taken as a message),
// for a sidecar started with `--app-protocol grpc`.
// It prints `{"port":N}` (and `"grpcPort"`) once it listens, and exits when its stdin closes (its parent died).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenGrpc, type GrpcBenchSubscription } from './grpc-bench-app.ts';

export interface BenchAppStats {
  count: number;
  /** Latencies in ms, in arrival order. */
  latenciesMs: number[];
  /** hrtime (ns, as a decimal string) of the first and last arrival. */
  firstNs: string;
  lastNs: string;
  /** Messages that came more than once. */
  duplicates: number;
}

const subscriptions = process.argv[2] ?? '[]';
let latencies: number[] = [];
let seqs = new Set<number>();
let duplicates = 0;
let firstNs = 0n;
let lastNs = 0n;
let waiter: { count: number; res: ServerResponse } | undefined;

function stats(): BenchAppStats {
  return { count: latencies.length, latenciesMs: latencies, firstNs: String(firstNs), lastNs: String(lastNs), duplicates };
}

function answerWaiter(): void {
  if (waiter !== undefined && latencies.length >= waiter.count) {
    waiter.res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
    waiter = undefined;
  }
}

type Received = { data?: { seq: number; sent: string }; seq?: number; sent?: string };

/** Counts a message; for a bulk delivery each entry, and answers with the statuses. */
function onDelivery(body: string, res: ServerResponse): void {
  const parsed = JSON.parse(body) as Received & { entries?: { entryId: string; event: Received }[] };
  if (parsed.entries === undefined) {
    onMessage(parsed);
    res.writeHead(200).end();
    return;
  }
  for (const entry of parsed.entries) onMessage(entry.event);
  const statuses = parsed.entries.map(({ entryId }) => ({ entryId, status: 'SUCCESS' }));
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ statuses }));
}

function onMessage(parsed: Received): void {
  const now = process.hrtime.bigint();
  const message = (parsed.data ?? parsed) as { seq: number; sent: string };
  if (seqs.has(message.seq)) duplicates++;
  seqs.add(message.seq);
  if (firstNs === 0n) firstNs = now;
  lastNs = now;
  latencies.push(Number(now - BigInt(message.sent)) / 1e6);
  answerWaiter();
}

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://app');
  if (req.method === 'GET' && url.pathname === '/dapr/subscribe') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(subscriptions);
  } else if (url.pathname === '/bench/reset') {
    latencies = [];
    seqs = new Set();
    duplicates = 0;
    firstNs = lastNs = 0n;
    res.writeHead(204).end();
  } else if (url.pathname === '/bench/wait') {
    waiter = { count: Number(url.searchParams.get('count')), res };
    answerWaiter();
  } else {
    onDelivery(body, res);
  }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
});
server.keepAliveTimeout = 60_000;
const grpcPort = process.argv[3] === 'grpc' ? await listenGrpc(JSON.parse(subscriptions) as GrpcBenchSubscription[], (data) => onMessage(JSON.parse(data) as Received)) : undefined;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port, grpcPort })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
