import { Registry } from 'prom-client';
import { CHAT_ENDPOINT, EMBEDDINGS_ENDPOINT } from '../context/request-context';
import { BoundedLabelValues } from './bounded-label-values';
import { DeferredCounter, DeferredGauge, DeferredHistogram } from './deferred-metrics';
import { CacheResult, FinishedRequest, LlmMetrics } from './llm-metrics';
import { MAX_APP_LABELS, MAX_MODEL_LABELS, METRICS, OTHER_LABEL } from './metric-definitions';

/** Label values that were validated elsewhere (alias chain entries): safe as `model` labels. */
export type KnownModel = (label: string) => boolean;

const SEP = '\u0001';
const CACHE_RESULTS: CacheResult[] = ['hit', 'miss', 'bypass', 'error'];

/**
 * `LlmMetrics` on a prom-client `Registry` (one per module instance: two gateways in one process
 * never share series). A report costs a Map lookup by label key and an addition (or an append for
 * histograms); prom-client sees the totals at scrape time (see DeferredCounter), so nothing of
 * prom-client's label hashing runs on the request path. Nothing is reported per chunk.
 *
 * Bounded labels: `model` only takes values that answered a request (the upstream validated them) or
 * are alias chain entries, at most `MAX_MODEL_LABELS`; anything else — a caller's unknown direct
 * model that was skipped or failed — is `other`. `app` takes at most `MAX_APP_LABELS` values.
 * `mana_llm_provider_healthy` is computed at scrape time by `ProviderHealthGauge`, so
 * `providerHealth()` has nothing to do here.
 */
export class PrometheusLlmMetrics implements LlmMetrics {
  private readonly requests: DeferredCounter;
  private readonly duration: DeferredHistogram;
  private readonly ttft: DeferredHistogram;
  private readonly tokenCounter: DeferredCounter;
  private readonly cache: DeferredCounter;
  private readonly active: DeferredGauge;
  private readonly aliases: DeferredCounter;
  private readonly fallbacks: DeferredCounter;

  private readonly models = new BoundedLabelValues(MAX_MODEL_LABELS);
  private readonly apps = new BoundedLabelValues(MAX_APP_LABELS);

  constructor(
    registry: Registry,
    private readonly knownModel: KnownModel = () => false,
  ) {
    const registers = [registry];
    const labels = <T extends { labelNames: readonly string[] }>(d: T) => ({
      ...d,
      labelNames: [...d.labelNames],
    });
    this.requests = new DeferredCounter({ ...labels(METRICS.requests), registers });
    this.duration = new DeferredHistogram({
      ...labels(METRICS.requestDuration),
      buckets: [...METRICS.requestDuration.buckets],
      registers,
    });
    this.ttft = new DeferredHistogram({
      ...labels(METRICS.timeToFirstToken),
      buckets: [...METRICS.timeToFirstToken.buckets],
      registers,
    });
    this.tokenCounter = new DeferredCounter({ ...labels(METRICS.tokens), registers });
    this.cache = new DeferredCounter({ ...labels(METRICS.cacheRequests), registers });
    this.active = new DeferredGauge({ ...METRICS.activeStreams, registers });
    this.aliases = new DeferredCounter({ ...labels(METRICS.aliasResolved), registers });
    this.fallbacks = new DeferredCounter({ ...labels(METRICS.fallback), registers });
    // Known combinations start at 0, so rate() and ratios work from the first hit.
    for (const endpoint of [CHAT_ENDPOINT, EMBEDDINGS_ENDPOINT])
      for (const result of CACHE_RESULTS) this.cacheCell(endpoint, result);
  }

  requestFinished(e: FinishedRequest): void {
    const model = this.answered(e.model);
    const app = this.apps.admit(e.app);
    const status = String(e.status);
    const key = e.endpoint + SEP + model + SEP + e.provider + SEP + status + SEP + app;
    const counter =
      this.requests.get(key) ??
      this.requests.cell(key, { endpoint: e.endpoint, model, provider: e.provider, status, app });
    counter.pending++;

    const stream = e.stream ? 'true' : 'false';
    const durationKey = e.endpoint + SEP + e.provider + SEP + stream;
    const histogram =
      this.duration.get(durationKey) ??
      this.duration.cell(durationKey, { endpoint: e.endpoint, provider: e.provider, stream });
    this.duration.observe(histogram, e.durationSeconds);
  }

  tokens(provider: string, model: string, app: string, prompt: number, completion: number): void {
    const label = this.answered(model);
    const appLabel = this.apps.admit(app);
    const key = provider + SEP + label + SEP + appLabel;
    const promptKey = key + SEP + 'p';
    const completionKey = key + SEP + 'c';
    const promptCell =
      this.tokenCounter.get(promptKey) ??
      this.tokenCounter.cell(promptKey, { provider, model: label, type: 'prompt', app: appLabel });
    const completionCell =
      this.tokenCounter.get(completionKey) ??
      this.tokenCounter.cell(completionKey, { provider, model: label, type: 'completion', app: appLabel });
    // Upstreams report whole numbers; anything else (negative, NaN) is not counted.
    if (prompt > 0) promptCell.pending += prompt;
    if (completion > 0) completionCell.pending += completion;
  }

  timeToFirstToken(provider: string, model: string, seconds: number): void {
    const label = this.answered(model);
    const key = provider + SEP + label;
    const cell = this.ttft.get(key) ?? this.ttft.cell(key, { provider, model: label });
    this.ttft.observe(cell, seconds);
  }

  cacheResult(endpoint: string, result: CacheResult): void {
    this.cacheCell(endpoint, result).pending++;
  }

  streamOpened(): void {
    this.active.inc();
  }

  streamClosed(): void {
    this.active.dec();
  }

  aliasResolved(alias: string, target: string): void {
    const key = alias + SEP + target;
    (this.aliases.get(key) ?? this.aliases.cell(key, { alias, target })).pending++;
  }

  fallback(fromModel: string, toModel: string, reason: string): void {
    const from = this.chainEntry(fromModel);
    const to = this.chainEntry(toModel);
    const key = from + SEP + to + SEP + reason;
    (this.fallbacks.get(key) ?? this.fallbacks.cell(key, { from_model: from, to_model: to, reason }))
      .pending++;
  }

  providerHealth(): void {
    // Computed at scrape time from the breaker (ProviderHealthGauge): a cooldown that ended shows 1.
  }

  /** A model that answered: the upstream accepted it, so it is a real model id. */
  private answered(model: string): string {
    return model === 'none' ? model : this.models.admit(model);
  }

  /** A chain entry that was skipped or failed: kept when it is known, else `other`. */
  private chainEntry(model: string): string {
    if (model === 'none' || this.models.has(model)) return model;
    return this.knownModel(model) ? this.models.admit(model) : OTHER_LABEL;
  }

  private cacheCell(endpoint: string, result: CacheResult) {
    const key = endpoint + SEP + result;
    return this.cache.get(key) ?? this.cache.cell(key, { endpoint, result });
  }
}
