// Counters and histograms for the per-request families, registered on a prom-client
// registry (which writes the exposition) but kept here: prom-client's own hash the label
// object on every `inc`/`observe` (measured 1-2 µs each, and a request makes eight), which
// would cost the API far more than the 5% metrics may. Here a series is found by its label
// values (a tree of maps, one level per label: no key string is built per call), its label
// object is built once, and an observation is a bucket search and two additions.
import type { Registry } from 'prom-client';

interface Series {
  labels: Record<string, string>;
  value: number;
}

/** A histogram series as `SeriesHistogram.child` hands it out (opaque to the caller). */
export type HistogramChild = HistogramSeries;

interface HistogramSeries {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative), the last one for +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** What prom-client's registry reads of a metric at a scrape (its `Metric.get()` shape). */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * Series by their label values, one map level per label; `all` lists them for a scrape. The
 * series found last is kept with its values: a request like the one before it (the same
 * route, status and component, the usual case under load) is found by comparing a few
 * strings, not by a map lookup per label (hashing each value: in all, a request's lookups
 * cost more than the rest of its metrics).
 */
class SeriesTree<S> {
  readonly #root = new Map<string, unknown>();
  readonly all: S[] = [];
  readonly #make: (values: readonly string[]) => S;
  /** The values of the series found last (this tree's own copy), and that series. */
  readonly #lastValues: string[] = [];
  #last: S | undefined;

  constructor(make: (values: readonly string[]) => S) {
    this.#make = make;
  }

  /** The series of these values, made on first sight. */
  find(values: readonly string[]): S {
    const last = this.#last;
    if (last !== undefined && this.#sameAsLast(values)) return last;
    const series = this.#walk(values);
    this.#last = series;
    const copy = this.#lastValues;
    copy.length = values.length;
    for (let i = 0; i < values.length; i++) copy[i] = values[i]!;
    return series;
  }

  #sameAsLast(values: readonly string[]): boolean {
    const seen = this.#lastValues;
    if (seen.length !== values.length) return false;
    for (let i = 0; i < values.length; i++) if (seen[i] !== values[i]) return false;
    return true;
  }

  #walk(values: readonly string[]): S {
    let node = this.#root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) node.set(values[i]!, (next = new Map()));
      node = next;
    }
    let series = node.get(values[last]!) as S | undefined;
    if (series === undefined) {
      series = this.#make(values);
      node.set(values[last]!, series);
      this.all.push(series);
    }
    return series;
  }
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  names.forEach((name, i) => (labels[name] = values[i] ?? ''));
  return labels;
}

/** prom-client takes any object with a name, help, type and `get()` (its Metric interface). */
function register(registry: Registry, metric: object): void {
  (registry.registerMetric as (m: object) => void)(metric);
}

export class SeriesCounter {
  readonly name: string;
  readonly help: string;
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #series: SeriesTree<Series>;

  /** Without a registry (prom-client not loaded yet), counts are kept until `registerOn`. */
  constructor(registry: Registry | undefined, name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.#series = new SeriesTree((values) => ({ labels: labelsOf(labelNames, values), value: 0 }));
    if (registry !== undefined) register(registry, this);
  }

  registerOn(registry: Registry): void {
    register(registry, this);
  }

  /** Adds `by` to the series of these label values (in `labelNames` order). */
  inc(by: number, ...values: string[]): void {
    this.#series.find(values).value += by;
  }

  /** `inc` with the label values as an array the caller keeps (no rest array built per call). */
  incAt(by: number, values: readonly string[]): void {
    this.#series.find(values).value += by;
  }

  /** The series of these label values, found once: a caller that knows its labels up front counts with no lookup. */
  child(...values: string[]): { value: number } {
    return this.#series.find(values);
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#series.all.map((s) => ({ labels: s.labels, value: s.value })) };
  }
}

export class SeriesHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #series: SeriesTree<HistogramSeries>;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
    this.#series = new SeriesTree((values) => ({ labels: labelsOf(labelNames, values), counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 }));
    register(registry, this);
  }

  observe(value: number, ...values: string[]): void {
    this.observeIn(this.#series.find(values), value);
  }

  /** `observe` with the label values as an array the caller keeps. */
  observeAt(value: number, values: readonly string[]): void {
    this.observeIn(this.#series.find(values), value);
  }

  /** The series of these label values, found once, for `observeIn`. */
  child(...values: string[]): HistogramChild {
    return this.#series.find(values);
  }

  /** Adds one observation to a series `child` found. */
  observeIn(series: HistogramChild, value: number): void {
    // Bounds are few (Dapr's latency buckets: 34) and most observations land in the first ones.
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const s of this.#series.all) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A count and a latency histogram over the same labels, as Dapr pairs `_count` with `_latencies`. */
export class CallSeries {
  readonly #count: SeriesCounter;
  readonly #latency: SeriesHistogram;
  /** Both series of a set of label values, found by one walk. */
  readonly #pairs: SeriesTree<{ count: { value: number }; latency: HistogramChild }>;

  constructor(registry: Registry, count: { name: string; help: string }, latency: { name: string; help: string }, labelNames: readonly string[], bounds: readonly number[]) {
    this.#count = new SeriesCounter(registry, count.name, count.help, labelNames);
    this.#latency = new SeriesHistogram(registry, latency.name, latency.help, labelNames, bounds);
    this.#pairs = new SeriesTree((values) => ({ count: this.#count.child(...values), latency: this.#latency.child(...values) }));
  }

  record(ms: number, values: readonly string[]): void {
    const pair = this.#pairs.find(values);
    pair.count.value++;
    this.#latency.observeIn(pair.latency, ms);
  }
}
