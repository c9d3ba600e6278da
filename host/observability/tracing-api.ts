// What the host asks of tracing (tracing.ts holds the process's, otel-tracing.ts makes it):
// apart, so the SDK side and the side that loads it share the shape without importing each other.

/** An API call's span, while the request is served. */
export interface ServerSpan {
  /** The W3C headers naming this span, to pass on (the CloudEvent of a publish carries them). */
  readonly traceparent: string;
  readonly tracestate: string;
  /** Runs `fn` (the rest of the request) with this span as the current one. */
  run(fn: () => void): void;
  end(status: number): void;
  /** Ends a gRPC call's span: a code other than OK marks it failed, with the status message. */
  endRpc(code: number, message: string | undefined): void;
}

export interface Tracing {
  /** A SERVER span for an API call, continuing the caller's trace when its `traceparent` is valid. */
  serverSpan(name: string, traceparent: string | undefined, tracestate: string | undefined, attributes: Record<string, string>): ServerSpan;
  /**
   * A span around one component call, child of the current span; none outside a recorded
   * trace (delivery loops poll their brokers all the time: those calls are not traced).
   */
  componentCall<T>(component: string, generation: number, exportName: string, call: () => Promise<T>): Promise<T>;
  /**
   * A CLIENT span for a call to the app, child of the trace in `headers` (a delivery: the
   * CloudEvent's) or of the current span; `headers` get its `traceparent`/`tracestate`.
   * Returns what ends it; undefined when there is no trace to continue.
   */
  appCall(name: string, headers: Record<string, string>): ((status: number | undefined) => void) | undefined;
  /** The current trace id, for log lines. */
  traceId(): string | undefined;
  /** Sends what is buffered, then stops. */
  shutdown(): Promise<void>;
}
