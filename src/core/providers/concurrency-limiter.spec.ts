import { ClientAbortError } from '../errors/request-errors';
import { ProviderSaturatedError } from '../errors/routing-errors';
import { ConcurrencyLimiter } from './concurrency-limiter';

const limits = { maxConcurrent: 2, queueSize: 2, queueTimeoutMs: 1000 };

/** Settles pending promise callbacks. */
const flush = () => new Promise<void>((r) => setImmediate(r));

describe(ConcurrencyLimiter.name, () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('should grant slots at once while under the limit', async () => {
    const limiter = new ConcurrencyLimiter('ollama', limits);
    const a = await limiter.acquire();
    await limiter.acquire();
    expect(limiter.inFlight).toBe(2);
    a();
    a(); // a second release of the same slot changes nothing
    expect(limiter.inFlight).toBe(1);
  });

  it('should queue calls past the limit and hand a released slot to the oldest waiter', async () => {
    const limiter = new ConcurrencyLimiter('ollama', limits);
    const first = await limiter.acquire();
    await limiter.acquire();
    const order: string[] = [];
    void limiter.acquire().then(() => order.push('third'));
    void limiter.acquire().then(() => order.push('fourth'));
    await flush();
    expect(limiter.waiting).toBe(2);
    expect(order).toEqual([]);
    first();
    await flush();
    expect(order).toEqual(['third']);
    expect(limiter.inFlight).toBe(2);
    expect(limiter.waiting).toBe(1);
  });

  it('should refuse at once with a retryable ProviderSaturatedError when the queue is full', async () => {
    const limiter = new ConcurrencyLimiter('ollama', limits);
    await limiter.acquire();
    await limiter.acquire();
    void limiter.acquire();
    void limiter.acquire();
    const refused = limiter.acquire();
    await expect(refused).rejects.toBeInstanceOf(ProviderSaturatedError);
    const error = (await refused.catch((e: unknown) => e)) as ProviderSaturatedError;
    expect(error).toMatchObject({
      status: 503,
      retryable: true,
      countsAsProviderFailure: false,
      code: 'provider_saturated',
      provider: 'ollama',
      retryAfterSeconds: 1,
      message: 'ollama is saturated: 2 requests in flight and its queue of 2 is full',
    });
  });

  it('should refuse a waiter whose queue timeout passes, and leave the queue', async () => {
    const limiter = new ConcurrencyLimiter('groq', { maxConcurrent: 1, queueSize: 5, queueTimeoutMs: 2500 });
    await limiter.acquire();
    const waiting = limiter.acquire();
    jest.advanceTimersByTime(2499);
    await flush();
    expect(limiter.waiting).toBe(1);
    jest.advanceTimersByTime(1);
    await expect(waiting).rejects.toMatchObject({
      name: 'ProviderSaturatedError',
      retryAfterSeconds: 3,
      message: 'groq is saturated: 1 requests in flight and no slot came free within 2500 ms',
    });
    expect(limiter.waiting).toBe(0);
  });

  it('should drop a waiter whose caller aborts, with a ClientAbortError, and never grant it', async () => {
    const limiter = new ConcurrencyLimiter('ollama', { ...limits, maxConcurrent: 1 });
    const held = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(ClientAbortError);
    expect(limiter.waiting).toBe(0);
    held();
    expect(limiter.inFlight).toBe(0);
    await expect(limiter.acquire(controller.signal)).rejects.toBeInstanceOf(ClientAbortError);
  });

  it('should let no newcomer overtake the queue when a slot is released', async () => {
    const limiter = new ConcurrencyLimiter('ollama', { ...limits, maxConcurrent: 1 });
    const held = await limiter.acquire();
    let waiterGot = false;
    void limiter.acquire().then(() => (waiterGot = true));
    held();
    let newcomerGot = false;
    void limiter.acquire().then(() => (newcomerGot = true));
    await flush();
    expect(waiterGot).toBe(true);
    expect(newcomerGot).toBe(false);
  });
});
