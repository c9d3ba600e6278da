// The outside service the bindings benchmark calls: a node:http server in its own process
// (as a real service would be, so the sidecar's process does not also serve it), answering
// every request with a small JSON body. Prints its port, then serves until killed.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.from('{"status":"ok","items":[1,2,3]}');
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
