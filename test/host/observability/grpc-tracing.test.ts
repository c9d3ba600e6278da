// The gRPC API's trace context and span naming as daprd's grpc_tracing.go has them: the
// binary grpc-trace-bin (OpenCensus' format) to and from W3C traceparent, daprd's span names
// and attributes by method, and which caller metadata becomes attributes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binaryOfTraceparent, daprMetadataAttributes, grpcApiSpan, traceparentOfBinary } from '../../../host/observability/grpc-tracing.ts';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
/** What a Go SDK sends for TRACEPARENT: version 0; field 0 trace id, 1 span id, 2 options. */
const BIN = Buffer.from('00000af7651916cd43dd8448eb211c80319c01b7ad6b71692033310201', 'hex');

describe('gRPC trace context and spans', () => {
  it('reads and writes grpc-trace-bin as OpenCensus encodes it', () => {
    assert.equal(traceparentOfBinary(BIN), TRACEPARENT);
    assert.deepEqual(binaryOfTraceparent(TRACEPARENT), BIN);
    // Not sampled.
    assert.equal(traceparentOfBinary(Buffer.concat([BIN.subarray(0, 28), Buffer.from([0])])), TRACEPARENT.replace(/01$/, '00'));
    // Without options, as older encoders send it.
    assert.equal(traceparentOfBinary(BIN.subarray(0, 27)), TRACEPARENT.replace(/01$/, '00'));
  });

  it('takes no context from a value that is not a valid one', () => {
    for (const bad of [Buffer.alloc(0), Buffer.from([1, ...BIN.subarray(1)]), BIN.subarray(0, 20), Buffer.alloc(29)]) assert.equal(traceparentOfBinary(bad), undefined);
    assert.equal(binaryOfTraceparent('not-a-traceparent'), undefined);
  });

  it("names and attributes spans as daprd does", () => {
    assert.deepEqual(grpcApiSpan('/dapr.proto.runtime.v1.Dapr/InvokeService', { id: 'orders', message: { method: 'new' } }), {
      name: 'CallLocal/orders/new',
      attributes: { 'rpc.service': 'ServiceInvocation', 'net.peer.name': 'orders', 'dapr.protocol': 'grpc', 'dapr.api': '/dapr.proto.runtime.v1.Dapr/InvokeService' },
    });
    const publish = grpcApiSpan('/dapr.proto.runtime.v1.Dapr/BulkPublishEventAlpha1', { topic: 'orders' });
    assert.equal(publish.name, '/dapr.proto.runtime.v1.Dapr/BulkPublishEventAlpha1');
    assert.equal(publish.attributes['messaging.destination'], 'orders');
    assert.equal(publish.attributes['messaging.destination_kind'], 'topic');
    const binding = grpcApiSpan('/dapr.proto.runtime.v1.Dapr/InvokeBinding', { name: 'queue' });
    assert.equal(binding.attributes['db.system'], 'bindings');
    assert.equal(binding.attributes['db.name'], 'queue');
    // A method daprd gives no attributes of its own gets the protocol and API alone.
    assert.deepEqual(grpcApiSpan('/dapr.proto.runtime.v1.Dapr/GetBulkState', { store_name: 's' }).attributes, {
      'dapr.protocol': 'grpc',
      'dapr.api': '/dapr.proto.runtime.v1.Dapr/GetBulkState',
    });
  });

  it("shows the caller's dapr- metadata, never binary values or the API token", () => {
    const attributes: Record<string, string> = {};
    daprMetadataAttributes({ 'dapr-tenant': 'blue', 'dapr-api-token': 'secret', 'dapr-blob-bin': Buffer.from('x'), other: 'no' }, attributes);
    assert.deepEqual(attributes, { 'dapr-tenant': 'blue' });
  });
});
