import { Gauge, Registry } from 'prom-client';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { METRICS } from './metric-definitions';

/**
 * `mana_llm_provider_healthy{provider}`, computed at scrape time from the breaker's snapshot: a
 * cooldown that ended without a call shows 1 again (half-open is routable), which a gauge set only
 * on transitions would miss.
 */
export class ProviderHealthGauge {
  readonly gauge: Gauge;

  constructor(registry: Registry, health: ProviderHealthCache) {
    this.gauge = new Gauge({
      ...METRICS.providerHealthy,
      labelNames: [...METRICS.providerHealthy.labelNames],
      registers: [registry],
      collect() {
        for (const [provider, state] of Object.entries(health.snapshot()))
          this.labels(provider).set(state.healthy ? 1 : 0);
      },
    });
  }
}
