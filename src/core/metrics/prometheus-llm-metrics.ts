import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CHAT_ENDPOINT, EMBEDDINGS_ENDPOINT } from '../context/request-context';
import { BoundedLabelValues } from './bounded-label-values';
import { CacheResult, FinishedRequest, LlmMetrics } from './llm-metrics';
import { MAX_APP_LABELS, MAX_MODEL_LABELS, METRICS, OTHER_LABEL } from './metric-definitions';

type CounterChild = Counter.Internal;
type HistogramChild = Histogram.Internal<string>;

/** Label values that were validated elsewhere (alias chain entries): safe as `model` labels. */
export type KnownModel = (label: string) => boolean;

const SEP = '\u0001';
const CACHE_RESULTS: CacheResult[] = ['hit', 'miss', 'bypass', 'error'];

/**
 * `LlmMetrics` on a prom-client `Registry` (one per module instance: two gateways in one process
 * never share series). Label children are cached per label combination, so a report is one Map
 * lookup and an `inc`/`observe`, never a label hash inside prom-client.
 *
 * Bounded labels: `model` only takes values that answered a request (the upstream validated them) or
 * are alias chain entries, at most `MAX_MODEL_LABELS`; anything else — a caller's unknown direct
 * model that was skipped or failed — is `other`. `app` takes at most `MAX_APP_LABELS` values.
 * `mana_llm_provider_healthy` is computed at scrape time by `ProviderHealthGauge`, so
 * `providerHealth()` has nothing to do here.
 */
export class PrometheusLlmMetrics implements LlmMetrics {
  private readonly requests: Counter;
  private readonly duration: Histogram;
  private readonly ttft: Histogram;
  private readonly tokenCounter: Counter;
  private readonly cache: Counter;
  private readonly active: Gauge;
  private readonly aliases: Counter;
  private readonly fallbacks: Counter;

  private readonly requestChildren = new Map<string, CounterChild>();
  private readonly durationChildren = new Map<string, HistogramChild>();
  private readonly ttftChildren = new Map<string, HistogramChild>();
  private readonly tokenChildren = new Map<string, [prompt: CounterChild, completion: CounterChild]>();
  private readonly cacheChildren = new Map<string, CounterChild>();
  private readonly aliasChildren = new Map<string, CounterChild>();
  private readonly fallbackChildren = new Map<string, CounterChild>();

  private readonly models = new BoundedLabelValues(MAX_MODEL_LABELS);
  private readonly apps = new BoundedLabelValues(MAX_APP_LABELS);

  constructor(
    registry: Registry,
    private readonly knownModel: KnownModel = () => false,
  ) {
    const registers = [registry];
    this.requests = new Counter({
      ...METRICS.requests,
      labelNames: [...METRICS.requests.labelNames],
      registers,
    });
    this.duration = new Histogram({
      ...METRICS.requestDuration,
      labelNames: [...METRICS.requestDuration.labelNames],
      buckets: [...METRICS.requestDuration.buckets],
      registers,
    });
    this.ttft = new Histogram({
      ...METRICS.timeToFirstToken,
      labelNames: [...METRICS.timeToFirstToken.labelNames],
      buckets: [...METRICS.timeToFirstToken.buckets],
      registers,
    });
    this.tokenCounter = new Counter({
      ...METRICS.tokens,
      labelNames: [...METRICS.tokens.labelNames],
      registers,
    });
    this.cache = new Counter({
      ...METRICS.cacheRequests,
      labelNames: [...METRICS.cacheRequests.labelNames],
      registers,
    });
    this.active = new Gauge({ ...METRICS.activeStreams, registers });
    this.aliases = new Counter({
      ...METRICS.aliasResolved,
      labelNames: [...METRICS.aliasResolved.labelNames],
      registers,
    });
    this.fallbacks = new Counter({
      ...METRICS.fallback,
      labelNames: [...METRICS.fallback.labelNames],
      registers,
    });
    // Known combinations start at 0, so rate() and ratios work from the first hit.
    for (const endpoint of [CHAT_ENDPOINT, EMBEDDINGS_ENDPOINT])
      for (const result of CACHE_RESULTS) this.cacheChild(endpoint, result).inc(0);
  }

  requestFinished(e: FinishedRequest): void {
    const model = this.answered(e.model);
    const app = this.apps.admit(e.app);
    const status = String(e.status);
    const key = e.endpoint + SEP + model + SEP + e.provider + SEP + status + SEP + app;
    let counter = this.requestChildren.get(key);
    if (!counter) {
      counter = this.requests.labels(e.endpoint, model, e.provider, status, app);
      this.requestChildren.set(key, counter);
    }
    counter.inc();

    const stream = e.stream ? 'true' : 'false';
    const durationKey = e.endpoint + SEP + e.provider + SEP + stream;
    let histogram = this.durationChildren.get(durationKey);
    if (!histogram) {
      histogram = this.duration.labels(e.endpoint, e.provider, stream);
      this.durationChildren.set(durationKey, histogram);
    }
    histogram.observe(e.durationSeconds);
  }

  tokens(provider: string, model: string, app: string, prompt: number, completion: number): void {
    const label = this.answered(model);
    const appLabel = this.apps.admit(app);
    const key = provider + SEP + label + SEP + appLabel;
    let pair = this.tokenChildren.get(key);
    if (!pair) {
      pair = [
        this.tokenCounter.labels(provider, label, 'prompt', appLabel),
        this.tokenCounter.labels(provider, label, 'completion', appLabel),
      ];
      this.tokenChildren.set(key, pair);
    }
    // Upstreams report whole numbers; anything else (negative, NaN) is not counted.
    if (prompt > 0) pair[0].inc(prompt);
    if (completion > 0) pair[1].inc(completion);
  }

  timeToFirstToken(provider: string, model: string, seconds: number): void {
    const label = this.answered(model);
    const key = provider + SEP + label;
    let histogram = this.ttftChildren.get(key);
    if (!histogram) {
      histogram = this.ttft.labels(provider, label);
      this.ttftChildren.set(key, histogram);
    }
    histogram.observe(seconds);
  }

  cacheResult(endpoint: string, result: CacheResult): void {
    this.cacheChild(endpoint, result).inc();
  }

  streamOpened(): void {
    this.active.inc();
  }

  streamClosed(): void {
    this.active.dec();
  }

  aliasResolved(alias: string, target: string): void {
    const key = alias + SEP + target;
    let counter = this.aliasChildren.get(key);
    if (!counter) {
      counter = this.aliases.labels(alias, target);
      this.aliasChildren.set(key, counter);
    }
    counter.inc();
  }

  fallback(fromModel: string, toModel: string, reason: string): void {
    const from = this.chainEntry(fromModel);
    const to = this.chainEntry(toModel);
    const key = from + SEP + to + SEP + reason;
    let counter = this.fallbackChildren.get(key);
    if (!counter) {
      counter = this.fallbacks.labels(from, to, reason);
      this.fallbackChildren.set(key, counter);
    }
    counter.inc();
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

  private cacheChild(endpoint: string, result: CacheResult): CounterChild {
    const key = endpoint + SEP + result;
    let counter = this.cacheChildren.get(key);
    if (!counter) {
      counter = this.cache.labels(endpoint, result);
      this.cacheChildren.set(key, counter);
    }
    return counter;
  }
}
