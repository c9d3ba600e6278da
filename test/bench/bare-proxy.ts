// The floor of the bindings benchmark: a bare node:http proxy (a server and a keep-alive
// client, no framework, no sandbox) that answers `POST /` by sending a GET to `target` and
// returning its body with its status and headers as `metadata.*` headers, as the sidecar
// does through bindings.http. It runs where the sidecar runs (the bench process), so the two
// differ only in what the sidecar adds over the HTTP hops every Node sidecar pays for.
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startBareProxy(target: string): Promise<{ url: string; stop(): Promise<void> }> {
  const agent = new Agent({ keepAlive: true });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { operation } = JSON.parse(Buffer.concat(chunks).toString()) as { operation?: string };
      const out = request(target, { agent, method: operation === 'get' ? 'GET' : 'POST', headers: { accept: 'application/json' } }, (up) => {
        const body: Buffer[] = [];
        up.on('data', (c: Buffer) => body.push(c));
        up.on('end', () => {
          const headers: Record<string, string> = { 'metadata.statusCode': String(up.statusCode), 'metadata.status': `${up.statusCode} ${up.statusMessage}` };
          for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) headers[`metadata.${up.rawHeaders[i]}`] = up.rawHeaders[i + 1]!;
          res.writeHead(200, { ...headers, 'content-type': up.headers['content-type'] ?? 'application/json' }).end(Buffer.concat(body));
        });
      });
      out.on('error', () => res.writeHead(502).end());
      out.end();
    });
  });
  return serveOnLoopback(server, agent);
}

/** Listens on a loopback port; `stop` closes the server and the agent of its outgoing calls. */
export async function serveOnLoopback(server: Server, agent: Agent): Promise<{ url: string; stop(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    stop: async () => {
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
