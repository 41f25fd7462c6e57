import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { RequestContext } from '../context/request-context';
import { ResolvedManaLlmOptions } from '../mana-llm.options';
import { CacheResult, LlmMetrics } from '../metrics/llm-metrics';
import { CLOCK, Clock, LLM_METRICS, RESOLVED_OPTIONS } from '../tokens';
import { CacheBackend } from './cache-backend';
import { CacheHealth } from './cache-health';
import { cacheKey } from './cache-key';
import { createMemoryDriver } from './memory-cache.driver';
import { createRedisDriver } from './redis-cache.driver';

/** The `X-Mana-LLM-Cache` value. */
export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/** The cache's verdict on one request, taken before answering it (so HTTP can set its header first). */
export interface CacheLookup<T> {
  /** `undefined` when no cache is configured (then no header either). */
  readonly status: CacheStatus | undefined;
  /** The stored answer on a HIT. */
  readonly hit: T | undefined;
  /** Where to store the answer; `undefined` when it must not be stored (a hit, `no-store`, no cache). */
  readonly writeKey: string | undefined;
  /** What `mana_llm_cache_requests_total` counted (`error`: the store failed, served as a MISS). */
  readonly result?: CacheResult;
}

/** The verdict when no cache is configured (no lookup needed: callers may skip the await). */
export const CACHE_DISABLED: CacheLookup<never> = { status: undefined, hit: undefined, writeKey: undefined };

/**
 * The response cache of SPEC §6 over Redis or a bounded in-process LRU (both through cache-manager).
 * Never fails a request: store trouble makes a lookup a MISS (metric `error`) and a write a no-op.
 * Reading honours `Cache-Control: no-cache` (skip the read) and `no-store` (skip read and write).
 */
@Injectable()
export class ResponseCache implements CacheHealth, OnModuleInit, OnApplicationShutdown {
  private readonly backend: CacheBackend | undefined;
  private readonly keyPrefix: string;
  /** Answers whose JSON is longer are not stored. */
  readonly maxEntryBytes: number;

  constructor(
    @Inject(RESOLVED_OPTIONS) options: ResolvedManaLlmOptions,
    @Inject(LLM_METRICS) private readonly metrics: LlmMetrics,
    @Inject(CLOCK) clock: Clock,
  ) {
    const o = options.cache;
    this.keyPrefix = o.keyPrefix;
    this.maxEntryBytes = o.maxEntryBytes;
    const settings = {
      ttlMs: o.ttlMs,
      timeoutMs: o.timeoutMs,
      recoveryIntervalMs: o.recoveryIntervalMs,
      connectTimeoutMs: Math.max(1000, o.timeoutMs),
    };
    if (o.store === 'redis' && o.redisUrl) {
      const driver = createRedisDriver({
        url: o.redisUrl,
        connectTimeoutMs: settings.connectTimeoutMs,
        maxReconnectDelayMs: o.recoveryIntervalMs,
      });
      this.backend = new CacheBackend(driver, settings);
    } else if (o.store === 'memory') {
      const driver = createMemoryDriver({ maxEntries: o.maxEntries, maxBytes: o.maxBytes }, clock);
      this.backend = new CacheBackend(driver, settings);
    }
  }

  get enabled(): boolean {
    return this.backend !== undefined;
  }

  async onModuleInit(): Promise<void> {
    await this.backend?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.backend?.close();
  }

  state(): { store: 'redis' | 'memory' | 'none'; healthy: boolean } {
    if (!this.backend) return { store: 'none', healthy: true };
    return { store: this.backend.kind, healthy: this.backend.healthy };
  }

  /**
   * Looks `body` (the validated request, `model` as asked) up for `endpoint`. Counts one
   * `mana_llm_cache_requests_total{endpoint,result}` per call. Waits at most one store timeout.
   */
  async lookup<T>(endpoint: string, body: object, ctx: RequestContext): Promise<CacheLookup<T>> {
    const backend = this.backend;
    if (!backend) return CACHE_DISABLED;
    const read = ctx.cache?.read ?? true;
    const write = ctx.cache?.write ?? true;
    if (!read && !write) {
      this.metrics.cacheResult(endpoint, 'bypass');
      return { status: 'BYPASS', hit: undefined, writeKey: undefined, result: 'bypass' };
    }
    const key = cacheKey(this.keyPrefix, endpoint, body as Record<string, unknown>);
    if (!read) {
      this.metrics.cacheResult(endpoint, 'bypass');
      return { status: 'BYPASS', hit: undefined, writeKey: key, result: 'bypass' };
    }
    const writeKey = write ? key : undefined;
    let result: CacheResult = 'miss';
    try {
      const hit = await backend.get<T>(key);
      if (hit !== undefined && hit !== null) {
        this.metrics.cacheResult(endpoint, 'hit');
        return { status: 'HIT', hit, writeKey: undefined, result: 'hit' };
      }
    } catch {
      // The backend logged the outage once; this request simply goes on uncached.
      result = 'error';
    }
    this.metrics.cacheResult(endpoint, result);
    return { status: 'MISS', hit: undefined, writeKey, result };
  }

  /**
   * Stores a successful answer under the lookup's key (if any), unless its JSON is longer than
   * `maxEntryBytes`. Never throws; waits at most one timeout.
   */
  async store<T>(lookup: CacheLookup<T>, value: T): Promise<void> {
    if (!lookup.writeKey || !this.backend) return;
    const json = JSON.stringify(value);
    if (json.length > this.maxEntryBytes) return;
    try {
      await this.backend.set(lookup.writeKey, json);
    } catch {
      // Logged by the backend (once per outage); the answer was served anyway.
    }
  }
}
