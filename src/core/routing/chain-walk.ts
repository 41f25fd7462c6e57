import { isLlmError, LlmError } from '../errors/llm-error';
import { AllProvidersFailedError, FallbackAttempt } from '../errors/routing-errors';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { LlmMetrics } from '../metrics/llm-metrics';
import { ProviderAdapter } from '../providers/provider-adapter';
import { ProviderRegistry } from '../providers/provider-registry';
import { fallbackReason, FallbackReason } from './fallback-reason';
import { ChainEntry } from './model-ref';
import { Route } from './route-resolver';

export interface WalkStep {
  adapter: ProviderAdapter;
  entry: ChainEntry;
}

/**
 * The state of one walk over a chain (one request): which entry is next, what was skipped or failed.
 * Every skipped or failed entry adds one attempt and one `fallback{from_model, to_model, reason}`
 * (to_model: the next entry of the chain, or `none`). Each entry is handed out at most once.
 */
export class ChainWalk {
  readonly attempts: FallbackAttempt[] = [];
  private index = -1;
  private lastError: LlmError | undefined;

  constructor(
    private readonly route: Route,
    private readonly registry: Pick<ProviderRegistry, 'get'>,
    private readonly health: ProviderHealthCache,
    private readonly metrics: LlmMetrics,
  ) {}

  /** The next routable entry; unconfigured and unhealthy providers are skipped (and recorded). */
  next(): WalkStep | undefined {
    const chain = this.route.chain;
    while (++this.index < chain.length) {
      const entry = chain[this.index];
      const adapter = this.registry.get(entry.provider);
      if (!adapter) this.skip(entry, 'unconfigured');
      else if (!this.health.isAvailable(entry.provider)) this.skip(entry, 'cache-unhealthy');
      else return { adapter, entry };
    }
    return undefined;
  }

  succeeded(entry: ChainEntry, latencyMs: number): void {
    this.health.recordSuccess(entry.provider, latencyMs);
    if (this.route.alias) this.metrics.aliasResolved(this.route.alias, entry.label);
  }

  /**
   * An entry failed before committing. Retryable errors (typed, `retryable`) are recorded — against
   * the breaker too unless the class says otherwise (Ollama busy) — and the walk goes on: returns
   * true. Anything else (non-retryable, unknown exceptions, the caller leaving) returns false: the
   * error goes back to the caller at once and nothing is recorded.
   */
  failed(entry: ChainEntry, error: unknown): boolean {
    if (!isLlmError(error) || !error.retryable) return false;
    if (error.countsAsProviderFailure) this.health.recordFailure(entry.provider, error);
    this.lastError = error;
    this.skip(entry, fallbackReason(error));
    return true;
  }

  /** A committed stream broke: no fallback any more, but the breaker still learns of it. */
  failedAfterCommit(entry: ChainEntry, error: unknown): void {
    if (isLlmError(error) && error.retryable && error.countsAsProviderFailure) {
      this.health.recordFailure(entry.provider, error);
    }
  }

  /**
   * Nothing answered. A direct model whose one upstream failed answers with that upstream's own
   * error (SPEC §3: 429, 502, 504); everything else (an alias, or a skipped direct model) is a 503
   * listing the attempts in order.
   */
  exhausted(): LlmError {
    if (!this.route.alias && this.lastError) return this.lastError;
    return new AllProvidersFailedError(this.route.requested, this.attempts, this.lastError);
  }

  private skip(entry: ChainEntry, reason: FallbackReason): void {
    this.attempts.push({ model: entry.label, reason });
    const next = this.route.chain[this.index + 1];
    this.metrics.fallback(entry.label, next ? next.label : 'none', reason);
  }
}
