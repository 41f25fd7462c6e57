import KeyvRedis, { createClient, Keyv } from '@keyv/redis';
import { CacheDriver } from './cache-backend';
import { keyvJsonSerializer } from './keyv-json.serializer';

export interface RedisDriverSettings {
  url: string;
  connectTimeoutMs: number;
  /** Longest wait between two reconnection attempts after the connection dropped. */
  maxReconnectDelayMs: number;
}

/**
 * Redis through Keyv's maintained adapter (@keyv/redis on node-redis 5), for cache-manager 7.
 * The client is ours so that it fails fast instead of queueing: no offline queue (a command while
 * disconnected rejects at once) and reconnection forever with a capped backoff, so the cache comes
 * back by itself when Redis does. Keys are used as given (no Keyv namespace: the gateway prefixes).
 */
export function createRedisDriver(settings: RedisDriverSettings): CacheDriver {
  const client = createClient({
    url: settings.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: settings.connectTimeoutMs,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, settings.maxReconnectDelayMs),
    },
  });
  const troubleListeners: ((err: unknown) => void)[] = [];
  // node-redis emits 'error' on every failed (re)connection; without a listener it would crash.
  client.on('error', (err: unknown) => {
    for (const listener of troubleListeners) listener(err);
  });
  const store = new KeyvRedis(client, { throwOnConnectError: true, throwOnErrors: true });
  const keyv = new Keyv({
    store,
    namespace: undefined,
    useKeyPrefix: false,
    throwOnErrors: true,
    ...keyvJsonSerializer,
  });
  keyv.on('error', () => undefined); // failures surface as rejections; this only silences the echo

  return {
    kind: 'redis',
    keyv,
    connect: async () => {
      await client.connect();
    },
    ping: async () => {
      await client.ping();
    },
    onTrouble: (listener) => troubleListeners.push(listener),
    close: async () => {
      if (!client.isOpen) return;
      if (client.isReady) {
        try {
          await client.close();
          return;
        } catch {
          // fall through: drop the socket
        }
      }
      client.destroy();
    },
  };
}
