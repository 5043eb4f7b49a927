/**
 * Counters, gauges and histograms for the request path. prom-client's own classes re-validate
 * and re-hash labels on every observation (about a microsecond each, several per request); these
 * keep one plain record per label set, created once, so recording is a few arithmetic
 * operations. They satisfy what a prom-client Registry reads (`name`, `help`, `type`,
 * `get()`), so exposition and JSON stay prom-client's.
 */

type LabelObject = Record<string, string | number>;
type LabelArgs = [LabelObject] | Array<string | number>;

interface Sample {
  value: number;
  labels: LabelObject;
  sharedLabels?: LabelObject;
  metricName?: string;
}

abstract class FastMetric<Child> {
  abstract readonly aggregator: string;
  protected readonly children = new Map<string, { labels: LabelObject; child: Child }>();
  /** The one child of a metric without labels, kept at hand for `inc(n)`, `set(n)`, `observe(n)`. */
  protected unlabelled: Child | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected abstract create(): Child;

  /** The child for these label values (positional, as declared, or an object). */
  labels(...args: LabelArgs): Child {
    return this.child(this.values(args));
  }

  remove(...args: LabelArgs): void {
    const key = this.values(args).join('\u0001');
    if (key === '') this.unlabelled = undefined;
    this.children.delete(key);
  }

  /** The child an unlabelled `inc`, `set` or `observe` goes to (the metric must have no labels). */
  protected solo(): Child {
    return (this.unlabelled ??= this.child(this.values([])));
  }

  /** Forgets every label set; a metric without labels starts again at zero (as prom-client's do). */
  reset(): void {
    this.children.clear();
    this.unlabelled = this.labelNames.length === 0 ? this.child([]) : undefined;
  }

  protected child(values: string[]): Child {
    const key = values.join('\u0001');
    let entry = this.children.get(key);
    if (!entry) {
      const labels: LabelObject = {};
      for (const [i, n] of this.labelNames.entries()) labels[n] = values[i]!;
      entry = { labels, child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected values(args: LabelArgs): string[] {
    if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null) {
      const obj = args[0] as LabelObject;
      for (const k in obj) if (!this.labelNames.includes(k)) throw new Error(`label "${k}" is not declared for ${this.name}`);
      return this.labelNames.map((n) => (obj[n] === undefined ? '' : String(obj[n])));
    }
    if (args.length !== this.labelNames.length) throw new Error(`${this.name} takes ${this.labelNames.length} label values`);
    return (args as Array<string | number>).map(String);
  }
}

/** A metric whose series each hold one number (counters, gauges): exported as prom-client does. */
abstract class FastValueMetric<Child extends { value: number }> extends FastMetric<Child> {
  abstract readonly type: string;
  /** Called before the series are read (a scrape), for a value cheaper to read then than to keep up to date. */
  beforeRead: (() => void) | undefined;

  async get() {
    this.beforeRead?.();
    const values: Sample[] = [];
    for (const { labels, child } of this.children.values()) values.push({ value: child.value, labels });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export interface CounterChild {
  inc(value?: number): void;
}

export class FastCounter extends FastValueMetric<CounterChild & { value: number }> {
  readonly type = 'counter';
  readonly aggregator = 'sum';

  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames);
    this.reset();
  }

  protected create() {
    const child = {
      value: 0,
      inc(value = 1) {
        if (!(value >= 0) || value === Infinity) throw new Error(`counter increment must be a finite non-negative number, got ${value}`);
        child.value += value;
      },
    };
    return child;
  }

  /** `inc()`, `inc(n)`, `inc(labels)` or `inc(labels, n)`, as prom-client takes them. */
  inc(labelsOrValue?: LabelObject | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.child(this.values([labelsOrValue])).inc(value);
    else this.solo().inc(labelsOrValue);
  }
}

export interface GaugeChild {
  set(value: number): void;
}

/**
 * A gauge; `aggregator` says how workers' values of it combine (catalogue.ts). A gauge that
 * would change on every request (the limiter's load) is worked out when read (`beforeRead`).
 */
export class FastGauge extends FastValueMetric<GaugeChild & { value: number }> {
  readonly type = 'gauge';

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly aggregator: string,
  ) {
    super(name, help, labelNames);
    this.reset();
  }

  protected create() {
    const child = {
      value: 0,
      set(value: number) {
        if (typeof value !== 'number') throw new TypeError(`gauge value must be a number, got ${typeof value}`);
        child.value = value;
      },
    };
    return child;
  }

  /** `set(n)` or `set(labels, n)`, as prom-client takes them. */
  set(labelsOrValue: LabelObject | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.child(this.values([labelsOrValue])).set(value!);
    else this.solo().set(labelsOrValue);
  }
}

export interface HistogramChild {
  observe(value: number): void;
}

export class FastHistogram extends FastMetric<HistogramChild & { counts: Float64Array; sum: number; count: number }> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    this.bounds = [...buckets].sort((a, b) => a - b);
    this.reset();
  }

  protected create() {
    const bounds = this.bounds;
    const child = {
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
      observe(value: number) {
        if (!Number.isFinite(value)) throw new Error(`histogram observation must be finite, got ${value}`);
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        child.counts[i]!++;
        child.sum += value;
        child.count++;
      },
    };
    return child;
  }

  observe(labelsOrValue: LabelObject | number, value?: number): void {
    if (typeof labelsOrValue === 'object') this.child(this.values([labelsOrValue])).observe(value!);
    else this.solo().observe(labelsOrValue);
  }

  async get() {
    return this.samples(false);
  }

  /** What the registry formats: the same samples with the label set shared, as prom-client orders it. */
  async getForPromString() {
    return this.samples(true);
  }

  private samples(shared: boolean) {
    const values: Sample[] = [];
    const sample = (value: number, labels: LabelObject, extra: LabelObject, metricName: string): Sample =>
      shared ? { value, labels: extra, sharedLabels: labels, metricName } : { value, labels: { ...extra, ...labels }, metricName };
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += child.counts[i]!;
        values.push(sample(cumulative, labels, { le: i < this.bounds.length ? this.bounds[i]! : '+Inf' }, `${this.name}_bucket`));
      }
      values.push(sample(child.sum, labels, {}, `${this.name}_sum`));
      values.push(sample(child.count, labels, {}, `${this.name}_count`));
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
