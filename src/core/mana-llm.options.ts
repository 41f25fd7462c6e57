import { CacheOptions, ResolvedCacheOptions } from './cache/cache.options';
import { MetricsOptions, ResolvedMetricsOptions } from './metrics/metrics.options';
import { ProviderName } from './providers/provider-adapter';

/**
 * A provider's concurrency limit: at most `maxConcurrent` chat/embeddings calls in flight (unset or
 * 0: unlimited); more wait in a queue of `queueSize` (default 100) for at most `queueTimeoutMs`
 * (default 10 000). A full queue or a timed-out wait skips the entry (`ProviderSaturatedError`).
 */
export interface ConcurrencyOptions {
  maxConcurrent?: number;
  queueSize?: number;
  queueTimeoutMs?: number;
}

export interface CloudProviderOptions {
  apiKey: string;
  /** API root with `/v1` (or the vendor's equivalent); defaults to the public one. */
  baseUrl?: string;
  timeoutMs?: number;
  /** This provider's concurrency limit; each field unset falls back to `providerConcurrency`. */
  concurrency?: ConcurrencyOptions;
}

export interface AliasDefinition {
  description?: string;
  chain: string[];
}

/** Options of `ManaLlmModule.forRoot()`; the standalone service builds them from the environment. */
export interface ManaLlmOptions {
  ollama?: {
    baseUrl?: string;
    defaultModel?: string;
    timeoutMs?: number;
    /** Default `num_ctx` for every Ollama call. */
    numCtx?: number;
    /** Ollama's concurrency limit (a local GPU serves a few requests at a time). */
    concurrency?: ConcurrencyOptions;
  };
  openai?: CloudProviderOptions;
  openrouter?: CloudProviderOptions;
  groq?: CloudProviderOptions;
  together?: CloudProviderOptions;
  /** Default timeout of the cloud providers. */
  providerTimeoutMs?: number;
  /** Default concurrency limit of the cloud providers. */
  providerConcurrency?: ConcurrencyOptions;
  /**
   * Aliases: a YAML file (`path`; reloaded on SIGHUP and when it changes, polled every
   * `watchIntervalMs`, default 2000), or an inline map.
   */
  aliases?:
    | { path?: string; required?: boolean; watchIntervalMs?: number }
    | { inline: Record<string, AliasDefinition> };
  breaker?: { failureThreshold?: number; cooldownMs?: number };
  probe?: { enabled?: boolean; intervalMs?: number; timeoutMs?: number };
  images?: { allowPrivate?: boolean; maxBytes?: number; timeoutMs?: number };
  /** Silence before the SSE writer sends headers and `: keep-alive` comments. */
  streamKeepAliveMs?: number;
  /** Request body limit of the mounted controllers, in bytes (default 25 MiB). */
  bodyLimitBytes?: number;
  /**
   * Gateway auth of the mounted `/v1` controllers: when non-empty, chat, embeddings, models and
   * aliases need `Authorization: Bearer <one of these>`. Health and metrics stay open.
   */
  apiKeys?: string[];
  /** Response cache: Redis (`{ redisUrl }`) or an in-process LRU (`{ store: 'memory' }`); off when omitted. */
  cache?: CacheOptions;
  /** Prometheus metrics (SPEC §8) in a registry of this module's own (default); false: none. */
  metrics?: boolean | MetricsOptions;
  /** One log line per finished request (context `Request`, through Nest's Logger); default true. */
  requestLog?: boolean;
}

export interface ResolvedConcurrency {
  maxConcurrent: number;
  queueSize: number;
  queueTimeoutMs: number;
}

export interface ResolvedCloudProvider {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  /** Undefined: unlimited. */
  concurrency?: ResolvedConcurrency;
}

/** Options after defaults and validation: what the core reads. */
export interface ResolvedManaLlmOptions {
  ollama: {
    baseUrl: string;
    defaultModel: string;
    timeoutMs: number;
    numCtx?: number;
    /** Undefined: unlimited. */
    concurrency?: ResolvedConcurrency;
  };
  cloud: Partial<Record<Exclude<ProviderName, 'ollama'>, ResolvedCloudProvider>>;
  aliases:
    | { path?: string; required: boolean; watchIntervalMs: number }
    | { inline: Record<string, AliasDefinition> };
  breaker: { failureThreshold: number; cooldownMs: number };
  probe: { enabled: boolean; intervalMs: number; timeoutMs: number };
  images: { allowPrivate: boolean; maxBytes: number; timeoutMs: number };
  streamKeepAliveMs: number;
  bodyLimitBytes: number;
  /** Empty: gateway auth off. */
  apiKeys: string[];
  cache: ResolvedCacheOptions;
  metrics: ResolvedMetricsOptions;
  requestLog: boolean;
}
