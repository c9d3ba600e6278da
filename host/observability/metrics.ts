// The sidecar's metrics as the rest of the host reports to them: the transports, the
// building blocks (BlockObserver) and the component layer (ComponentObserver) call plain
// methods here. prom-client itself is loaded once the sidecar is ready (`load`), off the
// start's critical path; what is reported before that waits in a bounded buffer.
import type { CallSeries, HistogramChild } from './label-series.ts';
import type { Families, ComponentSample } from './metric-families.ts';
import type { BlockObserver, ComponentObserver, ProcessStatus } from './component-observer.ts';
import { GrpcMethodMetrics } from './grpc-metrics.ts';
import { ResiliencyMetrics } from './resiliency-metrics.ts';

const PROCESS_STATUSES: readonly ProcessStatus[] = ['success', 'retry', 'drop'];

/** HTTP statuses as label text, each made once (not a new string, hashed again, per request). */
const STATUS_TEXT: string[] = [];
const statusText = (status: number): string => (status >= 100 && status < 600 ? (STATUS_TEXT[status] ??= String(status)) : String(status));

/** Most reports kept while prom-client loads; later ones are dropped (a start serves little traffic). */
const MAX_EARLY_REPORTS = 10_000;

export interface MetricsOptions {
  appId: string;
  /** Dapr's `namespace` label (daprd reads NAMESPACE); empty outside Kubernetes. */
  namespace?: string | undefined;
}

/** The families that pair a count with a latency histogram. */
type CallKey = { [K in keyof Families]: Families[K] extends CallSeries ? K : never }[keyof Families];

/** A report made before prom-client was loaded, made again once it is. */
type Report = () => void;

export class SidecarMetrics implements BlockObserver, ComponentObserver {
  readonly appId: string;
  /** daprd's dapr_resiliency_* families, which the resiliency layer reports to. */
  readonly resiliency: ResiliencyMetrics;
  readonly #namespace: string;
  #families: Families | undefined;
  #early: Report[] | undefined = [];
  #loading: Promise<Families> | undefined;
  /** What the registry shows at a scrape, for the per-component gauges. */
  #sample: () => ComponentSample[] = () => [];

  constructor(options: MetricsOptions) {
    this.appId = options.appId;
    this.#namespace = options.namespace ?? '';
    this.#httpValues = [this.appId, '', '', ''];
    this.#stateValues = [this.appId, '', '', '', ''];
    this.#pubsubValues = [this.appId, '', '', '', ''];
    this.#ingressValues = [this.appId, '', '', '', '', ''];
    this.#bindingValues = [this.appId, '', '', '', ''];
    this.#inputValues = [this.appId, '', '', ''];
    this.#callValues = [this.appId, '', '', ''];
    this.#latencyValues = [this.appId, '', ''];
    this.resiliency = new ResiliencyMetrics(this.appId, this.#namespace);
  }

  /** Where the per-component gauges are read from at each scrape. */
  sampleComponents(sample: () => ComponentSample[]): void {
    this.#sample = sample;
  }

  /** Loads prom-client and builds the families, replaying what was reported meanwhile. */
  load(): Promise<Families> {
    this.#loading ??= import('./metric-families.ts').then(({ createFamilies }) => {
      const families = createFamilies(() => this.#sample());
      this.#families = families;
      this.resiliency.registerOn(families.registry);
      for (const report of this.#early ?? []) report();
      this.#early = undefined;
      return families;
    });
    return this.#loading;
  }

  /** The exposition text, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const families = await this.load();
    families.refresh(this.appId);
    return { contentType: families.registry.contentType, body: await families.registry.metrics() };
  }

  #later(report: Report): void {
    if (this.#early !== undefined && this.#early.length < MAX_EARLY_REPORTS) this.#early.push(report);
  }

  /** A report on the families, buffered while prom-client loads. */
  #report(report: (f: Families) => void): void {
    const f = this.#families;
    if (f !== undefined) report(f);
    else this.#later(() => this.#report(report));
  }

  /**
   * Records one call in the pair `key` names, buffered while prom-client loads. `values` is
   * the caller's scratch array, filled per call (a series keeps no reference to it), so a
   * call allocates nothing; a buffered report takes a copy.
   */
  #record(key: CallKey, ms: number, values: string[]): void {
    const f = this.#families;
    if (f !== undefined) f[key].record(ms, values);
    else {
      const copy = values.slice();
      this.#later(() => this.#record(key, ms, copy));
    }
  }

  // Label values per family, the app id and namespace set once; the rest is filled per call.
  readonly #httpValues: string[];
  readonly #stateValues: string[];
  readonly #pubsubValues: string[];
  readonly #ingressValues: string[];
  readonly #bindingValues: string[];
  readonly #inputValues: string[];
  readonly #callValues: string[];
  readonly #latencyValues: string[];
  /** The body-size series, labelled by app id alone: found once. */
  #bytes: { request: HistogramChild; response: HistogramChild } | undefined;

  /** One answered HTTP API call; `path` is the route template ('' for no route). */
  httpRequest(method: string, path: string, status: number, requestBytes: number, responseBytes: number, ms: number): void {
    const v = this.#httpValues;
    v[1] = method;
    v[2] = path;
    v[3] = statusText(status);
    this.#record('http', ms, v);
    const f = this.#families;
    if (f === undefined) {
      this.#later(() => this.#httpBodies(requestBytes, responseBytes));
      return;
    }
    this.#httpBodies(requestBytes, responseBytes);
  }

  /** The body sizes of one HTTP API call. */
  #httpBodies(requestBytes: number, responseBytes: number): void {
    const f = this.#families!;
    const bytes = (this.#bytes ??= { request: f.httpRequestBytes.child(this.appId), response: f.httpResponseBytes.child(this.appId) });
    f.httpRequestBytes.observeIn(bytes.request, requestBytes);
    f.httpResponseBytes.observeIn(bytes.response, responseBytes);
  }

  #component(values: string[], component: string, a: string, b: string): string[] {
    values[1] = component;
    values[2] = this.#namespace;
    values[3] = a;
    values[4] = b;
    return values;
  }

  stateCall(component: string, operation: string, success: boolean, ms: number): void {
    this.#record('state', ms, this.#component(this.#stateValues, component, operation, success ? 'true' : 'false'));
  }

  pubsubEgress(component: string, topic: string, success: boolean, ms: number): void {
    this.#record('egress', ms, this.#component(this.#pubsubValues, component, success ? 'true' : 'false', topic));
  }

  pubsubIngress(component: string, topic: string, status: ProcessStatus, ms: number): void {
    // daprd sets `status` to the process status when it has no other.
    const v = this.#component(this.#ingressValues, component, status, topic);
    v[5] = status;
    this.#record('ingress', ms, v);
  }

  pubsubBulkEgress(component: string, topic: string, success: boolean, published: number, ms: number): void {
    this.#record('bulkEgress', ms, this.#component(this.#pubsubValues, component, success ? 'true' : 'false', topic));
    // As daprd: the events the broker took, counted as successes even when the call as a whole failed.
    if (published > 0) this.#report((f) => f.bulkEgressEvents.inc(published, this.appId, component, this.#namespace, 'true', topic));
  }

  pubsubBulkIngress(component: string, topic: string, outcomes: Readonly<Record<ProcessStatus, number>>, ms: number): void {
    // daprd records the call with no process status, then the events by theirs.
    this.#record('bulkIngress', ms, this.#component(this.#pubsubValues, component, '', topic));
    this.#report((f) => {
      for (const status of PROCESS_STATUSES) {
        if (outcomes[status] > 0) f.bulkIngressEvents.inc(outcomes[status], this.appId, component, this.#namespace, status, topic);
      }
    });
  }

  /** The recorder of one gRPC API method, its label series found once (grpc-metrics.ts). */
  grpcServerMethod(fullMethod: string): GrpcMethodMetrics {
    return new GrpcMethodMetrics('server', fullMethod, this.appId, (report) => this.#report(report));
  }

  /** The recorder of one method the sidecar calls over gRPC (another sidecar's CallLocal, a gRPC app's callbacks). */
  grpcClientMethod(fullMethod: string): GrpcMethodMetrics {
    return new GrpcMethodMetrics('client', fullMethod, this.appId, (report) => this.#report(report));
  }

  outputBinding(component: string, operation: string, success: boolean, ms: number): void {
    this.#record('outputBinding', ms, this.#component(this.#bindingValues, component, operation, success ? 'true' : 'false'));
  }

  inputBinding(component: string, success: boolean, ms: number): void {
    const v = this.#inputValues;
    v[1] = component;
    v[2] = this.#namespace;
    v[3] = success ? 'true' : 'false';
    this.#record('inputBinding', ms, v);
  }

  componentCall(component: string, exportName: string, success: boolean, ms: number): void {
    const f = this.#families;
    if (f === undefined) {
      this.#later(() => this.componentCall(component, exportName, success, ms));
      return;
    }
    const calls = this.#callValues;
    calls[1] = component;
    calls[2] = exportName;
    calls[3] = success ? 'true' : 'false';
    f.calls.incAt(1, calls);
    const latency = this.#latencyValues;
    latency[1] = component;
    latency[2] = exportName;
    f.callLatency.observeAt(ms, latency);
  }

  trap(component: string): void {
    this.#report((f) => f.traps.inc({ app_id: this.appId, component }));
  }

  swap(component: string): void {
    this.#report((f) => f.swaps.inc({ app_id: this.appId, component }));
  }

  hibernation(component: string): void {
    this.#report((f) => f.hibernations.inc({ app_id: this.appId, component }));
  }

  compiled(component: string, seconds: number): void {
    this.#report((f) => f.compileSeconds.observe({ app_id: this.appId, component }, seconds));
  }

  initialized(type: string): void {
    this.#report((f) => {
      f.componentLoaded.inc({ app_id: this.appId });
      f.componentInit.inc({ app_id: this.appId, component: type });
    });
  }

  initFailed(type: string, name: string, reason: string): void {
    this.#report((f) => f.componentInitFail.inc({ app_id: this.appId, component: type, reason, componentName: name }));
  }
}
