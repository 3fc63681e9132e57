// A small Prometheus text-format registry: counters, gauges and histograms with labels. Enough
// for our own metrics without a dependency.

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

interface Metric {
  render(): string;
}

/** A monotonically increasing count, per label set. */
export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  private readonly readers = new Map<string, () => number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  /** Replaces the values with totals counted elsewhere (the tracker's, sent over the channel). */
  setTotal(labels: Labels, value: number): void {
    this.values.set(labelText(labels), value);
  }
  /** Reports a total kept elsewhere in this process, read when scraped. */
  read(labels: Labels, total: () => number): void {
    this.readers.set(labelText(labels), total);
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [key, value] of this.values) out += `${this.name}${key} ${value}\n`;
    for (const [key, read] of this.readers) out += `${this.name}${key} ${read()}\n`;
    return out;
  }
}

/** A value read when scraped. */
export class Gauge implements Metric {
  private readonly values = new Map<string, () => number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(labels: Labels, read: () => number): void {
    this.values.set(labelText(labels), read);
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const [key, read] of this.values) out += `${this.name}${key} ${read()}\n`;
    return out;
  }
}

/** Observations counted into fixed buckets (seconds), per label set. */
export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}
  observe(labels: Labels, value: number): void {
    this.observeKey(labelText(labels), value);
  }
  /** An observer for one label set whose key is built once: for the announce path. */
  observer(labels: Labels): (value: number) => void {
    const key = labelText(labels);
    return (value) => this.observeKey(key, value);
  }
  private observeKey(key: string, value: number): void {
    let s = this.series.get(key);
    if (!s) {
      s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  /** The raw series, to send over the channel. */
  snapshot(): { key: string; counts: number[]; sum: number; count: number }[] {
    return [...this.series].map(([key, s]) => ({ key, counts: [...s.counts], sum: s.sum, count: s.count }));
  }
  /** Replaces the series with a snapshot taken elsewhere. */
  restore(snapshot: { key: string; counts: number[]; sum: number; count: number }[]): void {
    this.series.clear();
    for (const s of snapshot) this.series.set(s.key, { counts: [...s.counts], sum: s.sum, count: s.count });
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const [key, s] of this.series) {
      const inner = key ? key.slice(1, -1) : "";
      const sep = inner ? "," : "";
      this.buckets.forEach((b, i) => {
        out += `${this.name}_bucket{${inner}${sep}le="${b}"} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket{${inner}${sep}le="+Inf"} ${s.count}\n`;
      out += `${this.name}_sum${key} ${s.sum}\n${this.name}_count${key} ${s.count}\n`;
    }
    return out;
  }
}

/** Latency buckets in seconds, from 50 µs to 5 s. */
export const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** A set of metrics rendered together. */
export class Registry {
  private readonly metrics: Metric[] = [];
  add<T extends Metric>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }
  render(): string {
    return this.metrics.map((m) => m.render()).join("");
  }
}
