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

/** A report made before prom-client was loaded, made again once it is. */
type Report = (metrics: SidecarMetrics) => void;

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
      this.#families = families;
      for (const report of this.#early ?? []) report(this);
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

  /** A rare event (a load, a trap, a swap): through prom-client's own counters, buffered while it loads. */
  #report(report: (f: Families) => void): void {
    const f = this.#families;
    if (f !== undefined) report(f);
    else this.#later((later) => later.#report(report));
  }

  /** One answered HTTP API call; `path` is the route template ('' for no route). */
  httpRequest(method: string, path: string, status: number, requestBytes: number, responseBytes: number, ms: number): void {
    const f = this.#families;
    if (f === undefined) return this.#later((later) => later.httpRequest(method, path, status, requestBytes, responseBytes, ms));
    const code = String(status);
    f.httpRequestCount.inc(1, this.appId, method, path, code);
    f.httpLatency.observe(ms, this.appId, method, path, code);
    f.httpRequestBytes.observe(requestBytes, this.appId);
    f.httpResponseBytes.observe(responseBytes, this.appId);
  }

  stateCall(component: string, operation: string, success: boolean, ms: number): void {
    const f = this.#families;
    if (f === undefined) return this.#later((later) => later.stateCall(component, operation, success, ms));
    const ok = success ? 'true' : 'false';
    f.stateCount.inc(1, this.appId, component, this.#namespace, operation, ok);
    f.stateLatencies.observe(ms, this.appId, component, this.#namespace, operation, ok);
  }

  pubsubEgress(component: string, topic: string, success: boolean, ms: number): void {
    const f = this.#families;
    if (f === undefined) return this.#later((later) => later.pubsubEgress(component, topic, success, ms));
    const ok = success ? 'true' : 'false';
    f.egressCount.inc(1, this.appId, component, this.#namespace, ok, topic);
    f.egressLatencies.observe(ms, this.appId, component, this.#namespace, ok, topic);
  }

  pubsubIngress(component: string, topic: string, status: ProcessStatus, ms: number): void {
    const f = this.#families;
    if (f === undefined) return this.#later((later) => later.pubsubIngress(component, topic, status, ms));
    // daprd sets `status` to the process status when it has no other.
    f.ingressCount.inc(1, this.appId, component, this.#namespace, status, topic, status);
    f.ingressLatencies.observe(ms, this.appId, component, this.#namespace, status, topic, status);
  }

  outputBinding(component: string, operation: string, success: boolean, ms: number): void {
    const f = this.#families;
    if (f === undefined) return this.#later((later) => later.outputBinding(component, operation, success, ms));
    const ok = success ? 'true' : 'false';
    f.outputBindingCount.inc(1, this.appId, component, this.#namespace, operation, ok);
    f.outputBindingLatencies.observe(ms, this.appId, component, this.#namespace, operation, ok);
  }

  inputBinding(component: string, success: boolean, ms: number): void {
    const f = this.#families;
    if (f === undefined) return this.#later((later) => later.inputBinding(component, success, ms));
    const ok = success ? 'true' : 'false';
    f.inputBindingCount.inc(1, this.appId, component, this.#namespace, ok);
    f.inputBindingLatencies.observe(ms, this.appId, component, this.#namespace, ok);
  }

  componentCall(component: string, exportName: string, success: boolean, ms: number): void {
    const f = this.#families;
    if (f === undefined) return this.#later((later) => later.componentCall(component, exportName, success, ms));
    f.calls.inc(1, this.appId, component, exportName, success ? 'true' : 'false');
    f.callLatency.observe(ms, this.appId, component, exportName);
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
