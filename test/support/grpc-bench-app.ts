// The gRPC half of the pub/sub benchmark's app (pubsub-bench-app.ts): Dapr's AppCallback
// service on 127.0.0.1 with raw @grpc/grpc-js, answering ListTopicSubscriptions with the
// benchmark's subscriptions and each OnTopicEvent SUCCESS after handing its data on.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { APP_CALLBACK_PACKAGE, PROTO_LOADER_OPTIONS } from '../../host/app-channel/app-callback-proto.ts';
import { APP_CALLBACK_PROTO, protoRoot } from './dapr-proto-files.ts';

/** A subscription as `/dapr/subscribe` writes it, with a single route. */
export interface GrpcBenchSubscription {
  pubsubname: string;
  topic: string;
  route: string;
}

/** Serves the AppCallback service; resolves to its port. */
export async function listenGrpc(subscriptions: GrpcBenchSubscription[], onMessage: (data: string) => void): Promise<number> {
  const definition = await protoLoader.load(APP_CALLBACK_PROTO, { includeDirs: [protoRoot()], ...PROTO_LOADER_OPTIONS });
  const server = new grpc.Server();
  const listed = subscriptions.map((s) => ({ pubsubName: s.pubsubname, topic: s.topic, routes: { default: s.route } }));
  server.addService(definition[`${APP_CALLBACK_PACKAGE}.AppCallback`] as grpc.ServiceDefinition, {
    ListTopicSubscriptions: (_call: unknown, done: grpc.sendUnaryData<unknown>) => done(null, { subscriptions: listed }),
    OnTopicEvent: (call: grpc.ServerUnaryCall<{ data: Buffer }, unknown>, done: grpc.sendUnaryData<unknown>) => {
      onMessage(call.request.data.toString('utf8'));
      done(null, { status: 'SUCCESS' });
    },
  });
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}
