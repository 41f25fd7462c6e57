import { resolveOptions } from './resolve-options';

describe(`${resolveOptions.name} (concurrency)`, () => {
  it('should leave every provider unlimited when no limit is set', () => {
    const o = resolveOptions({ groq: { apiKey: 'k' } });
    expect(o.ollama.concurrency).toBeUndefined();
    expect(o.cloud.groq?.concurrency).toBeUndefined();
  });

  it('should apply the queue defaults (100 calls, 10 s) to a set limit, and treat 0 as unlimited', () => {
    expect(resolveOptions({ ollama: { concurrency: { maxConcurrent: 4 } } }).ollama.concurrency).toEqual({
      maxConcurrent: 4,
      queueSize: 100,
      queueTimeoutMs: 10_000,
    });
    expect(
      resolveOptions({ ollama: { concurrency: { maxConcurrent: 0 } } }).ollama.concurrency,
    ).toBeUndefined();
  });

  it("should take each cloud field from the provider's own limit, else from providerConcurrency", () => {
    const o = resolveOptions({
      providerConcurrency: { maxConcurrent: 8, queueSize: 5, queueTimeoutMs: 2000 },
      groq: { apiKey: 'k', concurrency: { maxConcurrent: 1 } },
      openai: { apiKey: 'k' },
    });
    expect(o.cloud.groq?.concurrency).toEqual({ maxConcurrent: 1, queueSize: 5, queueTimeoutMs: 2000 });
    expect(o.cloud.openai?.concurrency).toEqual({ maxConcurrent: 8, queueSize: 5, queueTimeoutMs: 2000 });
    expect(o.ollama.concurrency).toBeUndefined(); // providerConcurrency is for the clouds only
  });

  it('should report every bad concurrency value at once', () => {
    expect(() =>
      resolveOptions({
        ollama: { concurrency: { maxConcurrent: -1, queueTimeoutMs: 0 } },
        groq: { apiKey: 'k', concurrency: { queueSize: 1.5 } },
      }),
    ).toThrow(
      'Invalid mana-llm options:\n' +
        '  - groq.concurrency.queueSize must be a whole number >= 0\n' +
        '  - ollama.concurrency.maxConcurrent must be a whole number >= 0\n' +
        '  - ollama.concurrency.queueTimeoutMs must be a positive number',
    );
  });
});
