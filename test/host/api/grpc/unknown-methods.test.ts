// The one place Tessera reaches into grpc-js's privates (Server._retrieveHandler, for calls
// to services it does not serve): if a grpc-js upgrade renames or reshapes it, these fail.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { serveUnknownMethods } from '../../../../host/api/grpc/unknown-methods.ts';

const identity = (bytes: Buffer): Buffer => bytes;

function callRaw(client: grpc.Client, path: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, identity, identity, body, (err, value) => (err ? reject(err) : resolve(value!)));
  });
}

describe('serveUnknownMethods (grpc-js private hook)', () => {
  const server = new grpc.Server();
  let client: grpc.Client;
  const paths: string[] = [];

  before(async () => {
    // A registered method keeps its own handler.
    server.register('/known.Service/Echo', (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.concat([Buffer.from('known:'), call.request])), identity, identity, 'unary');
    serveUnknownMethods(server, (stream) => {
      paths.push(stream.getPath());
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        stream.write(Buffer.concat([Buffer.from('raw:'), ...chunks]));
        stream.end();
      });
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    server.forceShutdown();
  });

  it('hands a call to an unregistered method to the handler, as raw bytes', async () => {
    const answer = await callRaw(client, '/any.Other/Method', Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(answer, Buffer.concat([Buffer.from('raw:'), Buffer.from([0, 1, 2, 255])]));
    assert.deepEqual(paths, ['/any.Other/Method']);
  });

  it('leaves registered methods to their handlers', async () => {
    assert.equal((await callRaw(client, '/known.Service/Echo', Buffer.from('x'))).toString(), 'known:x');
    assert.equal(paths.length, 1);
  });

  it('refuses to start on a server without the private method, rather than answering UNIMPLEMENTED silently', () => {
    assert.throws(() => serveUnknownMethods({} as grpc.Server, () => {}), /@grpc\/grpc-js changed/);
  });
});
