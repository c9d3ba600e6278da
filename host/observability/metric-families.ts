// Every metric the sidecar exports, on its own prom-client registry: Dapr's families with
// daprd's names, labels, units and buckets (pkg/diagnostics), so Dapr's dashboards work,
// then Tessera's own per-component ones, then Node's process metrics. Imported lazily by
// metrics.ts: prom-client takes ~100 ms to load, which a start must not wait for.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CallSeries, SeriesCounter, SeriesHistogram } from './label-series.ts';

/** How often the event-loop delay histogram (nodejs_eventloop_lag_*) takes a sample. */
const EVENT_LOOP_SAMPLE_MS = 100;

/** daprd's defaultLatencyDistribution, in milliseconds. */
export const DAPR_LATENCY_BUCKETS_MS = [
  1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 65, 80, 100, 130, 160, 200, 250, 300, 400, 500, 650, 800, 1000, 2000, 5000, 10000,
  20000, 50000, 100000,
];
/** daprd's defaultSizeDistribution, in bytes. */
export const DAPR_SIZE_BUCKETS = [1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296];
/** Compile times of a module, in seconds: from a small core module to a JavaScript engine. */
const COMPILE_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One component as the registry shows it at a scrape. */
export interface ComponentSample {
  name: string;
  generation: number;
  memoryBytes?: number | undefined;
  fuelConsumed?: number | undefined;
  instances?: number | undefined;
}

const COMPONENT = ['app_id', 'component', 'namespace'];

/** One side's dapr_grpc_io_<side>_* families: completed calls and latency by method and status, message bytes by method. */
function grpcFamilies(registry: Registry, side: 'server' | 'client', latencyName: string, latencyHelp: string, [receivedHelp, sentHelp]: [string, string]) {
  const method = ['app_id', `grpc_${side}_method`];
  const status = [...method, `grpc_${side}_status`];
  const prefix = `dapr_grpc_io_${side}`;
  return {
    completed: new SeriesCounter(registry, `${prefix}_completed_rpcs`, 'Count of RPCs by method and status', status),
    latency: new SeriesHistogram(registry, `${prefix}_${latencyName}`, latencyHelp, status, DAPR_LATENCY_BUCKETS_MS),
    received: new SeriesHistogram(registry, `${prefix}_received_bytes_per_rpc`, receivedHelp, method, DAPR_SIZE_BUCKETS),
    sent: new SeriesHistogram(registry, `${prefix}_sent_bytes_per_rpc`, sentHelp, method, DAPR_SIZE_BUCKETS),
  };
}

export type GrpcFamilies = ReturnType<typeof grpcFamilies>;

export function createFamilies(sample: () => ComponentSample[]) {
  const registry = new Registry();
  const registers = [registry];
  // Families a request touches are label-series (label-series.ts says why); the rest prom-client's own.
  const counter = (name: string, help: string, labelNames: readonly string[]) => new SeriesCounter(registry, name, help, labelNames);
  const latency = (name: string, help: string, labelNames: readonly string[]) => new SeriesHistogram(registry, name, help, labelNames, DAPR_LATENCY_BUCKETS_MS);
  /** Dapr's `_count` and `_latencies` (ms) pair over one set of labels. */
  const pair = (count: string, countHelp: string, latencies: string, latencyHelp: string, labelNames: readonly string[]) =>
    new CallSeries(registry, { name: count, help: countHelp }, { name: latencies, help: latencyHelp }, labelNames, DAPR_LATENCY_BUCKETS_MS);
  const rare = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter({ name, help, labelNames, registers });

  // Fuel is a counter, but an instance dropped (a trap, a hibernation, a swap) takes its count
  // with it: a total that goes down starts a new stretch on top of the last one.
  const fuelSeen = new Map<string, { base: number; last: number; counted: number }>();
  /** What the fuel counter of `name` must grow by, given what its live instances report now. */
  const fuelGrowth = (name: string, now: number): number => {
    const seen = fuelSeen.get(name) ?? { base: 0, last: 0, counted: 0 };
    if (now < seen.last) seen.base += seen.last;
    seen.last = now;
    fuelSeen.set(name, seen);
    const growth = seen.base + now - seen.counted;
    seen.counted += growth;
    return growth;
  };

  const families = {
    registry,
    http: pair('dapr_http_server_request_count', 'The number of HTTP requests', 'dapr_http_server_latency', 'Latency distribution of HTTP requests (milliseconds)', ['app_id', 'method', 'path', 'status']),
    httpRequestBytes: new SeriesHistogram(registry, 'dapr_http_server_request_bytes', 'Size distribution of HTTP request body', ['app_id'], DAPR_SIZE_BUCKETS),
    httpResponseBytes: new SeriesHistogram(registry, 'dapr_http_server_response_bytes', 'Size distribution of HTTP response body', ['app_id'], DAPR_SIZE_BUCKETS),
    state: pair(
      'dapr_component_state_count',
      'The number of operations performed on the state component',
      'dapr_component_state_latencies',
      'The latency of the response from the state component (milliseconds)',
      [...COMPONENT, 'operation', 'success'],
    ),
    egress: pair(
      'dapr_component_pubsub_egress_count',
      'The number of outgoing messages published to the pub/sub component',
      'dapr_component_pubsub_egress_latencies',
      'The latency of the response from the pub/sub component (milliseconds)',
      [...COMPONENT, 'success', 'topic'],
    ),
    ingress: pair(
      'dapr_component_pubsub_ingress_count',
      'The number of incoming messages arriving from the pub/sub component',
      'dapr_component_pubsub_ingress_latencies',
      'The consuming app event processing latency (milliseconds)',
      [...COMPONENT, 'process_status', 'topic', 'status'],
    ),
    // daprd's bulk families (component_monitoring.go): one count per bulk call, one per event in it.
    bulkEgress: pair(
      'dapr_component_pubsub_egress_bulk_count',
      'The number of bulk publish calls to the pub/sub component',
      'dapr_component_pubsub_egress_bulk_latencies',
      'The latency of the response for the bulk publish call from the pub/sub component (milliseconds)',
      [...COMPONENT, 'success', 'topic'],
    ),
    bulkEgressEvents: counter(
      'dapr_component_pubsub_egress_bulk_event_count',
      'The number of outgoing messages to the pub/sub component published through bulk publish API',
      [...COMPONENT, 'success', 'topic'],
    ),
    bulkIngress: pair(
      'dapr_component_pubsub_ingress_bulk_count',
      'The number of incoming bulk subscribe calls arriving from the bulk pub/sub component',
      'dapr_component_pubsub_ingress_bulk_latencies',
      'The consuming app event processing latency for the bulk pub/sub component (milliseconds)',
      [...COMPONENT, 'process_status', 'topic'],
    ),
    bulkIngressEvents: counter(
      'dapr_component_pubsub_ingress_bulk_event_count',
      'Total number of incoming messages arriving from the bulk pub/sub component via Bulk Subscribe',
      [...COMPONENT, 'process_status', 'topic'],
    ),
    // daprd's gRPC families (grpc_monitoring.go, OpenCensus' grpc.io/{server,client}/* views):
    // the API's calls, and the calls the sidecar makes (other sidecars, a gRPC app).
    grpcServer: grpcFamilies(registry, 'server', 'server_latency', 'Time between first byte of request received to last byte of response sent, or terminal error (milliseconds)', [
      'Total bytes received across all messages per RPC',
      'Total bytes sent in across all response messages per RPC',
    ]),
    grpcClient: grpcFamilies(registry, 'client', 'roundtrip_latency', 'Time between first byte of request sent to last byte of response received, or terminal error (milliseconds)', [
      'Total bytes received across all response messages per RPC',
      'Total bytes sent across all request messages per RPC',
    ]),
    outputBinding: pair(
      'dapr_component_output_binding_count',
      'The number of operations invoked on the output binding component',
      'dapr_component_output_binding_latencies',
      'The latency of the response from the output binding component (milliseconds)',
      [...COMPONENT, 'operation', 'success'],
    ),
    inputBinding: pair(
      'dapr_component_input_binding_count',
      'The number of incoming events arriving from the input binding component',
      'dapr_component_input_binding_latencies',
      'The triggered app event processing latency (milliseconds)',
      [...COMPONENT, 'success'],
    ),
    componentLoaded: rare('dapr_runtime_component_loaded', 'The number of successfully loaded components', ['app_id']),
    componentInit: rare('dapr_runtime_component_init_total', 'The number of initialized components', ['app_id', 'component']),
    componentInitFail: rare('dapr_runtime_component_init_fail_total', 'The number of component initialization failures', ['app_id', 'component', 'reason', 'componentName']),
    calls: counter('tessera_component_calls_total', 'Calls of a component export, by export and outcome', ['app_id', 'component', 'export', 'success']),
    callLatency: latency('tessera_component_call_latency', 'Latency of a component export call, queueing included (milliseconds)', ['app_id', 'component', 'export']),
    traps: rare('tessera_component_traps_total', 'Traps of a component (its instance is dropped and rebuilt)', ['app_id', 'component']),
    swaps: rare('tessera_component_swaps_total', 'Hot swaps of a component to a new generation', ['app_id', 'component']),
    hibernations: rare('tessera_component_hibernations_total', 'Times an idle component gave up its instance', ['app_id', 'component']),
    compileSeconds: new Histogram({
      name: 'tessera_component_compile_seconds',
      help: 'Time the registry waited for a module to be checked, hardened and compiled',
      labelNames: ['app_id', 'component'],
      buckets: COMPILE_BUCKETS_S,
      registers,
    }),
    // The per-component gauges are read from the registry at each scrape, never per call.
    memory: new Gauge({ name: 'tessera_component_memory_bytes', help: 'Linear memory of the component’s live instances', labelNames: ['app_id', 'component'], registers }),
    fuel: new Counter({ name: 'tessera_component_fuel_consumed_total', help: 'CPU fuel (metering units, ~1 per ns) the component burnt', labelNames: ['app_id', 'component'], registers }),
    generation: new Gauge({ name: 'tessera_component_generation', help: 'The running generation of the component (1 at first load, +1 per swap)', labelNames: ['app_id', 'component'], registers }),
    instances: new Gauge({ name: 'tessera_component_instances', help: 'Live instances of the component (0 while hibernating)', labelNames: ['app_id', 'component'], registers }),
  };

  /** Sets the scraped families from one look at the registry; a component gone leaves its series. */
  const refresh = (appId: string): void => {
    families.memory.reset();
    families.generation.reset();
    families.instances.reset();
    for (const c of sample()) {
      const labels = { app_id: appId, component: c.name };
      families.generation.set(labels, c.generation);
      if (c.memoryBytes !== undefined) families.memory.set(labels, c.memoryBytes);
      if (c.instances !== undefined) families.instances.set(labels, c.instances);
      if (c.fuelConsumed !== undefined) families.fuel.inc(labels, fuelGrowth(c.name, c.fuelConsumed));
    }
  };
  // The event-loop delay histogram samples on a timer of its own: at prom-client's default
  // (every 10 ms) it woke an idle sidecar 100 times a second, 0.55% of a core against 0.1%
  // with metrics off (measured over 20 s idle); every 100 ms costs 0.2% and still catches a
  // stall, since a sample's delay is measured to the nanosecond.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return { ...families, refresh };
}

export type Families = ReturnType<typeof createFamilies>;

