/** What `/v1/health` shows under `"cache"`: the configured store and whether it answers right now. */
export interface CacheHealth {
  state(): { store: 'redis' | 'memory' | 'none'; healthy: boolean };
}

/** Bound to the response cache by ManaLlmModule. */
export const CACHE_HEALTH = Symbol('mana-llm:cache-health');
