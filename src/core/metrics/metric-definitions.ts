/**
 * The series of SPEC §8: names, types, labels and buckets in one place (the Prometheus metrics,
 * the docs and the tests read them from here).
 */
export const METRICS = {
  requests: {
    name: 'mana_llm_requests_total',
    help: 'Finished chat and embeddings requests by route, answering model, HTTP status and calling app.',
    labelNames: ['endpoint', 'model', 'provider', 'status', 'app'],
  },
  requestDuration: {
    name: 'mana_llm_request_duration_seconds',
    help: 'Time from routing to the last byte of a request (a stream: until it ends).',
    labelNames: ['endpoint', 'provider', 'stream'],
    // LLM answers take from tens of milliseconds (a cache hit, a tiny model) to minutes (long streams).
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
  },
  timeToFirstToken: {
    name: 'mana_llm_time_to_first_token_seconds',
    help: 'Time from routing to the first chunk of a stream.',
    labelNames: ['provider', 'model'],
    buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60],
  },
  tokens: {
    name: 'mana_llm_tokens_total',
    help: 'Tokens reported by the upstreams (streams included), by answering model and calling app.',
    labelNames: ['provider', 'model', 'type', 'app'],
  },
  cacheRequests: {
    name: 'mana_llm_cache_requests_total',
    help: 'Response cache lookups by route and result.',
    labelNames: ['endpoint', 'result'],
  },
  activeStreams: {
    name: 'mana_llm_active_streams',
    help: 'Streams open right now.',
  },
  aliasResolved: {
    name: 'mana_llm_alias_resolved_total',
    help: 'Requests to a mana/ alias, by the chain entry that answered.',
    labelNames: ['alias', 'target'],
  },
  fallback: {
    name: 'mana_llm_fallback_total',
    help: 'Chain entries skipped or failed, with the next entry tried (none at the end of the chain).',
    labelNames: ['from_model', 'to_model', 'reason'],
  },
  providerHealthy: {
    name: 'mana_llm_provider_healthy',
    help: 'Circuit breaker state per configured provider: 1 routable, 0 in backoff.',
    labelNames: ['provider'],
  },
} as const;

/**
 * prom-client's default metrics include three gauges named `*_total`
 * (`nodejs_active_handles_total`, ...) that `promtool check metrics` rejects (only counters may end in
 * `_total`). The same numbers are `sum(nodejs_active_handles)` etc., so they are not exported.
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/** The label value of everything that is not (or not yet) a known value: keeps cardinality bounded. */
export const OTHER_LABEL = 'other';
/** At most this many distinct `model` label values (models that answered or are alias entries). */
export const MAX_MODEL_LABELS = 500;
/** At most this many distinct `app` label values (`X-Mana-App` is the caller's choice). */
export const MAX_APP_LABELS = 100;
