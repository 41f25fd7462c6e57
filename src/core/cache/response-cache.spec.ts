import { CHAT_ENDPOINT, EMBEDDINGS_ENDPOINT, RequestContext } from '../context/request-context';
import { LlmMetrics, NoopLlmMetrics } from '../metrics/llm-metrics';
import { resolveOptions } from '../resolve-options';
import { systemClock } from '../tokens';
import { CacheOptions } from './cache.options';
import { ResponseCache } from './response-cache';

/** The no-op metrics, recording only the cache results. */
function recordingMetrics(): LlmMetrics & { results: string[] } {
  const results: string[] = [];
  return Object.assign(new NoopLlmMetrics(), {
    results,
    cacheResult: (endpoint: string, result: string) => void results.push(`${endpoint} ${result}`),
  });
}

const ctx = (cache?: RequestContext['cache']): RequestContext => ({ requestId: 'r', app: 'test', cache });
const body = { model: 'ollama/gemma3:4b', messages: [{ role: 'user', content: 'hi' }] };

describe(ResponseCache.name, () => {
  let metrics: ReturnType<typeof recordingMetrics>;
  let cache: ResponseCache;
  const make = async (options: CacheOptions | undefined) => {
    cache = new ResponseCache(resolveOptions({ cache: options }), metrics, systemClock);
    await cache.onModuleInit();
    return cache;
  };
  beforeEach(() => (metrics = recordingMetrics()));
  afterEach(async () => cache?.onApplicationShutdown());

  it('should answer without status, header or metric when no store is configured', async () => {
    await make(undefined);
    const lookup = await cache.lookup(CHAT_ENDPOINT, body, ctx());
    expect(lookup).toEqual({ status: undefined, hit: undefined, writeKey: undefined });
    await cache.store(lookup, { x: 1 });
    expect(cache.enabled).toBe(false);
    expect(cache.state()).toEqual({ store: 'none', healthy: true });
    expect(metrics.results).toEqual([]);
  });

  it('should miss, store, then hit the same body when the memory store is on', async () => {
    await make({ store: 'memory' });
    const miss = await cache.lookup<{ x: number }>(CHAT_ENDPOINT, body, ctx());
    expect(miss.status).toBe('MISS');
    expect(miss.writeKey).toMatch(/^mana-llm:v1:chat:[0-9a-f]{64}$/);
    await cache.store(miss, { x: 1 });
    const hit = await cache.lookup<{ x: number }>(CHAT_ENDPOINT, { ...body, stream: true }, ctx());
    expect(hit).toEqual({ status: 'HIT', hit: { x: 1 }, writeKey: undefined, result: 'hit' });
    expect(metrics.results).toEqual([`${CHAT_ENDPOINT} miss`, `${CHAT_ENDPOINT} hit`]);
    expect(cache.state()).toEqual({ store: 'memory', healthy: true });
  });

  it('should keep endpoints apart when the bodies are equal', async () => {
    await make({ store: 'memory' });
    await cache.store(await cache.lookup(CHAT_ENDPOINT, body, ctx()), { x: 1 });
    expect((await cache.lookup(EMBEDDINGS_ENDPOINT, body, ctx())).status).toBe('MISS');
  });

  it('should bypass the read but keep the write key when the caller says no-cache', async () => {
    await make({ store: 'memory' });
    await cache.store(await cache.lookup(CHAT_ENDPOINT, body, ctx()), { x: 1 });
    const lookup = await cache.lookup(CHAT_ENDPOINT, body, ctx({ read: false, write: true }));
    expect(lookup.status).toBe('BYPASS');
    expect(lookup.hit).toBeUndefined();
    expect(lookup.writeKey).toBeDefined();
    expect(metrics.results.at(-1)).toBe(`${CHAT_ENDPOINT} bypass`);
  });

  it('should neither read nor write when the caller says no-store', async () => {
    await make({ store: 'memory' });
    const lookup = await cache.lookup(CHAT_ENDPOINT, body, ctx({ read: false, write: false }));
    expect(lookup).toEqual({ status: 'BYPASS', hit: undefined, writeKey: undefined, result: 'bypass' });
    await cache.store(lookup, { x: 1 });
    expect((await cache.lookup(CHAT_ENDPOINT, body, ctx())).status).toBe('MISS');
  });

  it('should not store an answer whose JSON is longer than maxEntryBytes', async () => {
    await make({ store: 'memory', maxEntryBytes: 100 });
    await cache.store(await cache.lookup(CHAT_ENDPOINT, body, ctx()), { text: 'x'.repeat(100) });
    const other = { ...body, temperature: 1 };
    await cache.store(await cache.lookup(CHAT_ENDPOINT, other, ctx()), { text: 'x'.repeat(10) });
    expect((await cache.lookup(CHAT_ENDPOINT, body, ctx())).status).toBe('MISS');
    expect((await cache.lookup(CHAT_ENDPOINT, other, ctx())).status).toBe('HIT');
    expect(cache.state()).toEqual({ store: 'memory', healthy: true });
  });

  it('should count an error and answer MISS when the store cannot be reached', async () => {
    await make({ store: 'redis', redisUrl: 'redis://127.0.0.1:1', timeoutMs: 50, recoveryIntervalMs: 50 });
    expect(cache.state()).toEqual({ store: 'redis', healthy: false });
    const lookup = await cache.lookup(EMBEDDINGS_ENDPOINT, body, ctx());
    expect(lookup.status).toBe('MISS');
    expect(lookup.result).toBe('error');
    await cache.store(lookup, { x: 1 }); // must not throw
    expect(metrics.results).toEqual([`${EMBEDDINGS_ENDPOINT} error`]);
  });
});
