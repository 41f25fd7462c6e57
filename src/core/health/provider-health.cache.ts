import { Inject, Injectable, Logger } from '@nestjs/common';
import { LlmError } from '../errors/llm-error';
import { ResolvedManaLlmOptions } from '../mana-llm.options';
import { LlmMetrics } from '../metrics/llm-metrics';
import { PROVIDER_NAMES, ProviderName } from '../providers/provider-adapter';
import { ProviderRegistry } from '../providers/provider-registry';
import { CLOCK, Clock, LLM_METRICS, RESOLVED_OPTIONS } from '../tokens';

export interface ProviderHealthSnapshot {
  configured: boolean;
  healthy: boolean;
  consecutive_failures: number;
  unhealthy_until: string | null;
  last_checked: string | null;
  last_error: string | null;
  latency_ms: number | null;
}

interface State {
  failures: number;
  unhealthyUntil: number;
  lastChecked: number | null;
  lastError: string | null;
  latencyMs: number | null;
  reportedHealthy: boolean;
}

/**
 * Per-provider circuit breaker fed by traffic and the probe alike. `failureThreshold` consecutive
 * failures open it for `cooldownMs` (or the upstream's Retry-After, if longer); when the cooldown ends
 * it is half-open (routable) and the next call decides; any success closes it. Logs and the gauge
 * change only on transitions.
 */
@Injectable()
export class ProviderHealthCache {
  private readonly logger = new Logger('ProviderHealth');
  private readonly states = new Map<ProviderName, State>();
  private readonly threshold: number;
  private readonly cooldownMs: number;

  constructor(
    @Inject(RESOLVED_OPTIONS) options: ResolvedManaLlmOptions,
    private readonly registry: ProviderRegistry,
    @Inject(LLM_METRICS) private readonly metrics: LlmMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.threshold = options.breaker.failureThreshold;
    this.cooldownMs = options.breaker.cooldownMs;
    for (const adapter of registry.configured()) {
      this.states.set(adapter.name, {
        failures: 0,
        unhealthyUntil: 0,
        lastChecked: null,
        lastError: null,
        latencyMs: null,
        reportedHealthy: true,
      });
      metrics.providerHealth(adapter.name, true);
    }
  }

  /** Routable now: closed, or half-open after the cooldown. Unconfigured providers are not. */
  isAvailable(provider: ProviderName): boolean {
    const state = this.states.get(provider);
    return state !== undefined && this.clock.now() >= state.unhealthyUntil;
  }

  recordSuccess(provider: ProviderName, latencyMs?: number): void {
    const state = this.states.get(provider);
    if (!state) return;
    state.failures = 0;
    state.unhealthyUntil = 0;
    state.lastChecked = this.clock.now();
    state.lastError = null;
    if (latencyMs !== undefined) state.latencyMs = Math.round(latencyMs);
    this.report(provider, state, true);
  }

  recordFailure(provider: ProviderName, error: LlmError): void {
    const state = this.states.get(provider);
    if (!state) return;
    const now = this.clock.now();
    state.failures++;
    state.lastChecked = now;
    state.lastError = `${error.reason}: ${error.message}`.slice(0, 500);
    if (state.failures >= this.threshold) {
      const retryAfterMs = (error.retryAfterSeconds ?? 0) * 1000;
      state.unhealthyUntil = now + Math.max(this.cooldownMs, retryAfterMs);
      this.report(provider, state, false);
    }
  }

  /** Probe result: the same breaker as traffic. */
  recordProbe(provider: ProviderName, error: LlmError | undefined, latencyMs: number): void {
    if (error) this.recordFailure(provider, error);
    else this.recordSuccess(provider, latencyMs);
  }

  snapshot(): Record<string, ProviderHealthSnapshot> {
    const out: Record<string, ProviderHealthSnapshot> = {};
    const now = this.clock.now();
    for (const name of PROVIDER_NAMES) {
      const state = this.states.get(name);
      if (!state) continue;
      const healthy = now >= state.unhealthyUntil;
      out[name] = {
        configured: this.registry.isConfigured(name),
        healthy,
        consecutive_failures: state.failures,
        unhealthy_until: healthy ? null : new Date(state.unhealthyUntil).toISOString(),
        last_checked: state.lastChecked === null ? null : new Date(state.lastChecked).toISOString(),
        last_error: state.lastError,
        latency_ms: state.latencyMs,
      };
    }
    return out;
  }

  private report(provider: ProviderName, state: State, healthy: boolean): void {
    if (state.reportedHealthy === healthy) return;
    state.reportedHealthy = healthy;
    this.metrics.providerHealth(provider, healthy);
    if (healthy) this.logger.log(`provider ${provider} is healthy again`);
    else {
      this.logger.warn(
        `provider ${provider} marked unhealthy until ${new Date(state.unhealthyUntil).toISOString()} after ${state.failures} failures: ${state.lastError}`,
      );
    }
  }
}
