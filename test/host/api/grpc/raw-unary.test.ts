// A unary method served on its raw HTTP/2 stream, taken off a grpc-js Server through its private
// `_streamHandler` (raw-streams.ts): called by grpc-js's own client, it must answer as grpc-js
// would (statuses, deadlines, cancellation, size limit, compression), leave every other method
// to grpc-js, and fail loudly if a grpc-js upgrade removes the hook.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { serveRawUnary, type RawUnaryCall } from '../../../../host/api/grpc/raw-unary.ts';

const identity = (bytes: Buffer): Buffer => bytes;
const ECHO = '/raw.Test/Echo';
const MAX = 1024;

const echo: grpc.MethodDefinition<Buffer, Buffer> = {
  path: ECHO,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
};

function call(client: grpc.Client, path: string, body: Buffer, options: grpc.CallOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, identity, identity, body, new grpc.Metadata(), options, (err, value) => (err ? reject(err) : resolve(value!)));
  });
}

async function rejectsWith(promise: Promise<unknown>, code: grpc.status, details?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, err.message);
    if (details !== undefined) assert.match(err.details, details);
    return true;
  });
}

/** Resolves with the next abort reason past the first `seen`, once the handler has recorded it. */
function nextAbort(aborted: string[], seen: number): Promise<string> {
  return new Promise((resolve) => {
    const check = (): void => (aborted.length > seen ? resolve(aborted[seen]!) : void setTimeout(check, 10));
    check();
  });
}

describe('serveRawUnary (a grpc-js Server method on its raw HTTP/2 stream)', () => {
  const server = new grpc.Server();
  let client: grpc.Client;
  let gzipClient: grpc.Client;
  const aborted: string[] = [];
  let lastCall: RawUnaryCall | undefined;

  before(async () => {
    server.register('/raw.Test/Known', (c: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.concat([Buffer.from('known:'), c.request])), identity, identity, 'unary');
    serveRawUnary(server, echo, MAX, async (request, c) => {
      lastCall = c;
      const text = request.toString();
      if (text === 'fail') throw { code: grpc.status.FAILED_PRECONDITION, details: 'no such thing: ünïcode, 100%' };
      if (text === 'throw') throw new Error('a plain error');
      if (text === 'wait') {
        await new Promise<void>((resolve) => c.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted.push(String((c.signal.reason as Error).message));
        return Buffer.from('late');
      }
      return Buffer.concat([Buffer.from('raw:'), request]);
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    gzipClient = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
  });

  after(() => {
    client?.close();
    gzipClient?.close();
    server.forceShutdown();
  });

  it('answers the message, empty ones too, and leaves other methods to grpc-js', async () => {
    assert.equal((await call(client, ECHO, Buffer.from('hi'))).toString(), 'raw:hi');
    assert.equal((await call(client, ECHO, Buffer.alloc(0))).toString(), 'raw:');
    assert.equal((await call(client, '/raw.Test/Known', Buffer.from('x'))).toString(), 'known:x');
    await rejectsWith(call(client, '/raw.Test/Missing', Buffer.from('x')), grpc.status.UNIMPLEMENTED);
    assert.equal(lastCall?.timeoutMs, undefined);
    assert.deepEqual(lastCall?.getAuthContext(), {});
  });

  it("passes a handler's status and message through, and a plain error as UNKNOWN", async () => {
    await rejectsWith(call(client, ECHO, Buffer.from('fail')), grpc.status.FAILED_PRECONDITION, /^no such thing: ünïcode, 100%$/);
    await rejectsWith(call(client, ECHO, Buffer.from('throw')), grpc.status.UNKNOWN, /a plain error/);
  });

  it("answers DEADLINE_EXCEEDED at the caller's deadline and aborts the handler", async () => {
    const seen = aborted.length;
    const deadline = new Date(Date.now() + 200);
    await rejectsWith(call(client, ECHO, Buffer.from('wait'), { deadline }), grpc.status.DEADLINE_EXCEEDED);
    assert.ok(lastCall!.timeoutMs! > 0 && lastCall!.timeoutMs! <= 200, String(lastCall!.timeoutMs));
    // The client gives up at the deadline too; the handler hears of it from its own timer or the reset stream.
    assert.match(await nextAbort(aborted, seen), /deadline|cancelled/);
  });

  it('aborts the handler when the caller cancels', async () => {
    const seen = aborted.length;
    const pending = new Promise<grpc.ServiceError>((resolve) => {
      const c = client.makeUnaryRequest(ECHO, identity, identity, Buffer.from('wait'), (err) => resolve(err!));
      setImmediate(() => setTimeout(() => c.cancel(), 50));
    });
    assert.equal((await pending).code, grpc.status.CANCELLED);
    assert.match(await nextAbort(aborted, seen), /cancelled/);
  });

  it('refuses a message over the size limit with RESOURCE_EXHAUSTED', async () => {
    await rejectsWith(call(client, ECHO, Buffer.alloc(MAX + 1, 'x')), grpc.status.RESOURCE_EXHAUSTED, /larger than max/);
    assert.equal((await call(client, ECHO, Buffer.alloc(MAX - 4, 'x'))).byteLength, MAX);
  });

  it('inflates a gzip-compressed message, within the size limit', async () => {
    assert.equal((await call(gzipClient, ECHO, Buffer.from('squeezed'))).toString(), 'raw:squeezed');
    await rejectsWith(call(gzipClient, ECHO, Buffer.alloc(MAX * 4, 'x')), grpc.status.RESOURCE_EXHAUSTED);
  });

  it('refuses to start on a server without the private hook, rather than leaving the method to grpc-js silently', () => {
    assert.throws(() => serveRawUnary({} as grpc.Server, echo, MAX, async (r) => r), /@grpc\/grpc-js changed/);
  });
});
