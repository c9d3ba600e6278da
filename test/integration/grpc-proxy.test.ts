// gRPC proxying through real `tessera` processes: a grpc-js client of a service Dapr knows
// nothing about (test/support/greeter.proto) calls sidecar a's gRPC API with `dapr-app-id: b`
// and reaches app b's own gRPC server through sidecar b (found in a temp name registry):
// unary and bidirectional streaming, the app's headers, trailers and error statuses back,
// the caller identity metadata daprd adds, a deadline reaching and cancelling the app's call;
// an unknown app id named in the error, a call with no dapr-app-id UNIMPLEMENTED, and a call
// for the sidecar's own app id going straight to it; a caller's Resiliency policy for b (a
// retry outlasting a flaky method, a timeout cutting a hung one, streams relayed outside it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GreeterApp, greeterClient } from '../support/greeter-app.ts';
import { pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';

const REGISTRY = mkdtempSync(join(tmpdir(), 'tessera-grpc-proxy-registry-'));
process.once('exit', () => rmSync(REGISTRY, { recursive: true, force: true }));

/** c's policies for calls to b. */
const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: proxypolicies
spec:
  policies:
    timeouts:
      short: 400ms
    retries:
      quick:
        policy: constant
        duration: 20ms
        maxRetries: 3
  targets:
    apps:
      b:
        retry: quick
        timeout: short
`;

type Greeter = grpc.Client & Record<string, (...args: any[]) => any>;

interface Answer {
  value?: { message: string };
  error?: grpc.ServiceError;
  headers?: grpc.Metadata;
  status?: grpc.StatusObject;
}

function metadataOf(entries: Record<string, string>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

/** A unary call with its headers and final status. */
function unary(client: Greeter, method: string, name: string, metadata: Record<string, string>, deadlineMs = 10_000): Promise<Answer> {
  return new Promise((resolve) => {
    const answer: Answer = {};
    const call = client[method]!({ name }, metadataOf(metadata), { deadline: Date.now() + deadlineMs }, (error: grpc.ServiceError | null, value: { message: string }) => {
      if (error) answer.error = error;
      else answer.value = value;
    });
    call.on('metadata', (headers: grpc.Metadata) => (answer.headers = headers));
    call.on('status', (status: grpc.StatusObject) => resolve({ ...answer, status }));
  });
}

describe('gRPC proxying between sidecars', () => {
  const Greeter = greeterClient();
  let appB: GreeterApp;
  let a: SidecarProcess;
  let b: SidecarProcess;
  let c: SidecarProcess;
  let viaA: Greeter;
  let viaC: Greeter;
  let viaB: Greeter;

  before(async () => {
    appB = await GreeterApp.start('b');
    const env = { TESSERA_NAME_REGISTRY: REGISTRY };
    [a, b, c] = await Promise.all([
      startSidecar({ appId: 'a', env, args: ['--max-body-size', '64Ki'] }),
      startSidecar({ appId: 'b', env, args: ['--app-port', String(appB.port), '--app-protocol', 'grpc', '--max-body-size', '64Ki'] }),
      startSidecar({ appId: 'c', env, resources: { 'resiliency.yaml': RESILIENCY } }),
    ]);
    viaA = new Greeter(`127.0.0.1:${a.grpcPort}`, grpc.credentials.createInsecure()) as Greeter;
    viaB = new Greeter(`127.0.0.1:${b.grpcPort}`, grpc.credentials.createInsecure()) as Greeter;
    viaC = new Greeter(`127.0.0.1:${c.grpcPort}`, grpc.credentials.createInsecure()) as Greeter;
    // b registers a moment after its API listens.
    await pollUntil('b to be reachable from a', async () => ((await unary(viaA, 'SayHello', 'poll', { 'dapr-app-id': 'b' })).value ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 50,
    });
  });

  after(async () => {
    viaA?.close();
    viaB?.close();
    viaC?.close();
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
    appB?.close();
  });

  it('a unary call reaches app b, with its header and trailer back and the caller identity added', async () => {
    const answer = await unary(viaA, 'SayHello', 'ann', { 'dapr-app-id': 'b', 'x-custom': 'kept', 'dapr-api-token': 'not-for-b' });
    assert.equal(answer.error, undefined);
    assert.deepEqual(answer.value, { message: 'hello ann from b' });
    assert.equal(answer.status?.code, grpc.status.OK);
    assert.deepEqual(answer.headers?.get('x-app-header'), ['from-app']);
    assert.deepEqual(answer.status?.metadata.get('x-app-trailer'), ['unary']);
    const seen = appB.seen.at(-1)!;
    assert.equal(seen.method, 'SayHello');
    assert.equal(seen.metadata['x-custom'], 'kept');
    assert.equal(seen.metadata['dapr-caller-app-id'], 'a');
    assert.equal(seen.metadata['dapr-caller-namespace'], 'default');
    assert.equal(seen.metadata['dapr-callee-app-id'], 'b');
    assert.equal(seen.metadata['dapr-api-token'], undefined, "the caller's API token stays with its sidecar");
  });

  it('a bidirectional stream carries every message both ways, then the trailers', async () => {
    const call = viaA.Chat!(metadataOf({ 'dapr-app-id': 'b' }), { deadline: Date.now() + 10_000 }) as grpc.ClientDuplexStream<{ name: string }, { message: string }>;
    const replies: string[] = [];
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('data', (reply: { message: string }) => replies.push(reply.message));
    // Each message waits for the answer to the one before: the stream is relayed as it goes, not at its end.
    for (const name of ['x', 'y', 'z']) {
      const before = replies.length;
      call.write({ name });
      await pollUntil(`the answer to ${name}`, async () => (replies.length > before ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
    }
    call.end();
    const final = await status;
    assert.equal(final.code, grpc.status.OK);
    assert.deepEqual(replies, ['1: hi x from b', '2: hi y from b', '3: hi z from b']);
    assert.deepEqual(final.metadata.get('x-app-trailer'), ['chat 3']);
  });

  it("the app's error status, message and trailers come back as it sent them", async () => {
    const answer = await unary(viaA, 'Fail', 'bob', { 'dapr-app-id': 'b' });
    assert.equal(answer.error?.code, grpc.status.NOT_FOUND);
    assert.equal(answer.error?.details, 'no greeting for bob');
    assert.deepEqual(answer.status?.metadata.get('x-why'), ['unknown-name']);
  });

  it("the caller's deadline reaches the app, whose call is cancelled when it passes", async () => {
    const cancelled = appB.cancelledHangs;
    const answer = await unary(viaA, 'Hang', 'slow', { 'dapr-app-id': 'b' }, 300);
    assert.equal(answer.error?.code, grpc.status.DEADLINE_EXCEEDED);
    await pollUntil('the app to see its call cancelled', async () => (appB.cancelledHangs > cancelled ? true : undefined), { timeoutMs: 5000, intervalMs: 20 });
  });

  it("the caller cancelling cancels the app's call", async () => {
    const cancelled = appB.cancelledHangs;
    const calls = appB.seen.length;
    const call = viaA.Hang!({ name: 'slow' }, metadataOf({ 'dapr-app-id': 'b' }), () => {}) as grpc.ClientUnaryCall;
    await pollUntil('the app to get the call', async () => (appB.seen.length > calls ? true : undefined), { timeoutMs: 5000, intervalMs: 10 });
    call.cancel();
    await pollUntil('the app to see its call cancelled', async () => (appB.cancelledHangs > cancelled ? true : undefined), { timeoutMs: 5000, intervalMs: 20 });
  });

  it('a message larger than --max-body-size is refused, and a smaller one passes', async () => {
    const big = await unary(viaA, 'SayHello', 'x'.repeat(80 * 1024), { 'dapr-app-id': 'b' });
    assert.equal(big.error?.code, grpc.status.RESOURCE_EXHAUSTED);
    const fits = await unary(viaA, 'SayHello', 'y'.repeat(40 * 1024), { 'dapr-app-id': 'b' });
    assert.equal(fits.value?.message.length, 'hello  from b'.length + 40 * 1024);
  });

  it('an app id no sidecar registered fails, naming it', async () => {
    const answer = await unary(viaA, 'SayHello', 'x', { 'dapr-app-id': 'nobody' });
    assert.equal(answer.error?.code, grpc.status.UNKNOWN);
    assert.match(answer.error!.details, /failed to proxy request: .*app id "nobody"/);
  });

  it('a call with no dapr-app-id is UNIMPLEMENTED, as before', async () => {
    const answer = await unary(viaA, 'SayHello', 'x', {});
    assert.equal(answer.error?.code, grpc.status.UNIMPLEMENTED);
    assert.match(answer.error!.details, /dapr-app-id/);
  });

  it("a call for the sidecar's own app id goes straight to its app", async () => {
    const answer = await unary(viaB, 'SayHello', 'self', { 'dapr-app-id': 'b' });
    assert.deepEqual(answer.value, { message: 'hello self from b' });
    const seen = appB.seen.at(-1)!;
    assert.equal(seen.metadata['dapr-caller-app-id'], 'b');
    assert.equal(seen.metadata['dapr-callee-app-id'], 'b');
  });

  it('a sidecar with no gRPC app answers UNAVAILABLE, saying why', async () => {
    const answer = await unary(viaA, 'SayHello', 'x', { 'dapr-app-id': 'a' });
    assert.equal(answer.error?.code, grpc.status.UNAVAILABLE);
    assert.match(answer.error!.details, /app id "a" has no gRPC app channel/);
  });

  it("without a policy, the app's failure comes back at once", async () => {
    const answer = await unary(viaA, 'Flaky', 'no-policy', { 'dapr-app-id': 'b' });
    assert.equal(answer.error?.code, grpc.status.UNAVAILABLE);
    assert.equal(answer.error?.details, 'try 1 fails');
  });

  it("the caller's retry policy for b outlasts a method that fails twice", async () => {
    const answer = await unary(viaC, 'Flaky', 'with-policy', { 'dapr-app-id': 'b' });
    assert.equal(answer.error, undefined);
    assert.deepEqual(answer.value, { message: 'with-policy on try 3' });
  });

  it("the caller's timeout policy cuts a call the app never answers", async () => {
    const cancelled = appB.cancelledHangs;
    const started = Date.now();
    const answer = await unary(viaC, 'Hang', 'slow', { 'dapr-app-id': 'b' }, 20_000);
    assert.equal(answer.error?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.match(answer.error!.details, /timed out after 400 ms/);
    // 4 attempts of 400 ms, 20 ms apart: far less than the caller's own 20 s deadline.
    assert.ok(Date.now() - started < 10_000);
    await pollUntil('the app to see its calls cancelled', async () => (appB.cancelledHangs > cancelled ? true : undefined), { timeoutMs: 5000, intervalMs: 20 });
  });

  it('under a retry policy, a stream must say dapr-stream: true; then it is relayed as it goes', async () => {
    const chat = (metadata: Record<string, string>): Promise<{ replies: string[]; status: grpc.StatusObject }> => {
      const call = viaC.Chat!(metadataOf(metadata), { deadline: Date.now() + 10_000 }) as grpc.ClientDuplexStream<{ name: string }, { message: string }>;
      const replies: string[] = [];
      call.on('data', (reply: { message: string }) => replies.push(reply.message));
      call.on('error', () => {});
      call.write({ name: 'p' });
      call.write({ name: 'q' });
      call.end();
      return new Promise((resolve) => call.on('status', (status: grpc.StatusObject) => resolve({ replies, status })));
    };
    const refused = await chat({ 'dapr-app-id': 'b' });
    assert.equal(refused.status.code, grpc.status.FAILED_PRECONDITION);
    assert.match(refused.status.details, /cannot use resiliency policies with retries on streaming RPCs/);
    const streamed = await chat({ 'dapr-app-id': 'b', 'dapr-stream': 'true' });
    assert.equal(streamed.status.code, grpc.status.OK);
    assert.deepEqual(streamed.replies, ['1: hi p from b', '2: hi q from b']);
  });

  it('the Dapr API itself is still served beside the proxy', async () => {
    const answer = await unary(viaA, 'SayHello', 'x', { 'dapr-app-id': 'b' });
    assert.equal(answer.status?.code, grpc.status.OK);
    const metadata = await a.fetch('/v1.0/metadata');
    assert.equal(metadata.status, 200);
  });
});
