// The sidecar's metrics as the rest of the host reports to them: the transports, the
// building blocks (BlockObserver) and the component layer (ComponentObserver) call plain
// methods here. prom-client itself is loaded once the sidecar is ready (`load`), off the
// start's critical path; what is reported before that waits in a bounded buffer.
import type { Families, ComponentSample } from './metric-families.ts';
import type { BlockObserver, ComponentObserver, ProcessStatus } from './component-observer.ts';

/** Most reports kept while prom-client loads; later ones are dropped (a start serves little traffic). */
const MAX_EARLY_REPORTS = 10_000;

export interface MetricsOptions {
  appId: string;
  /** Dapr's `namespace` label (daprd reads NAMESPACE); empty outside Kubernetes. */
  namespace?: string | undefined;
}

type Report = (f: Families) => void;

export class SidecarMetrics implements BlockObserver, ComponentObserver {
  readonly appId: string;
  readonly #namespace: string;
  #families: Families | undefined;
  #early: Report[] | undefined = [];
  #loading: Promise<Families> | undefined;
  /** What the registry shows at a scrape, for the per-component gauges. */
  #sample: () => ComponentSample[] = () => [];

  constructor(options: MetricsOptions) {
    this.appId = options.appId;
    this.#namespace = options.namespace ?? '';
  }

  /** Where the per-component gauges are read from at each scrape. */
  sampleComponents(sample: () => ComponentSample[]): void {
    this.#sample = sample;
  }

  /** Loads prom-client and builds the families, replaying what was reported meanwhile. */
  load(): Promise<Families> {
    this.#loading ??= import('./metric-families.ts').then(({ createFamilies }) => {
      const families = createFamilies(() => this.#sample());
      for (const report of this.#early ?? []) report(families);
      this.#early = undefined;
      this.#families = families;
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

  #report(report: Report): void {
    if (this.#families !== undefined) report(this.#families);
    else if (this.#early !== undefined && this.#early.length < MAX_EARLY_REPORTS) this.#early.push(report);
  }

  #component(component: string): { app_id: string; component: string; namespace: string } {
    return { app_id: this.appId, component, namespace: this.#namespace };
  }

  /** One answered HTTP API call; `path` is the route template ('' for no route). */
  httpRequest(method: string, path: string, status: number, requestBytes: number, responseBytes: number, ms: number): void {
    this.#report((f) => {
      const labels = { app_id: this.appId, method, path, status: String(status) };
      f.httpRequestCount.inc(labels);
      f.httpLatency.observe(labels, ms);
      f.httpRequestBytes.observe({ app_id: this.appId }, requestBytes);
      f.httpResponseBytes.observe({ app_id: this.appId }, responseBytes);
    });
  }

  stateCall(component: string, operation: string, success: boolean, ms: number): void {
    this.#report((f) => {
      const labels = { ...this.#component(component), operation, success: String(success) };
      f.stateCount.inc(labels);
      f.stateLatencies.observe(labels, ms);
    });
  }

  pubsubEgress(component: string, topic: string, success: boolean, ms: number): void {
    this.#report((f) => {
      const labels = { ...this.#component(component), success: String(success), topic };
      f.egressCount.inc(labels);
      f.egressLatencies.observe(labels, ms);
    });
  }

  pubsubIngress(component: string, topic: string, status: ProcessStatus, ms: number): void {
    this.#report((f) => {
      // daprd sets `status` to the process status when it has no other.
      const labels = { ...this.#component(component), process_status: status, topic, status };
      f.ingressCount.inc(labels);
      f.ingressLatencies.observe(labels, ms);
    });
  }

  outputBinding(component: string, operation: string, success: boolean, ms: number): void {
    this.#report((f) => {
      const labels = { ...this.#component(component), operation, success: String(success) };
      f.outputBindingCount.inc(labels);
      f.outputBindingLatencies.observe(labels, ms);
    });
  }

  inputBinding(component: string, success: boolean, ms: number): void {
    this.#report((f) => {
      const labels = { ...this.#component(component), success: String(success) };
      f.inputBindingCount.inc(labels);
      f.inputBindingLatencies.observe(labels, ms);
    });
  }

  componentCall(component: string, exportName: string, success: boolean, ms: number): void {
    this.#report((f) => {
      f.calls.inc({ app_id: this.appId, component, export: exportName, success: String(success) });
      f.callLatency.observe({ app_id: this.appId, component, export: exportName }, ms);
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
