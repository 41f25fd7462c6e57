/** `ManaLlmOptions.cache`: the response cache (SPEC §6). Off unless a store is chosen. */
export interface CacheOptions {
  /** `redis` (needs `redisUrl`), `memory` (a bounded LRU in this process) or `none`.
   * Default: `redis` when `redisUrl` is set, else `none`. */
  store?: 'redis' | 'memory' | 'none';
  /** `redis://[user:pass@]host:port[/db]` or `rediss://...`. */
  redisUrl?: string;
  /** Lifetime of an entry, seconds (default 3600). */
  ttlSeconds?: number;
  /** Memory store: at most this many entries (default 1000). */
  maxEntries?: number;
  /** Memory store: at most this many bytes of keys and serialised answers (default 64 MiB). */
  maxBytes?: number;
  /** Larger answers (characters of their JSON) are not cached (default 8 MiB): a huge embeddings batch
   * would outlast the store timeout and read as an outage. */
  maxEntryBytes?: number;
  /** Prepended to every key (default `mana-llm:`), e.g. to share one Redis between deployments. */
  keyPrefix?: string;
  /** Bound of one store operation, ms (default 200): past it the request is served uncached. */
  timeoutMs?: number;
  /** While the store is unavailable, how often to check whether it answers again, ms (default 1000). */
  recoveryIntervalMs?: number;
}

export interface ResolvedCacheOptions {
  store: 'redis' | 'memory' | 'none';
  redisUrl?: string;
  ttlMs: number;
  maxEntries: number;
  maxBytes: number;
  maxEntryBytes: number;
  keyPrefix: string;
  timeoutMs: number;
  recoveryIntervalMs: number;
}

/** Defaults and checks for `cache`; problems are appended, one line each (see resolveOptions). */
export function resolveCacheOptions(
  options: CacheOptions | undefined,
  problems: string[],
): ResolvedCacheOptions {
  const o = options ?? {};
  const positive = (name: string, value: number | undefined, fallback: number, integer = false): number => {
    if (value === undefined) return fallback;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value <= 0 ||
      (integer && !Number.isInteger(value))
    ) {
      problems.push(`cache.${name} must be a positive ${integer ? 'integer' : 'number'}`);
      return fallback;
    }
    return value;
  };
  let store = o.store ?? (o.redisUrl ? 'redis' : 'none');
  if (store !== 'redis' && store !== 'memory' && store !== 'none') {
    problems.push("cache.store must be 'redis', 'memory' or 'none'");
    store = 'none';
  }
  if (store === 'redis') {
    try {
      const url = new URL(o.redisUrl ?? '');
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error('scheme');
    } catch {
      problems.push('cache.redisUrl must be a redis:// or rediss:// URL when cache.store is redis');
    }
  }
  const keyPrefix = o.keyPrefix ?? 'mana-llm:';
  if (typeof keyPrefix !== 'string') problems.push('cache.keyPrefix must be a string');
  return {
    store,
    redisUrl: store === 'redis' ? o.redisUrl : undefined,
    // Whole milliseconds: Redis `SET ... PX` takes an integer (1.1 s * 1000 is 1100.0000000000002).
    ttlMs: Math.max(1, Math.round(positive('ttlSeconds', o.ttlSeconds, 3600) * 1000)),
    maxEntries: positive('maxEntries', o.maxEntries, 1000, true),
    maxBytes: positive('maxBytes', o.maxBytes, 64 * 1024 * 1024, true),
    maxEntryBytes: positive('maxEntryBytes', o.maxEntryBytes, 8 * 1024 * 1024, true),
    keyPrefix: String(keyPrefix),
    timeoutMs: positive('timeoutMs', o.timeoutMs, 200),
    recoveryIntervalMs: positive('recoveryIntervalMs', o.recoveryIntervalMs, 1000),
  };
}
