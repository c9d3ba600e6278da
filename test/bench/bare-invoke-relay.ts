// The floor of the service invocation benchmark: the two hops every pair of Node sidecars pays
// for, with nothing else. Run as a process of its own, in one of two roles:
// - `callee <app-port>`: an HTTP/2 server (cleartext) that answers each stream by POSTing its
//   message to the app over a keep-alive node:http connection and sending the answer back as a
//   gRPC unary reply (length-prefixed message, then `grpc-status` trailers);
// - `caller <callee-port>`: a node:http server that sends each request's body to the callee as
//   a gRPC unary call (length-prefixed) on one HTTP/2 session and answers with what comes back.
// No framework, no protobuf, no name resolution, no policies: what is left of a sidecar pair's
// added latency once everything Tessera does is taken away. Prints its port, serves until killed.
import { Agent, createServer, request } from 'node:http';
import { connect, constants, createServer as createHttp2Server, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';

const [role, portText] = process.argv.slice(2);
const target = Number(portText);

/** A gRPC message: a 0 (uncompressed) byte, the length, the bytes. */
function framed(body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.byteLength, 1);
  return Buffer.concat([head, body]);
}

function collect(stream: NodeJS.ReadableStream, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(Buffer.concat(chunks)));
}

function listening(port: number): void {
  process.stdout.write(`${port}\n`);
}

if (role === 'callee') {
  const agent = new Agent({ keepAlive: true });
  const server = createHttp2Server();
  server.on('stream', (stream) => {
    collect(stream, (message) => {
      const out = request({ host: '127.0.0.1', port: target, method: 'POST', path: '/echo', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': message.byteLength - 5 } }, (res) => {
        collect(res, (answer) => {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end(framed(answer));
        });
      });
      out.on('error', () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
      out.end(message.subarray(5));
    });
  });
  server.listen(0, '127.0.0.1', () => listening((server.address() as AddressInfo).port));
} else if (role === 'caller') {
  let session: ClientHttp2Session | undefined;
  const open = (): ClientHttp2Session => {
    if (session === undefined || session.destroyed || session.closed) {
      const s = connect(`http://127.0.0.1:${target}`);
      s.on('error', () => undefined);
      s.on('close', () => {
        if (session === s) session = undefined;
      });
      session = s;
    }
    return session;
  };
  const server = createServer((req, res) => {
    collect(req, (body) => {
      const stream = open().request({ ':method': 'POST', ':path': '/dapr.proto.internals.v1.ServiceInvocation/CallLocal', 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => res.writeHead(502).end());
      collect(stream, (answer) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(answer.subarray(5)));
      stream.end(framed(body));
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => listening((server.address() as AddressInfo).port));
} else {
  process.stderr.write('usage: bare-invoke-relay.ts callee <app-port> | caller <callee-port>\n');
  process.exit(2);
}
