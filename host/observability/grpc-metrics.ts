// daprd's gRPC server families (dapr_grpc_io_server_*) for one method of the Dapr gRPC API.
// A call knows its method up front, so its label series are found once per method (and per
// status the method ends with), not looked up per call: a call costs a clock read, four
// additions and two bucket searches.
import type { HistogramChild } from './label-series.ts';
import type { Families } from './metric-families.ts';

/** Go's names of the gRPC status codes (codes.Code.String()), as daprd's `grpc_server_status` has them. */
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
  families: Families;
  received: HistogramChild;
  sent: HistogramChild;
  /** By status code; a method ends with few of them. */
  byStatus: (StatusSeries | undefined)[];
}

export class GrpcMethodMetrics {
  readonly #method: string;
  readonly #appId: string;
  /** Reports once the families are loaded (buffered before, as every report is). */
  readonly #report: (report: (f: Families) => void) => void;
  #series: MethodSeries | undefined;

  constructor(method: string, appId: string, report: (report: (f: Families) => void) => void) {
    this.#method = method;
    this.#appId = appId;
    this.#report = report;
  }

  #resolve(f: Families): MethodSeries {
    return (this.#series ??= {
      families: f,
      received: f.grpcReceivedBytes.child(this.#appId, this.#method),
      sent: f.grpcSentBytes.child(this.#appId, this.#method),
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
        completed: f.grpcCompleted.child(this.#appId, this.#method, name),
        latency: f.grpcLatency.child(this.#appId, this.#method, name),
      };
    }
    status.completed.value++;
    f.grpcLatency.observeIn(status.latency, ms);
    f.grpcReceivedBytes.observeIn(series.received, receivedBytes);
    f.grpcSentBytes.observeIn(series.sent, sentBytes);
  }
}
