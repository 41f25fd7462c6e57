import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ProviderHealthCache } from './provider-health.cache';
import { ReadinessState } from './readiness-state';

/**
 * Terminus indicators for `GET /health/ready`, read from memory only (never an upstream call):
 * `gateway` is down while starting or shutting down; `providers` carries each configured provider's
 * breaker state and is always up — every replica shares the same providers, so an outage failing
 * readiness would pull every pod at once and callers would get no endpoint instead of a clean 503.
 */
@Injectable()
export class ProviderHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly health: ProviderHealthCache,
    private readonly readiness: ReadinessState,
  ) {}

  gateway(key = 'gateway'): HealthIndicatorResult {
    const session = this.indicators.check(key);
    const phase = this.readiness.phase;
    return this.readiness.ready ? session.up({ phase }) : session.down({ phase });
  }

  providers(key = 'providers'): HealthIndicatorResult {
    return this.indicators.check(key).up({ ...this.health.snapshot() });
  }
}
