import { Registry } from 'prom-client';
import { resolveMetricsOptions, resolveRequestLog } from './metrics.options';

describe('resolveMetricsOptions', () => {
  it('should turn metrics on with default process metrics when nothing is given', () => {
    const problems: string[] = [];
    expect(resolveMetricsOptions(undefined, problems)).toEqual({ enabled: true, defaultMetrics: true });
    expect(resolveMetricsOptions(true, problems)).toEqual({ enabled: true, defaultMetrics: true });
    expect(problems).toEqual([]);
  });

  it('should turn metrics off when false is given', () => {
    expect(resolveMetricsOptions(false, [])).toEqual({ enabled: false, defaultMetrics: false });
  });

  it('should leave process metrics to the owner of a registry when one is passed in', () => {
    const registry = new Registry();
    expect(resolveMetricsOptions({ registry }, [])).toEqual({
      enabled: true,
      registry,
      defaultMetrics: false,
    });
    expect(resolveMetricsOptions({ registry, defaultMetrics: true }, [])).toMatchObject({
      defaultMetrics: true,
    });
  });

  it('should report one line per bad setting when the options are wrong', () => {
    const problems: string[] = [];
    resolveMetricsOptions({ registry: {} as Registry }, problems);
    resolveMetricsOptions({ defaultMetrics: 'yes' as unknown as boolean }, problems);
    resolveRequestLog('no' as unknown as boolean, problems);
    expect(problems).toEqual([
      'metrics.registry must be a prom-client Registry',
      'metrics.defaultMetrics must be a boolean',
      'requestLog must be a boolean',
    ]);
  });
});
