import { resolveCacheOptions } from './cache.options';

describe('resolveCacheOptions', () => {
  it('should be off with defaults when nothing is set', () => {
    const problems: string[] = [];
    expect(resolveCacheOptions(undefined, problems)).toEqual({
      store: 'none',
      redisUrl: undefined,
      ttlMs: 3_600_000,
      maxEntries: 1000,
      maxBytes: 64 * 1024 * 1024,
      maxEntryBytes: 8 * 1024 * 1024,
      keyPrefix: 'mana-llm:',
      timeoutMs: 200,
      recoveryIntervalMs: 1000,
    });
    expect(problems).toEqual([]);
  });

  it('should choose redis when only a URL is given', () => {
    const problems: string[] = [];
    const o = resolveCacheOptions({ redisUrl: 'redis://cache:6379/2', ttlSeconds: 0.5 }, problems);
    expect(o.store).toBe('redis');
    expect(o.redisUrl).toBe('redis://cache:6379/2');
    expect(o.ttlMs).toBe(500);
    expect(problems).toEqual([]);
  });

  it('should keep the ttl a whole number of milliseconds when the seconds have decimals', () => {
    expect(resolveCacheOptions({ store: 'memory', ttlSeconds: 1.1 }, []).ttlMs).toBe(1100);
    expect(resolveCacheOptions({ store: 'memory', ttlSeconds: 0.0001 }, []).ttlMs).toBe(1);
  });

  it('should list every bad setting when several are wrong', () => {
    const problems: string[] = [];
    resolveCacheOptions({ store: 'redis', ttlSeconds: -1, maxEntries: 1.5, timeoutMs: 0 }, problems);
    expect(problems).toEqual([
      'cache.redisUrl must be a redis:// or rediss:// URL when cache.store is redis',
      'cache.ttlSeconds must be a positive number',
      'cache.maxEntries must be a positive integer',
      'cache.timeoutMs must be a positive number',
    ]);
  });

  it('should reject a store name it does not know', () => {
    const problems: string[] = [];
    resolveCacheOptions({ store: 'disk' as 'memory' }, problems);
    expect(problems).toEqual(["cache.store must be 'redis', 'memory' or 'none'"]);
  });
});
