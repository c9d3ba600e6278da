// The floor of pubsub.memory in the pub/sub benchmark: a bare node:http relay (no framework,
// no broker, no envelope) that answers each POST at once, as a publish is answered once the
// broker has the message, and then POSTs the body to the app, at most `inFlight` at a time as
// the sidecar's deliveries are (a retry on a failed POST, so no message is lost). It runs where
// the sidecar runs (the bench process), so the two differ only in what the sidecar adds over
// the two HTTP hops every Node relay between a publisher and an app pays for.
import { Agent, createServer, request, type Server } from 'node:http';
import { serveOnLoopback } from './bare-proxy.ts';

export async function startBarePublishRelay(target: string, inFlight: number): Promise<{ url: string; stop(): Promise<void> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const to = new URL(target);
  const forward = (body: Buffer, triesLeft = 3): void => {
    const retry = (): void => {
      if (triesLeft > 1) forward(body, triesLeft - 1);
    };
    const out = request({ host: to.hostname, port: to.port, path: to.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.byteLength } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? undefined : retry()));
    });
    out.on('error', retry);
    out.end(body);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(204).end();
      forward(Buffer.concat(chunks));
    });
  });
  return serveOnLoopback(server, agent);
}
