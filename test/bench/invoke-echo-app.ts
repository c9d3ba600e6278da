// The callee app of the service invocation benchmark: a node:http server in its own process
// that answers every request with the body it was sent (1 KB in, 1 KB out). Prints its port,
// then serves until killed.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    // The sidecar asks for the app's subscriptions at start: it has none.
    if (req.url === '/dapr/subscribe') res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.concat(chunks));
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
