// The sidecar's metrics as the rest of the host reports to them: the transports, the
// building blocks (BlockObserver) and the component layer (ComponentObserver) call plain
// methods here. prom-client itself is loaded once the sidecar is ready (`load`), off the
// start's critical path; what is reported before that waits in a bounded buffer.
import type { CallSeries } from './label-series.ts';
import type { Families, ComponentSample } from './metric-families.ts';
import type { BlockObserver, ComponentObserver, ProcessStatus } from './component-observer.ts';
import { ResiliencyMetrics } from './resiliency-metrics.ts';

/** Most reports kept while prom-client loads; later ones are dropped (a start serves little traffic). */
const MAX_EARLY_REPORTS = 10_000;

export interface MetricsOptions {
  appId: string;
  /** Dapr's `namespace` label (daprd reads NAMESPACE); empty outside Kubernetes. */
  namespace?: string | undefined;
}

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

  /** Records one call in the pair `pick` gives, buffered while prom-client loads. */
  #record(pick: (f: Families) => CallSeries, ms: number, values: string[]): void {
    const f = this.#families;
    if (f === undefined) this.#later(() => this.#record(pick, ms, values));
    else pick(f).record(ms, values);
  }

  /** One answered HTTP API call; `path` is the route template ('' for no route). */
  httpRequest(method: string, path: string, status: number, requestBytes: number, responseBytes: number, ms: number): void {
    this.#record((f) => f.http, ms, [this.appId, method, path, String(status)]);
    this.#report((f) => {
      f.httpRequestBytes.observe(requestBytes, this.appId);
      f.httpResponseBytes.observe(responseBytes, this.appId);
    });
  }

  stateCall(component: string, operation: string, success: boolean, ms: number): void {
    this.#record((f) => f.state, ms, [this.appId, component, this.#namespace, operation, String(success)]);
  }

  pubsubEgress(component: string, topic: string, success: boolean, ms: number): void {
    this.#record((f) => f.egress, ms, [this.appId, component, this.#namespace, String(success), topic]);
  }

  pubsubIngress(component: string, topic: string, status: ProcessStatus, ms: number): void {
    // daprd sets `status` to the process status when it has no other.
    this.#record((f) => f.ingress, ms, [this.appId, component, this.#namespace, status, topic, status]);
  }

  outputBinding(component: string, operation: string, success: boolean, ms: number): void {
    this.#record((f) => f.outputBinding, ms, [this.appId, component, this.#namespace, operation, String(success)]);
  }

  inputBinding(component: string, success: boolean, ms: number): void {
    this.#record((f) => f.inputBinding, ms, [this.appId, component, this.#namespace, String(success)]);
  }

  componentCall(component: string, exportName: string, success: boolean, ms: number): void {
    this.#report((f) => {
      f.calls.inc(1, this.appId, component, exportName, String(success));
      f.callLatency.observe(ms, this.appId, component, exportName);
    });
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
