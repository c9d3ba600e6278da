// daprd's gRPC families for one method: dapr_grpc_io_server_* for a method of the Dapr gRPC
// API, dapr_grpc_io_client_* for one the sidecar calls. A call knows its method up front, so its label series are found once per method (and per
// status the method ends with), not looked up per call: a call costs a clock read, four
// additions and two bucket searches.
import type { HistogramChild } from './label-series.ts';
import type { Families, GrpcFamilies } from './metric-families.ts';

/** Go's names of the gRPC status codes (codes.Code.String()), as daprd's `grpc_server_status`/`grpc_client_status` have them. */
const STATUS_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

export function grpcStatusName(code: number): string {
  return STATUS_NAMES[code] ?? `Code(${code})`;
}

interface StatusSeries {
  completed: { value: number };
  latency: HistogramChild;
}

interface MethodSeries {
  families: GrpcFamilies;
  received: HistogramChild;
  sent: HistogramChild;
  /** By status code; a method ends with few of them. */
  byStatus: (StatusSeries | undefined)[];
}

export class GrpcMethodMetrics {
  readonly #method: string;
  readonly #appId: string;
  readonly #side: 'grpcServer' | 'grpcClient';
  /** Reports once the families are loaded (buffered before, as every report is). */
  readonly #report: (report: (f: Families) => void) => void;
  #series: MethodSeries | undefined;

  constructor(side: 'server' | 'client', method: string, appId: string, report: (report: (f: Families) => void) => void) {
    this.#side = side === 'server' ? 'grpcServer' : 'grpcClient';
    this.#method = method;
    this.#appId = appId;
    this.#report = report;
  }

  #resolve(families: Families): MethodSeries {
    const f = families[this.#side];
    return (this.#series ??= {
      families: f,
      received: f.received.child(this.#appId, this.#method),
      sent: f.sent.child(this.#appId, this.#method),
      byStatus: [],
    });
  }

  /** One completed call: its status code, message sizes (bytes) and time from receipt to answer (ms). */
  record(code: number, receivedBytes: number, sentBytes: number, ms: number): void {
    const series = this.#series;
    if (series === undefined) {
      this.#report((f) => this.#observe(this.#resolve(f), code, receivedBytes, sentBytes, ms));
      return;
    }
    this.#observe(series, code, receivedBytes, sentBytes, ms);
  }

  #observe(series: MethodSeries, code: number, receivedBytes: number, sentBytes: number, ms: number): void {
    const f = series.families;
    let status = series.byStatus[code];
    if (status === undefined) {
      const name = grpcStatusName(code);
      status = series.byStatus[code] = {
        completed: f.completed.child(this.#appId, this.#method, name),
        latency: f.latency.child(this.#appId, this.#method, name),
      };
    }
    status.completed.value++;
    f.latency.observeIn(status.latency, ms);
    f.received.observeIn(series.received, receivedBytes);
    f.sent.observeIn(series.sent, sentBytes);
  }
}

/** The recorder of a method the sidecar calls, by full method name: daprd's dapr_grpc_io_client_* families. */
export type ClientMetrics = (fullMethod: string) => GrpcMethodMetrics;
