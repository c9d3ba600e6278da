// InvokeService in one process against a real callee (the internal gRPC server and an HTTP
// app): daprd's built-in retry when no policy applies (a callee not reached is tried again,
// resolved afresh each time; an unknown id fails at once), and a sidecar reached under a
// stale registration (it serves another app id) sending the caller to the right one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { serviceInvocationClient, type InternalInvokeResponse } from '../../../../host/building-blocks/invoke/internal-protos.ts';
import { createInternalServer, type InternalServer } from '../../../../host/api/internal-grpc/internal-server.ts';
import { AppChannel } from '../../../../host/app-channel/app-channel.ts';
import { BUILT_IN_RETRY, InvokeService } from '../../../../host/building-blocks/invoke/invoke-service.ts';
import type { NameResolver } from '../../../../host/building-blocks/invoke/name-resolution/name-resolver.ts';
import { isTesseraError } from '../../../../host/errors.ts';
import { silentLogger } from '../../../../host/observability/logger.ts';
import { EchoApp } from '../../../support/echo-app.ts';
import { freePort } from '../../../support/test-app.ts';

/** A resolver that answers from a list the test sets, one address per lookup in turn, and counts lookups. */
class ScriptedResolver implements NameResolver {
  readonly name = 'scripted';
  answers: (string | undefined)[] = [];
  lookups = 0;
  forgotten = 0;
  async register(): Promise<void> {}
  async resolve(): Promise<string | undefined> {
    const answer = this.answers[Math.min(this.lookups, this.answers.length - 1)];
    this.lookups++;
    return answer;
  }
  forget(): void {
    this.forgotten++;
  }
  async close(): Promise<void> {}
}

const call = { verb: 'POST' as const, query: '', contentType: 'text/plain', metadata: {}, body: Buffer.from('hi') };

describe('InvokeService', () => {
  const app = new EchoApp('b');
  let server: InternalServer;
  let live = '';
  let deadAddress = '';
  const resolver = new ScriptedResolver();
  const fast = { ...BUILT_IN_RETRY, durationMs: 10 };
  const service = new InvokeService({ appId: 'a', namespace: 'default', channel: undefined, resolver, resiliency: undefined, maxBodyBytes: 1 << 20, builtInRetry: fast });

  before(async () => {
    await app.listen();
    server = createInternalServer({ appId: 'b', channel: new AppChannel({ port: app.port }), maxBodyBytes: 1 << 20, logger: silentLogger });
    live = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    deadAddress = `127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    service.close();
    await server.close();
    await app.close();
  });

  it('retries a callee it cannot reach, resolving again, and succeeds once the id resolves to a live one', async () => {
    resolver.lookups = 0;
    resolver.answers = [deadAddress, deadAddress, live];
    const answer = await service.invoke({ ...call, targetId: 'b', method: 'retry/me' });
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body.toString()).url, '/retry/me');
    assert.equal(resolver.lookups, 3);
    assert.ok(resolver.forgotten >= 2, 'each failed address was forgotten');
  });

  it('gives up after 3 retries with ERR_DIRECT_INVOKE naming the app', async () => {
    resolver.lookups = 0;
    resolver.answers = [deadAddress];
    await assert.rejects(service.invoke({ ...call, targetId: 'b', method: 'x' }), (err) => isTesseraError(err, 'ERR_DIRECT_INVOKE') && /id: b/.test(err.message));
    assert.equal(resolver.lookups, 4);
  });

  it('the callee speaks standard gRPC: a gRPC library client gets the app\'s answer, and UNIMPLEMENTED for the actor RPCs', async () => {
    const Client = serviceInvocationClient();
    const client = new Client(live, credentials.createInsecure()) as unknown as Record<string, (req: object, cb: (err: ServiceError | null, res?: InternalInvokeResponse) => void) => void>;
    try {
      const request = { ver: 'V1', metadata: {}, message: { method: 'from/grpc', data: { type_url: '', value: Buffer.from('x') }, content_type: 'text/plain', http_extension: { verb: 'PUT', querystring: 'a=1' } } };
      const response = await new Promise<InternalInvokeResponse>((resolve, reject) => client.CallLocal!(request, (err, res) => (err ? reject(err) : resolve(res!))));
      assert.equal(response.status.code, 200);
      assert.equal(JSON.parse(response.message.data!.value.toString()).url, '/from/grpc?a=1');
      const err = await new Promise<ServiceError | null>((resolve) => client.CallActor!({}, (e) => resolve(e)));
      assert.equal(err?.code, 12);
      assert.match(err?.details ?? '', /CallActor is not implemented/);
    } finally {
      (client as unknown as { close(): void }).close();
    }
  });

  it('fails at once for an id no resolver knows', async () => {
    resolver.lookups = 0;
    resolver.answers = [undefined];
    await assert.rejects(service.invoke({ ...call, targetId: 'b', method: 'x' }), /no sidecar of app id "b"/);
    assert.equal(resolver.lookups, 1);
  });

  it('a sidecar that serves another app id refuses the call, and the caller tries again elsewhere', async () => {
    resolver.lookups = 0;
    resolver.answers = [live];
    // The live sidecar serves "b": a call meant for "c" that reaches it is refused, retried, refused again.
    await assert.rejects(service.invoke({ ...call, targetId: 'c', method: 'x' }), /serves app id "b", not "c"/);
    assert.equal(resolver.lookups, 4);
    assert.equal(app.at('/x').length, 0, 'the wrong app never saw it');
  });
});
