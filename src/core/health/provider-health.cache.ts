import { Inject, Injectable, Logger } from '@nestjs/common';
import { LlmError } from '../errors/llm-error';
import { ResolvedManaLlmOptions } from '../mana-llm.options';
import { LlmMetrics } from '../metrics/llm-metrics';
import { PROVIDER_NAMES, ProviderName } from '../providers/provider-adapter';
import { ProviderRegistry } from '../providers/provider-registry';
import { CLOCK, Clock, LLM_METRICS, RESOLVED_OPTIONS } from '../tokens';

/** One provider's entry in `/v1/health` (SPEC §10 names). */
export interface ProviderHealthSnapshot {
  configured: boolean;
  healthy: boolean;
  consecutive_failures: number;
  unhealthy_until: string | null;
  last_checked: string | null;
  last_error: string | null;
  latency_ms: number | null;
}

interface BreakerState {
  failures: number;
  /** Epoch ms until which the provider is skipped; 0 when closed. */
  unhealthyUntil: number;
  lastChecked: number | null;
  lastError: string | null;
  latencyMs: number | null;
  /** What the gauge and the log last said, so both change only on transitions. */
  reportedHealthy: boolean;
}

const MAX_ERROR_CHARS = 500;

/**
 * Per-provider circuit breaker fed by traffic and the probe alike (SPEC §5). `failureThreshold`
 * consecutive failures open it for `cooldownMs` — or for the upstream's `Retry-After` of a 429/503,
 * when longer. Once the cooldown is over the provider is half-open: routable, and the next call
 * decides (a failure re-arms the cooldown at once, a success closes it). Any success resets it.
 * Only configured providers have a state; the clock is injected.
 */
@Injectable()
export class ProviderHealthCache {
  private readonly logger = new Logger('ProviderHealth');
  private readonly states = new Map<ProviderName, BreakerState>();
  private readonly threshold: number;
  private readonly cooldownMs: number;

  constructor(
    @Inject(RESOLVED_OPTIONS) options: ResolvedManaLlmOptions,
    @Inject(ProviderRegistry) registry: Pick<ProviderRegistry, 'configured'>,
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
    if (state === undefined) return false;
    if (state.unhealthyUntil === 0) return true;
    const open = this.clock.now() < state.unhealthyUntil;
    if (!open && !state.reportedHealthy) this.halfOpen(provider, state);
    return !open;
  }

  recordSuccess(provider: ProviderName, latencyMs?: number): void {
    const state = this.states.get(provider);
    if (!state) return;
    state.failures = 0;
    state.unhealthyUntil = 0;
    state.lastChecked = this.clock.now();
    state.lastError = null;
    if (latencyMs !== undefined) state.latencyMs = Math.round(latencyMs);
    if (!state.reportedHealthy) {
      state.reportedHealthy = true;
      this.metrics.providerHealth(provider, true);
      this.logger.log(`provider ${provider} is healthy again`);
    }
  }

  recordFailure(provider: ProviderName, error: LlmError): void {
    const state = this.states.get(provider);
    if (!state) return;
    const now = this.clock.now();
    state.failures++;
    state.lastChecked = now;
    state.lastError = `${error.name}: ${error.message}`.slice(0, MAX_ERROR_CHARS);
    if (state.failures < this.threshold) return;
    state.unhealthyUntil = now + Math.max(this.cooldownMs, retryAfterMs(error));
    if (state.reportedHealthy) {
      state.reportedHealthy = false;
      this.metrics.providerHealth(provider, false);
      this.logger.warn(
        `provider ${provider} marked unhealthy until ${new Date(state.unhealthyUntil).toISOString()} ` +
          `after ${state.failures} consecutive failures: ${state.lastError}`,
      );
    }
  }

  /** The state of every configured provider, in the canonical provider order. */
  snapshot(): Record<string, ProviderHealthSnapshot> {
    const out: Record<string, ProviderHealthSnapshot> = {};
    for (const name of PROVIDER_NAMES) {
      const state = this.states.get(name);
      if (!state) continue;
      const healthy = this.isAvailable(name);
      out[name] = {
        configured: true,
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

  /** The cooldown ran out without a success: routable again, the next call decides. */
  private halfOpen(provider: ProviderName, state: BreakerState): void {
    state.reportedHealthy = true;
    this.metrics.providerHealth(provider, true);
    this.logger.log(`provider ${provider}: cooldown over, half-open (the next call decides)`);
  }
}

/** SPEC §5: a longer `Retry-After` on a 429 or 503 extends the cooldown. */
function retryAfterMs(error: LlmError): number {
  if (error.retryAfterSeconds === undefined) return 0;
  const status = (error as { upstreamStatus?: unknown }).upstreamStatus;
  return status === 429 || status === 503 ? error.retryAfterSeconds * 1000 : 0;
}
