import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter } from 'keyv';
import { Clock } from '../tokens';

interface Entry {
  value: string;
  bytes: number;
  expires: number | undefined;
}

export interface MemoryLruLimits {
  /** At most this many entries. */
  maxEntries: number;
  /** At most this many bytes (UTF-8 size of keys plus serialised values). */
  maxBytes: number;
}

/**
 * A bounded in-process LRU as a Keyv storage adapter: a Map in recency order (a read moves the entry
 * to the end), evicting from the front while either limit is exceeded. Keyv hands it serialised
 * strings, so a caller can never mutate a cached answer through a returned object. An entry larger
 * than `maxBytes` on its own is not stored.
 */
export class MemoryLruStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts = { dialect: 'mana-llm-memory-lru' };
  namespace?: string;
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;

  constructor(
    private readonly limits: MemoryLruLimits,
    private readonly clock: Clock,
  ) {
    super();
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires !== undefined && this.clock.now() >= entry.expires) {
      this.remove(key, entry);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value as Value;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    const bytes = Buffer.byteLength(key) + Buffer.byteLength(text);
    if (bytes > this.limits.maxBytes) return false;
    const expires = ttl !== undefined && ttl > 0 ? this.clock.now() + ttl : undefined;
    this.entries.set(key, { value: text, bytes, expires });
    this.totalBytes += bytes;
    while (this.entries.size > this.limits.maxEntries || this.totalBytes > this.limits.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest, this.entries.get(oldest) as Entry);
    }
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.remove(key, entry);
    return true;
  }

  async clear(): Promise<void> {
    this.entries.clear();
    this.totalBytes = 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async disconnect(): Promise<void> {
    await this.clear();
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }
}
