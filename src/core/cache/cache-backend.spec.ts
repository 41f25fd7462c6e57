import { EventEmitter } from 'node:events';
import { Keyv } from 'keyv';
import { CacheBackend, CacheDriver, CacheUnavailableError } from './cache-backend';
import { keyvJsonSerializer } from './keyv-json.serializer';

/** A Keyv store that can be told to fail or to hang, as a Redis that died or froze would. */
class FlakyStore extends EventEmitter {
  readonly opts = { dialect: 'flaky' };
  namespace?: string;
  readonly data = new Map<string, string>();
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  calls = 0;

  private op<T>(fn: () => T): Promise<T> {
    this.calls++;
    if (this.mode === 'fail') return Promise.reject(new Error('connection refused'));
    if (this.mode === 'hang') return new Promise<T>(() => undefined);
    return Promise.resolve(fn());
  }
  get(key: string) {
    return this.op(() => this.data.get(key));
  }
  set(key: string, value: string) {
    return this.op(() => void this.data.set(key, value));
  }
  delete(key: string) {
    return this.op(() => this.data.delete(key));
  }
  clear() {
    return this.op(() => this.data.clear());
  }
}

class RecordingLogger {
  readonly warnings: string[] = [];
  readonly logs: string[] = [];
  warn(message: string) {
    this.warnings.push(message);
  }
  log(message: string) {
    this.logs.push(message);
  }
}

function flakyDriver(
  store: FlakyStore,
  connect: () => Promise<void> = async () => undefined,
): CacheDriver & {
  trouble: (err: unknown) => void;
} {
  let trouble: (err: unknown) => void = () => undefined;
  return {
    kind: 'redis',
    keyv: new Keyv({
      store,
      namespace: undefined,
      useKeyPrefix: false,
      throwOnErrors: true,
      ...keyvJsonSerializer,
    }),
    connect,
    ping: () => (store.mode === 'ok' ? Promise.resolve() : store.get('__ping__').then(() => undefined)),
    onTrouble: (listener) => (trouble = listener),
    close: async () => undefined,
    trouble: (err) => trouble(err),
  };
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settings = { ttlMs: 60_000, timeoutMs: 40, recoveryIntervalMs: 20, connectTimeoutMs: 40 };

describe(CacheBackend.name, () => {
  let store: FlakyStore;
  let logger: RecordingLogger;
  let backend: CacheBackend;

  beforeEach(() => {
    store = new FlakyStore();
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await backend?.close();
  });

  it('should read back what it stored when the store works', async () => {
    backend = new CacheBackend(flakyDriver(store), settings, logger);
    await backend.start();
    await backend.set('k', '{"a":1}');
    expect(await backend.get('k')).toEqual({ a: 1 });
    expect(await backend.get('absent')).toBeUndefined();
    expect(backend.healthy).toBe(true);
  });

  it('should read an entry that is not its JSON as absent without taking the store down', async () => {
    backend = new CacheBackend(flakyDriver(store), settings, logger);
    store.data.set('k', 'garbage written by someone else');
    expect(await backend.get('k')).toBeUndefined();
    expect(backend.healthy).toBe(true);
    expect(logger.warnings).toEqual([]);
  });

  it('should give up after the timeout and then fail at once without touching the store when it hangs', async () => {
    backend = new CacheBackend(flakyDriver(store), settings, logger);
    store.mode = 'hang';
    await expect(backend.get('k')).rejects.toBeInstanceOf(CacheUnavailableError);
    expect(backend.healthy).toBe(false);
    const calls = store.calls;
    await expect(backend.set('k', '1')).rejects.toBeInstanceOf(CacheUnavailableError);
    await expect(backend.get('k')).rejects.toBeInstanceOf(CacheUnavailableError);
    expect(store.calls - calls).toBeLessThanOrEqual(1); // at most a recovery ping meanwhile
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('did not answer within 40 ms');
  });

  it('should report a failed read as an error and not as a miss', async () => {
    backend = new CacheBackend(flakyDriver(store), settings, logger);
    store.mode = 'fail';
    await expect(backend.get('k')).rejects.toBeInstanceOf(CacheUnavailableError);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('connection refused');
  });

  it('should warn once per outage and resume by itself when the store answers again', async () => {
    const driver = flakyDriver(store);
    backend = new CacheBackend(driver, settings, logger);
    store.mode = 'fail';
    await expect(backend.set('k', '1')).rejects.toThrow();
    driver.trouble(new Error('socket closed'));
    driver.trouble(new Error('socket closed again'));
    await new Promise((r) => setTimeout(r, 60)); // several failed recovery pings
    expect(backend.healthy).toBe(false);
    expect(logger.warnings).toHaveLength(1);

    store.mode = 'ok';
    await until(() => backend.healthy);
    expect(logger.logs).toEqual(['redis cache store answers again, caching resumed']);
    await backend.set('k', '2');
    expect(await backend.get('k')).toBe(2);

    store.mode = 'fail';
    await expect(backend.get('k')).rejects.toThrow();
    expect(logger.warnings).toHaveLength(2);
  });

  it('should start unavailable and recover when the first connection does not come up in time', async () => {
    store.mode = 'hang';
    backend = new CacheBackend(
      flakyDriver(store, () => new Promise(() => undefined)),
      settings,
      logger,
    );
    await backend.start();
    expect(backend.healthy).toBe(false);
    store.mode = 'ok';
    await until(() => backend.healthy);
  });

  it('should stop probing and refuse work when closed', async () => {
    backend = new CacheBackend(flakyDriver(store), settings, logger);
    store.mode = 'fail';
    await expect(backend.get('k')).rejects.toThrow();
    await backend.close();
    const calls = store.calls;
    store.mode = 'ok';
    await new Promise((r) => setTimeout(r, 60));
    expect(store.calls).toBe(calls);
    expect(backend.healthy).toBe(false);
    await expect(backend.get('k')).rejects.toBeInstanceOf(CacheUnavailableError);
  });
});
