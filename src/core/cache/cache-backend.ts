import { Logger, LoggerService } from '@nestjs/common';
import { Cache, createCache } from 'cache-manager';
import type { Keyv } from 'keyv';

/** What differs between the stores behind the one cache-manager facade. */
export interface CacheDriver {
  readonly kind: 'redis' | 'memory';
  /** The Keyv instance cache-manager reads and writes through. */
  readonly keyv: Keyv;
  /** First connection; may reject (the backend then starts as unavailable and recovers by itself). */
  connect(): Promise<void>;
  /** A cheap round trip, used to notice that a failed store answers again. */
  ping(): Promise<void>;
  /** Lets the driver report trouble it notices itself (a dropped connection). */
  onTrouble(listener: (err: unknown) => void): void;
  close(): Promise<void>;
}

export interface CacheBackendSettings {
  ttlMs: number;
  /** Bound of every store operation: past it the request goes on uncached. */
  timeoutMs: number;
  /** While unavailable, a ping this often decides when to use the store again. */
  recoveryIntervalMs: number;
  /** Bound of the first connection at boot. */
  connectTimeoutMs: number;
}

/** A store operation failed, timed out, or was not tried because the store is unavailable. */
export class CacheUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheUnavailableError';
  }
}

/**
 * cache-manager over one Keyv store, made safe for the request path: every operation is bounded by
 * `timeoutMs`; the first failure marks the store unavailable (one warning per outage) and from then on
 * operations fail at once without touching the store, while a background ping every
 * `recoveryIntervalMs` notices when it answers again (one log line). A request thus waits at most
 * one timeout, and only the first ones of an outage.
 */
export class CacheBackend {
  private readonly cache: Cache;
  /** cache-manager reports `get` failures as events, not rejections: collected here per key. */
  private readonly readErrors = new Map<string, unknown>();
  private available = true;
  private recovery: NodeJS.Timeout | undefined;
  private probing = false;
  private wakeStart: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly driver: CacheDriver,
    private readonly settings: CacheBackendSettings,
    private readonly logger: Pick<LoggerService, 'log' | 'warn'> = new Logger('ResponseCache'),
  ) {
    this.cache = createCache({ stores: [driver.keyv], ttl: settings.ttlMs });
    this.cache.on('get', (event: { key: string; error?: unknown }) => {
      if (event.error !== undefined) this.readErrors.set(event.key, event.error);
    });
    driver.onTrouble((err) => this.markUnavailable(err));
  }

  get kind(): 'redis' | 'memory' {
    return this.driver.kind;
  }

  get healthy(): boolean {
    return this.available && !this.closed;
  }

  /** Connects within `connectTimeoutMs`; a failure is logged and recovered from, never thrown. */
  async start(): Promise<void> {
    const connecting = this.driver.connect();
    connecting.catch(() => undefined);
    // A refused connection is reported by the driver at once: no need to wait for the timeout then.
    const troubled = new Promise<void>((resolve) => (this.wakeStart = resolve));
    try {
      await Promise.race([this.bounded(connecting, this.settings.connectTimeoutMs), troubled]);
    } catch (err) {
      this.markUnavailable(err);
    } finally {
      this.wakeStart = undefined;
    }
  }

  /** The stored value (parsed), `undefined` when absent; throws CacheUnavailableError on any trouble. */
  async get<T>(key: string): Promise<T | undefined> {
    this.assertAvailable();
    const op = this.cache.get<T>(key).then((value) => {
      const error = this.readErrors.get(key);
      if (error === undefined) return value;
      this.readErrors.delete(key);
      throw error;
    });
    return this.guard(op);
  }

  /** Stores JSON text with the configured TTL (read back parsed); throws CacheUnavailableError on any trouble. */
  async set(key: string, json: string): Promise<void> {
    this.assertAvailable();
    await this.guard(this.cache.set(key, json));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopRecovery();
    await this.driver.close();
  }

  private assertAvailable(): void {
    if (!this.available || this.closed) {
      throw new CacheUnavailableError(`the ${this.driver.kind} cache store is unavailable`);
    }
  }

  private async guard<T>(op: Promise<T>): Promise<T> {
    try {
      return await this.bounded(op, this.settings.timeoutMs);
    } catch (err) {
      op.catch(() => undefined); // a late rejection after the timeout is already accounted for
      this.markUnavailable(err);
      throw err instanceof CacheUnavailableError
        ? err
        : new CacheUnavailableError(`the ${this.driver.kind} cache store failed`, { cause: err });
    }
  }

  private bounded<T>(op: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new CacheUnavailableError(`the ${this.driver.kind} cache store did not answer within ${ms} ms`),
          ),
        ms,
      );
      op.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private markUnavailable(err: unknown): void {
    this.wakeStart?.();
    if (this.closed || !this.available) return;
    this.available = false;
    const reason = err instanceof Error ? err.message : String(err);
    this.logger.warn(
      `${this.driver.kind} cache store unavailable, serving uncached until it answers again: ${reason}`,
    );
    this.recovery = setInterval(() => void this.probe(), this.settings.recoveryIntervalMs);
    this.recovery.unref();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.available || this.closed) return;
    this.probing = true;
    const ping = this.driver.ping();
    try {
      await this.bounded(ping, this.settings.timeoutMs);
      if (this.closed) return;
      this.stopRecovery();
      this.readErrors.clear();
      this.available = true;
      this.logger.log(`${this.driver.kind} cache store answers again, caching resumed`);
    } catch {
      ping.catch(() => undefined);
    } finally {
      this.probing = false;
    }
  }

  private stopRecovery(): void {
    if (this.recovery) clearInterval(this.recovery);
    this.recovery = undefined;
  }
}
