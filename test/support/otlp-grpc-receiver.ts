// An OTLP/gRPC trace receiver on loopback for tests: a @grpc/grpc-js server of
// opentelemetry.proto.collector.trace.v1.TraceService/Export (what
// @opentelemetry/exporter-trace-otlp-grpc calls), decoding with the part of OTLP's protos
// in proto/otlp-trace-service.proto. Each span is kept with its status and its resource's
// service.name, and its call's metadata (the exporter's headers).
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition, Server, ServerCredentials, status, type GrpcObject, type Metadata, type ServiceClientConstructor } from '@grpc/grpc-js';
import { ReceivedSpans, type ReceivedSpan } from './otlp-receiver.ts';

const PROTO = fileURLToPath(new URL('./proto/otlp-trace-service.proto', import.meta.url));

export interface GrpcReceivedSpan extends ReceivedSpan {
  /** OTLP's status: code 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  /** The metadata of the Export call that carried it. */
  metadata: Metadata;
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface ExportRequest {
  resourceSpans: {
    resource?: { attributes: KeyValue[] };
    scopeSpans: { spans: { traceId: Buffer; spanId: Buffer; parentSpanId: Buffer; name: string; kind: number; attributes: KeyValue[]; status?: { code: number; message: string } }[] }[];
  }[];
}

const valueOf = (v: AnyValue | undefined): unknown => v?.stringValue ?? (v?.intValue === undefined ? undefined : Number(v.intValue)) ?? v?.boolValue ?? v?.doubleValue;
const attributesOf = (list: KeyValue[]): Record<string, unknown> => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

function traceService(): ServiceClientConstructor {
  const definition = loadSync(PROTO, { keepCase: false, longs: String, defaults: true, oneofs: true });
  const pkg = loadPackageDefinition(definition) as GrpcObject;
  const v1 = ((((pkg.opentelemetry as GrpcObject).proto as GrpcObject).collector as GrpcObject).trace as GrpcObject).v1 as GrpcObject;
  return v1.TraceService as ServiceClientConstructor;
}

export class OtlpGrpcReceiver extends ReceivedSpans<GrpcReceivedSpan> {
  readonly #server = new Server();
  port = 0;

  #take(body: ExportRequest, metadata: Metadata): void {
    for (const rs of body.resourceSpans) {
      const serviceName = attributesOf(rs.resource?.attributes ?? [])['service.name'] as string | undefined;
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          this.spans.push({
            traceId: s.traceId.toString('hex'),
            spanId: s.spanId.toString('hex'),
            parentSpanId: s.parentSpanId.toString('hex'),
            name: s.name,
            kind: s.kind,
            attributes: attributesOf(s.attributes),
            status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
            serviceName,
            metadata,
          });
        }
      }
    }
  }

  /** `host:port`, as a Configuration's `endpointAddress` names it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    this.#server.addService(traceService().service, {
      Export: (call: { request: ExportRequest; metadata: Metadata }, callback: (err: { code: number; details: string } | null, value?: object) => void) => {
        try {
          this.#take(call.request, call.metadata);
        } catch (err) {
          this.refused.push(`unreadable export: ${(err as Error).message}`);
          callback({ code: status.INVALID_ARGUMENT, details: (err as Error).message });
          return;
        }
        callback(null, {});
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    return this;
  }

  close(): Promise<void> {
    this.#server.forceShutdown();
    return Promise.resolve();
  }
}
