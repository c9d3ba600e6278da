// What each transport answers for an error: the HTTP status the API sends today, and the
// gRPC status the gRPC API will send, from one table each, refined by the error's reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrpcStatus, grpcStatusOf } from '../../../host/api/grpc/grpc-status.ts';
import { httpStatusOf } from '../../../host/api/http/http-status.ts';
import { operationFailed } from '../../../host/building-blocks/state/state-errors.ts';
import { ERROR_CODES, TesseraError } from '../../../host/errors.ts';

const componentSaid = (tag: 'etag-mismatch' | 'etag-invalid' | 'invalid-argument' | 'internal') =>
  new TesseraError('ERR_INTERNAL', `component said ${tag}`, { componentError: { tag, val: 'no' } });

describe('error statuses', () => {
  it('gives every code an HTTP and a gRPC status', () => {
    for (const code of ERROR_CODES) {
      const err = new TesseraError(code, 'x');
      assert.ok(httpStatusOf(err) >= 400 && httpStatusOf(err) < 600, `${code}: HTTP ${httpStatusOf(err)}`);
      assert.ok(Object.values(GrpcStatus).includes(grpcStatusOf(err) as never), `${code}: gRPC ${grpcStatusOf(err)}`);
    }
  });

  it("answers a failed state call as daprd does: ETag errors and refused arguments by their reason", () => {
    const cases = [
      ['etag-mismatch', 409, GrpcStatus.ABORTED],
      ['etag-invalid', 400, GrpcStatus.INVALID_ARGUMENT],
      ['invalid-argument', 400, GrpcStatus.INVALID_ARGUMENT],
      ['internal', 500, GrpcStatus.INTERNAL],
    ] as const;
    for (const [tag, http, grpc] of cases) {
      const err = operationFailed(componentSaid(tag), { op: 'save', storeName: 'statestore' });
      assert.equal(err.code, 'ERR_STATE_SAVE');
      assert.equal(httpStatusOf(err), http, tag);
      assert.equal(grpcStatusOf(err), grpc, tag);
    }
  });

  it('answers a failed transaction with HTTP 500 whatever the cause, as daprd does', () => {
    const err = operationFailed(componentSaid('etag-mismatch'), { op: 'transaction', storeName: 'statestore' });
    assert.equal(err.code, 'ERR_STATE_TRANSACTION');
    assert.equal(httpStatusOf(err), 500);
    assert.equal(grpcStatusOf(err), GrpcStatus.ABORTED);
  });

  it('maps component limits to statuses a client can act on', () => {
    assert.equal(httpStatusOf(new TesseraError('ERR_COMPONENT_BUSY', 'x')), 429);
    assert.equal(httpStatusOf(new TesseraError('ERR_COMPONENT_THROTTLED', 'x')), 429);
    assert.equal(grpcStatusOf(new TesseraError('ERR_COMPONENT_TIMEOUT', 'x')), GrpcStatus.DEADLINE_EXCEEDED);
  });
});
