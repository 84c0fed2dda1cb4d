/**
 * The one metrics registry. Counters and gauges live in scopes named like MOSN's metrics:
 * a `type` (downstream, upstream, …) plus labels (listener, cluster, host, …). The admin JSON
 * view, the Prometheus view and (later) OTLP export all read from here.
 */

export class Counter {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export class Gauge {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
  set(v: number): void {
    this.value = v;
  }
}

/** Bucketed histogram (milliseconds by default) with count and sum, Prometheus-shaped. */
export class Histogram {
  static readonly DEFAULT_BUCKETS: readonly number[] = [
    0.5,
    1,
    2.5,
    5,
    10,
    25,
    50,
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10000,
    30000,
    60000,
  ];
  readonly buckets: readonly number[];
  readonly counts: number[];
  count = 0;
  sum = 0;
  constructor(buckets: readonly number[] = Histogram.DEFAULT_BUCKETS) {
    this.buckets = buckets;
    this.counts = new Array(buckets.length).fill(0);
  }
  record(v: number): void {
    this.count++;
    this.sum += v;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

export type Metric = Counter | Gauge | Histogram;

/** A group of metrics sharing a type and a label set. */
export class Scope {
  readonly type: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly metrics = new Map<string, Metric>();

  constructor(type: string, labels: Record<string, string>) {
    this.type = type;
    this.labels = labels;
  }

  counter(name: string): Counter {
    let m = this.metrics.get(name);
    if (!m) this.metrics.set(name, m = new Counter());
    if (!(m instanceof Counter)) throw new TypeError(`metric ${name} is not a counter`);
    return m;
  }

  gauge(name: string): Gauge {
    let m = this.metrics.get(name);
    if (!m) this.metrics.set(name, m = new Gauge());
    if (!(m instanceof Gauge)) throw new TypeError(`metric ${name} is not a gauge`);
    return m;
  }

  histogram(name: string): Histogram {
    let m = this.metrics.get(name);
    if (!m) this.metrics.set(name, m = new Histogram());
    if (!(m instanceof Histogram)) throw new TypeError(`metric ${name} is not a histogram`);
    return m;
  }
}

export class StatsRegistry {
  readonly #scopes = new Map<string, Scope>();

  /** The scope for `type` + `labels`, created on first use; same arguments → same scope. */
  scope(type: string, labels: Record<string, string>): Scope {
    const key = type + "\u0000" + Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(
      "\u0000",
    );
    let s = this.#scopes.get(key);
    if (!s) this.#scopes.set(key, s = new Scope(type, { ...labels }));
    return s;
  }

  scopes(): IterableIterator<Scope> {
    return this.#scopes.values();
  }

  /** Drops scopes, e.g. for a removed cluster's hosts. */
  remove(pred: (s: Scope) => boolean): void {
    for (const [k, s] of this.#scopes) if (pred(s)) this.#scopes.delete(k);
  }
}

/** Downstream metrics of one listener (MOSN type `downstream`, labels listener + proxy=global). */
export interface DownstreamStats {
  connectionTotal: Counter;
  connectionActive: Gauge;
  connectionDestroy: Counter;
  bytesReadTotal: Counter;
  bytesWriteTotal: Counter;
  idleTimeout: Counter;
}

export function downstreamStats(reg: StatsRegistry, listener: string): DownstreamStats {
  const s = reg.scope("downstream", { listener, proxy: "global" });
  return {
    connectionTotal: s.counter("connection_total"),
    connectionActive: s.gauge("connection_active"),
    connectionDestroy: s.counter("connection_destroy"),
    bytesReadTotal: s.counter("bytes_read_total"),
    bytesWriteTotal: s.counter("bytes_write_total"),
    idleTimeout: s.counter("connection_idle_timeout"),
  };
}

/** Upstream metrics of one cluster or one host (MOSN type `upstream`). */
export interface UpstreamStats {
  connectionTotal: Counter;
  connectionActive: Gauge;
  connectionConFail: Counter;
  connectionConTimeout: Counter;
  connectionDestroy: Counter;
  bytesReadTotal: Counter;
  bytesWriteTotal: Counter;
}

export function upstreamStats(reg: StatsRegistry, labels: Record<string, string>): UpstreamStats {
  const s = reg.scope("upstream", labels);
  return {
    connectionTotal: s.counter("connection_total"),
    connectionActive: s.gauge("connection_active"),
    connectionConFail: s.counter("connection_con_fail"),
    connectionConTimeout: s.counter("connection_con_timeout"),
    connectionDestroy: s.counter("connection_destroy"),
    bytesReadTotal: s.counter("bytes_read_total"),
    bytesWriteTotal: s.counter("bytes_write_total"),
  };
}
