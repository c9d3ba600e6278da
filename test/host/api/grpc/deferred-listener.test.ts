// The gRPC listener that binds at once and builds its server at the first connection: nothing is
// built before a client connects; clients that connect while it is built are all served, in a
// real grpc-js server fed the sockets (insecure, and over mTLS with the client's certificate seen
// by the server); a build that fails closes the connections and says so once; close() works
// whether or not the server was ever built; a port in use fails listen() as net does.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { credentials, Server, ServerCredentials, makeGenericClientConstructor, type ServiceError, type ServiceDefinition, type ServerUnaryCall } from '@grpc/grpc-js';
import { DeferredListener, type ConnectionSink } from '../../../../host/api/grpc/deferred-listener.ts';
import { closeGrpc, injectConnections } from '../../../../host/api/grpc/grpc-listen.ts';
import { createLogger, type Logger } from '../../../../host/observability/logger.ts';
import { TestCa, certDir } from '../../../support/test-certs.ts';
import { hasTool } from '../../../support/tools.ts';

const identity = (b: Buffer): Buffer => b;
const ECHO: ServiceDefinition = {
  Echo: { path: '/test.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};
const EchoClient = makeGenericClientConstructor(ECHO, 'Echo');

function logged(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', json: false, write: (line) => lines.push(line) }), lines };
}

/** An echo server whose answer says which client certificate it saw, when there was one. */
function echoSink(serverCredentials?: ServerCredentials): ConnectionSink {
  const server = new Server();
  server.addService(ECHO, {
    Echo: (call: ServerUnaryCall<Buffer, Buffer>, callback: (err: null, value: Buffer) => void) => {
      const peer = call.getAuthContext()?.sslPeerCertificate?.subject?.CN;
      callback(null, Buffer.from(`${call.request.toString()}${peer === undefined ? '' : ` from ${peer}`}`));
    },
  });
  return { inject: injectConnections(server, serverCredentials), close: () => closeGrpc(server, 500) };
}

function echo(client: InstanceType<typeof EchoClient>, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (req: Buffer, cb: (err: ServiceError | null, res: Buffer) => void) => void>).Echo!(Buffer.from(text), (err, res) =>
      err ? reject(err) : resolve(res.toString()),
    );
  });
}

const clients: { close(): void }[] = [];
after(() => {
  for (const client of clients) client.close();
});

function client(port: number, creds = credentials.createInsecure(), options: Record<string, string | number> = {}): InstanceType<typeof EchoClient> {
  // Each its own connection: grpc-js would otherwise share one between clients of one address.
  const made = new EchoClient(`127.0.0.1:${port}`, creds, { 'grpc.use_local_subchannel_pool': 1, ...options });
  clients.push(made);
  return made;
}

test('binds at once, builds at the first connection, and serves every client that connected meanwhile', async () => {
  const { logger } = logged();
  let builds = 0;
  const building = Promise.withResolvers<void>();
  const listener = new DeferredListener(
    'the test server',
    async () => {
      builds++;
      await building.promise;
      return echoSink();
    },
    logger,
  );
  const port = await listener.listen('127.0.0.1', 0);
  assert.equal(builds, 0, 'nothing is built before a client connects');
  const answers = Promise.all([echo(client(port), 'one'), echo(client(port), 'two'), echo(client(port), 'three')]);
  // The connections wait, unread, while the server is built.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(builds, 1);
  building.resolve();
  assert.deepEqual(await answers, ['one', 'two', 'three']);
  // Later connections go straight to the built server.
  assert.equal(await echo(client(port), 'four'), 'four');
  assert.equal(builds, 1);
  await listener.close();
});

test('over mTLS, the server built later sees the client certificate of a connection it was handed', { skip: hasTool('openssl') ? false : 'needs openssl (apt-get install openssl)' }, async () => {
  const ca = await TestCa.create(certDir(), 'deferred');
  const [serverCert, clientCert] = await Promise.all([ca.issue('server', 'server'), ca.issue('caller', 'caller')]);
  const read = (path: string): Promise<Buffer> => readFile(path);
  const [anchor, serverChain, serverKey, clientChain, clientKey] = await Promise.all([
    read(serverCert.anchors),
    read(serverCert.chain),
    read(serverCert.key),
    read(clientCert.chain),
    read(clientCert.key),
  ]);
  const { logger } = logged();
  const listener = new DeferredListener('the test server', async () => echoSink(ServerCredentials.createSsl(anchor, [{ cert_chain: serverChain, private_key: serverKey }], true)), logger);
  const port = await listener.listen('127.0.0.1', 0);
  const secure = credentials.createSsl(anchor, clientKey, clientChain, { checkServerIdentity: () => undefined });
  assert.equal(await echo(client(port, secure, { 'grpc.ssl_target_name_override': 'localhost' }), 'hello'), 'hello from caller');
  await listener.close();
});

test('a build that fails closes the connections and is reported once', async () => {
  const { logger, lines } = logged();
  const listener = new DeferredListener('the test server', async () => Promise.reject(new Error('descriptors missing')), logger);
  const port = await listener.listen('127.0.0.1', 0);
  await assert.rejects(echo(client(port), 'one'), (err: ServiceError) => err.code === 14);
  await assert.rejects(echo(client(port), 'two'), (err: ServiceError) => err.code === 14);
  const reports = lines.filter((line) => line.includes('the test server could not start'));
  assert.equal(reports.length, 1, lines.join('\n'));
  assert.match(reports[0]!, /descriptors missing/);
  await listener.close();
});

test('close() before any connection builds nothing and frees the port', async () => {
  const { logger } = logged();
  let built = false;
  const listener = new DeferredListener('the test server', async () => ((built = true), echoSink()), logger);
  const port = await listener.listen('127.0.0.1', 0);
  await listener.close();
  assert.equal(built, false);
  const again = createServer();
  await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise((resolve) => again.close(resolve));
});

test('a port in use fails listen() with EADDRINUSE', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { logger } = logged();
  const listener = new DeferredListener('the test server', async () => echoSink(), logger);
  await assert.rejects(listener.listen('127.0.0.1', (taken.address() as AddressInfo).port), { code: 'EADDRINUSE' });
  await new Promise((resolve) => taken.close(resolve));
});
