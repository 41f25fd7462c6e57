import { collectDefaultMetrics, Registry } from 'prom-client';
import { DROPPED_DEFAULT_METRICS } from './metric-definitions';

/** The module's prom-client registry (`null` when metrics are off); inject it to serve or merge it. */
export const METRICS_REGISTRY = Symbol('mana-llm:metrics-registry');

/**
 * A registry of its own per module instance (never prom-client's global one: two gateways in one
 * process, or a host app with its own metrics, must not collide), with the default Node.js process
 * metrics unless `defaultMetrics` is false. A host may pass its own registry instead (`existing`).
 */
export function createMetricsRegistry(defaultMetrics: boolean, existing?: Registry): Registry {
  const registry = existing ?? new Registry();
  if (defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  return registry;
}
