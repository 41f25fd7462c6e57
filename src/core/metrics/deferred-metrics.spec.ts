import { Registry } from 'prom-client';
import { DeferredCounter, DeferredGauge, DeferredHistogram } from './deferred-metrics';

describe(DeferredCounter.name, () => {
  it('should export a new cell as 0 and the pending sum at the next scrape', async () => {
    const registry = new Registry();
    const counter = new DeferredCounter({
      name: 'x_total',
      help: 'x',
      labelNames: ['a'],
      registers: [registry],
    });
    const cell = counter.cell('k', { a: 'one' });
    expect(await registry.metrics()).toContain('x_total{a="one"} 0');
    cell.pending += 3;
    cell.pending++;
    expect(counter.get('k')).toBe(cell);
    expect(await registry.metrics()).toContain('x_total{a="one"} 4');
    cell.pending += 2;
    expect(await registry.metrics()).toContain('x_total{a="one"} 6');
  });
});

describe(DeferredHistogram.name, () => {
  it('should observe pending values at the scrape when the request path only appended them', async () => {
    const registry = new Registry();
    const histogram = new DeferredHistogram({
      name: 'y_seconds',
      help: 'y',
      labelNames: ['a'],
      buckets: [1, 10],
      registers: [registry],
    });
    const cell = histogram.cell('k', { a: 'one' });
    histogram.observe(cell, 0.5);
    histogram.observe(cell, 5);
    expect(cell.pending).toEqual([0.5, 5]);
    const text = await registry.metrics();
    expect(text).toContain('y_seconds_bucket{le="1",a="one"} 1');
    expect(text).toContain('y_seconds_bucket{le="10",a="one"} 2');
    expect(text).toContain('y_seconds_sum{a="one"} 5.5');
    expect(cell.pending).toEqual([]);
  });

  it('should hand values over on its own, after the current request, when nobody scrapes', async () => {
    const histogram = new DeferredHistogram({
      name: 'z_seconds',
      help: 'z',
      labelNames: ['a'],
      buckets: [1],
      registers: [],
    });
    const cell = histogram.cell('k', { a: 'one' });
    for (let i = 0; i < 600; i++) histogram.observe(cell, 0.1);
    expect(cell.pending).toHaveLength(600);
    await new Promise((resolve) => setImmediate(resolve));
    expect(cell.pending).toHaveLength(0);
    expect((await histogram.metric.get()).values.find((v) => v.metricName === 'z_seconds_count')?.value).toBe(
      600,
    );
  });

  it('should flush on the request path only when the event loop never got to it', () => {
    const histogram = new DeferredHistogram({
      name: 'w_seconds',
      help: 'w',
      labelNames: ['a'],
      buckets: [1],
      registers: [],
    });
    const cell = histogram.cell('k', { a: 'one' });
    for (let i = 0; i < 10_000; i++) histogram.observe(cell, 0.1);
    expect(cell.pending.length).toBeLessThan(2048);
  });
});

describe(DeferredGauge.name, () => {
  it('should publish the current value when scraped', async () => {
    const registry = new Registry();
    const gauge = new DeferredGauge({ name: 'open_streams', help: 'o', registers: [registry] });
    gauge.inc();
    gauge.inc();
    gauge.dec();
    expect(await registry.metrics()).toContain('open_streams 1');
  });
});
