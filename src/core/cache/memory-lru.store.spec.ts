import { MemoryLruStore } from './memory-lru.store';

class ManualClock {
  t = 1_000;
  now(): number {
    return this.t;
  }
}

describe(MemoryLruStore.name, () => {
  let clock: ManualClock;
  beforeEach(() => (clock = new ManualClock()));

  it('should evict the least recently used entry when the entry limit is exceeded', async () => {
    const store = new MemoryLruStore({ maxEntries: 2, maxBytes: 1_000_000 }, clock);
    await store.set('a', 'A');
    await store.set('b', 'B');
    expect(await store.get('a')).toBe('A'); // a is now the most recent
    await store.set('c', 'C');
    expect(store.size).toBe(2);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('A');
    expect(await store.get('c')).toBe('C');
  });

  it('should evict until the byte limit holds when a large entry arrives', async () => {
    const store = new MemoryLruStore({ maxEntries: 100, maxBytes: 30 }, clock);
    await store.set('k1', 'x'.repeat(8)); // 10 bytes
    await store.set('k2', 'y'.repeat(8)); // 10 bytes
    await store.set('k3', 'z'.repeat(18)); // 20 bytes: k1 must go
    expect(store.bytes).toBe(30);
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k2')).toBe('y'.repeat(8));
    expect(await store.get('k3')).toBe('z'.repeat(18));
  });

  it('should count UTF-8 bytes when sizing an entry', async () => {
    const store = new MemoryLruStore({ maxEntries: 100, maxBytes: 100 }, clock);
    await store.set('k', 'ä€');
    expect(store.bytes).toBe(1 + 2 + 3);
  });

  it('should not store an entry larger than the byte limit and drop the old value when replacing', async () => {
    const store = new MemoryLruStore({ maxEntries: 100, maxBytes: 10 }, clock);
    await store.set('k', 'small');
    expect(await store.set('k', 'x'.repeat(20))).toBe(false);
    expect(await store.get('k')).toBeUndefined();
    expect(store.bytes).toBe(0);
  });

  it('should forget an entry when its ttl has passed', async () => {
    const store = new MemoryLruStore({ maxEntries: 10, maxBytes: 1000 }, clock);
    await store.set('k', 'v', 500);
    clock.t += 499;
    expect(await store.get('k')).toBe('v');
    clock.t += 1;
    expect(await store.get('k')).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });

  it('should keep the byte count exact when entries are replaced, deleted and cleared', async () => {
    const store = new MemoryLruStore({ maxEntries: 10, maxBytes: 1000 }, clock);
    await store.set('a', '12345');
    await store.set('a', '123');
    expect(store.bytes).toBe(4);
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect(store.bytes).toBe(0);
    await store.set('b', 'x');
    await store.clear();
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });
});
