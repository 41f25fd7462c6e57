import {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
  LabelValues,
} from 'prom-client';

/** Pending observations of one histogram child that make it hand them over before the next scrape. */
const FLUSH_AT = 512;
/** Past this many (the event loop never got to the scheduled flush) the request path flushes itself. */
const HARD_LIMIT = 4 * FLUSH_AT;

export interface CounterCell {
  readonly labels: LabelValues<string>;
  /** Added since the last scrape; the request path only ever does `pending += n`. */
  pending: number;
}

export interface HistogramCell {
  readonly labels: LabelValues<string>;
  readonly pending: number[];
  flushScheduled: boolean;
}

/**
 * A prom-client counter fed through cells: one per label combination, looked up once by the caller
 * (a Map from a label key), then a plain addition per report. prom-client's own children re-hash
 * and re-validate their labels on every `inc`; here that happens once per combination per scrape,
 * in `collect()`, when the totals are handed over.
 */
export class DeferredCounter {
  readonly metric: Counter;
  private readonly cells = new Map<string, CounterCell>();

  constructor(config: CounterConfiguration<string>) {
    const cells = this.cells;
    this.metric = new Counter({
      ...config,
      collect() {
        for (const cell of cells.values()) {
          if (cell.pending === 0) continue;
          this.inc(cell.labels, cell.pending);
          cell.pending = 0;
        }
      },
    });
  }

  /** The cell of `key`, created with `labels` (and exported as 0) the first time. */
  cell(key: string, labels: LabelValues<string>): CounterCell {
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { labels, pending: 0 };
      this.cells.set(key, cell);
      this.metric.inc(labels, 0);
    }
    return cell;
  }

  get(key: string): CounterCell | undefined {
    return this.cells.get(key);
  }
}

/**
 * A prom-client histogram fed through cells: the request path appends the value to the cell's
 * pending list; `collect()` (every scrape) observes them. A list that fills up between scrapes is
 * handed over on the next turn of the event loop (`setImmediate`), outside any request's
 * synchronous path, so memory stays bounded when nobody scrapes.
 */
export class DeferredHistogram {
  readonly metric: Histogram;
  private readonly cells = new Map<string, HistogramCell>();

  constructor(config: HistogramConfiguration<string>) {
    const cells = this.cells;
    this.metric = new Histogram({
      ...config,
      collect() {
        for (const cell of cells.values()) if (cell.pending.length > 0) flush(this, cell);
      },
    });
  }

  cell(key: string, labels: LabelValues<string>): HistogramCell {
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { labels, pending: [], flushScheduled: false };
      this.cells.set(key, cell);
    }
    return cell;
  }

  get(key: string): HistogramCell | undefined {
    return this.cells.get(key);
  }

  observe(cell: HistogramCell, value: number): void {
    const length = cell.pending.push(value);
    if (length < FLUSH_AT) return;
    if (length >= HARD_LIMIT) flush(this.metric, cell);
    else if (!cell.flushScheduled) {
      cell.flushScheduled = true;
      setImmediate(() => flush(this.metric, cell));
    }
  }
}

function flush(histogram: Histogram, cell: HistogramCell): void {
  cell.flushScheduled = false;
  if (cell.pending.length === 0) return;
  const child = histogram.labels(cell.labels);
  for (let i = 0; i < cell.pending.length; i++) child.observe(cell.pending[i]);
  cell.pending.length = 0;
}

/** A label-less gauge kept as a plain number and published at scrape time. */
export class DeferredGauge {
  private current = 0;

  constructor(config: GaugeConfiguration<string>) {
    const read = () => this.current;
    new Gauge({
      ...config,
      collect() {
        this.set(read());
      },
    });
  }

  inc(): void {
    this.current++;
  }

  dec(): void {
    this.current--;
  }
}
