import { Keyv } from 'keyv';
import { Clock } from '../tokens';
import { CacheDriver } from './cache-backend';
import { keyvJsonSerializer } from './keyv-json.serializer';
import { MemoryLruLimits, MemoryLruStore } from './memory-lru.store';

/** The single-box store: a bounded LRU in this process, behind the same cache-manager facade. */
export function createMemoryDriver(
  limits: MemoryLruLimits,
  clock: Clock,
): CacheDriver & { store: MemoryLruStore } {
  const store = new MemoryLruStore(limits, clock);
  const keyv = new Keyv({
    store,
    namespace: undefined,
    useKeyPrefix: false,
    throwOnErrors: true,
    ...keyvJsonSerializer,
  });
  return {
    kind: 'memory',
    keyv,
    store,
    connect: async () => undefined,
    ping: async () => undefined,
    onTrouble: () => undefined,
    close: () => store.clear(),
  };
}
