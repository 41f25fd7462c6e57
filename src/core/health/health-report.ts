import { Inject, Injectable, Optional } from '@nestjs/common';
import { CACHE_HEALTH, CacheHealth } from '../cache/cache-health';
import { ProviderHealthCache, ProviderHealthSnapshot } from './provider-health.cache';

export type OverallStatus = 'healthy' | 'degraded' | 'unhealthy';

/** `GET /health`: the legacy terse shape. */
export interface LegacyHealth {
  status: OverallStatus;
  providers: Record<string, 'healthy' | 'unhealthy'>;
}

/** `GET /v1/health`: every configured provider's breaker state plus the cache store's. */
export interface DetailedHealth {
  status: OverallStatus;
  providers: Record<string, ProviderHealthSnapshot>;
  cache: { store: 'redis' | 'memory' | 'none'; healthy: boolean };
}

/** Without a response cache bound, `/v1/health` says there is none. */
const NO_CACHE: CacheHealth = { state: () => ({ store: 'none', healthy: true }) };

/**
 * The health documents, read from the breaker state only: building one never calls an upstream.
 * `status` is `healthy` when every configured provider is routable, `unhealthy` when none is,
 * `degraded` in between.
 */
@Injectable()
export class HealthReport {
  private readonly cache: CacheHealth;

  constructor(
    private readonly health: ProviderHealthCache,
    @Optional() @Inject(CACHE_HEALTH) cache?: CacheHealth,
  ) {
    this.cache = cache ?? NO_CACHE;
  }

  legacy(): LegacyHealth {
    const snapshot = this.health.snapshot();
    const providers: LegacyHealth['providers'] = {};
    for (const [name, state] of Object.entries(snapshot))
      providers[name] = state.healthy ? 'healthy' : 'unhealthy';
    return { status: overallStatus(snapshot), providers };
  }

  detailed(): DetailedHealth {
    const providers = this.health.snapshot();
    const { store, healthy } = this.cache.state();
    return { status: overallStatus(providers), providers, cache: { store, healthy } };
  }
}

export function overallStatus(providers: Record<string, { healthy: boolean }>): OverallStatus {
  let healthy = 0;
  let total = 0;
  for (const name in providers) {
    total++;
    if (providers[name].healthy) healthy++;
  }
  if (healthy === total) return 'healthy';
  return healthy === 0 ? 'unhealthy' : 'degraded';
}
