import { Logger } from '@nestjs/common';
import { UpstreamRateLimitError, UpstreamServerError, UpstreamTimeoutError } from '../errors/upstream-errors';
import { NoopLlmMetrics } from '../metrics/llm-metrics';
import { ProviderRegistry } from '../providers/provider-registry';
import { resolveOptions } from '../resolve-options';
import { Clock } from '../tokens';
import { ProviderHealthCache } from './provider-health.cache';

/** A no-op metrics sink that records the provider gauge. */
function recordingMetrics() {
  const health: [string, boolean][] = [];
  return Object.assign(new NoopLlmMetrics(), {
    health,
    providerHealth: (provider: string, healthy: boolean) => void health.push([provider, healthy]),
  });
}

class FakeClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function rateLimited(retryAfterSeconds: number, status = 429): UpstreamRateLimitError {
  const error = new UpstreamRateLimitError('slow down', 'groq');
  error.retryAfterSeconds = retryAfterSeconds;
  error.upstreamStatus = status;
  return error;
}

describe(ProviderHealthCache.name, () => {
  let registry: ProviderRegistry;
  let clock: FakeClock;
  let metrics: ReturnType<typeof recordingMetrics>;

  function cache(breaker: { failureThreshold?: number; cooldownMs?: number } = {}): ProviderHealthCache {
    const options = resolveOptions({ groq: { apiKey: 'gsk_test' }, breaker });
    registry = new ProviderRegistry(options);
    return new ProviderHealthCache(options, registry, metrics, clock);
  }

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    clock = new FakeClock(T0);
    metrics = recordingMetrics();
  });
  afterEach(() => registry.onApplicationShutdown());

  it('should report every configured provider healthy when it starts', () => {
    const health = cache();
    expect(metrics.health).toEqual([
      ['ollama', true],
      ['groq', true],
    ]);
    expect(Object.keys(health.snapshot())).toEqual(['ollama', 'groq']);
    expect(health.snapshot().groq).toEqual({
      configured: true,
      healthy: true,
      consecutive_failures: 0,
      unhealthy_until: null,
      last_checked: null,
      last_error: null,
      latency_ms: null,
    });
  });

  it('should keep a provider healthy when it failed once', () => {
    const health = cache();
    health.recordFailure('groq', new UpstreamServerError('boom', 'groq'));
    expect(health.isAvailable('groq')).toBe(true);
    expect(health.snapshot().groq).toMatchObject({
      healthy: true,
      consecutive_failures: 1,
      last_checked: '2026-01-01T00:00:00.000Z',
      last_error: 'UpstreamServerError: boom',
    });
    expect(metrics.health).toHaveLength(2);
  });

  it('should open the breaker for the cooldown when two failures come in a row', () => {
    const health = cache();
    health.recordFailure('groq', new UpstreamServerError('boom', 'groq'));
    clock.t += 1000;
    health.recordFailure('groq', new UpstreamTimeoutError('slow', 'groq'));
    expect(health.isAvailable('groq')).toBe(false);
    expect(health.snapshot().groq).toMatchObject({
      healthy: false,
      consecutive_failures: 2,
      unhealthy_until: '2026-01-01T00:01:01.000Z',
      last_error: 'UpstreamTimeoutError: slow',
    });
    expect(metrics.health.slice(2)).toEqual([['groq', false]]);
    clock.t += 59_999;
    expect(health.isAvailable('groq')).toBe(false);
  });

  it('should reset the count when a success comes between two failures', () => {
    const health = cache();
    health.recordFailure('groq', new UpstreamServerError('boom', 'groq'));
    health.recordSuccess('groq', 123.4);
    health.recordFailure('groq', new UpstreamServerError('boom', 'groq'));
    expect(health.isAvailable('groq')).toBe(true);
    expect(health.snapshot().groq).toMatchObject({ consecutive_failures: 1, latency_ms: 123 });
  });

  it('should be half-open (routable, gauge back to 1) when the cooldown is over', () => {
    const health = cache({ cooldownMs: 60_000 });
    health.recordFailure('groq', new UpstreamServerError('a', 'groq'));
    health.recordFailure('groq', new UpstreamServerError('b', 'groq'));
    clock.t += 60_000;
    expect(health.isAvailable('groq')).toBe(true);
    expect(health.snapshot().groq).toMatchObject({
      healthy: true,
      consecutive_failures: 2,
      unhealthy_until: null,
    });
    expect(metrics.health.slice(2)).toEqual([
      ['groq', false],
      ['groq', true],
    ]);
  });

  it('should re-arm the cooldown at once when the half-open call fails', () => {
    const health = cache({ cooldownMs: 60_000 });
    health.recordFailure('groq', new UpstreamServerError('a', 'groq'));
    health.recordFailure('groq', new UpstreamServerError('b', 'groq'));
    clock.t += 61_000;
    expect(health.isAvailable('groq')).toBe(true);
    health.recordFailure('groq', new UpstreamServerError('c', 'groq'));
    expect(health.isAvailable('groq')).toBe(false);
    expect(health.snapshot().groq.unhealthy_until).toBe(new Date(clock.t + 60_000).toISOString());
    expect(metrics.health.slice(2)).toEqual([
      ['groq', false],
      ['groq', true],
      ['groq', false],
    ]);
  });

  it('should close the breaker at once when a success comes while it is open', () => {
    const health = cache();
    health.recordFailure('groq', new UpstreamServerError('a', 'groq'));
    health.recordFailure('groq', new UpstreamServerError('b', 'groq'));
    health.recordSuccess('groq', 10);
    expect(health.isAvailable('groq')).toBe(true);
    expect(health.snapshot().groq).toMatchObject({
      healthy: true,
      consecutive_failures: 0,
      last_error: null,
    });
    expect(metrics.health.slice(2)).toEqual([
      ['groq', false],
      ['groq', true],
    ]);
  });

  it('should report a transition once when more failures come while the breaker is open', () => {
    const health = cache();
    for (let i = 0; i < 5; i++) health.recordFailure('groq', new UpstreamServerError(`e${i}`, 'groq'));
    expect(metrics.health.slice(2)).toEqual([['groq', false]]);
    expect(health.snapshot().groq.consecutive_failures).toBe(5);
  });

  it('should extend the cooldown when a 429 carries a longer Retry-After', () => {
    const health = cache({ cooldownMs: 60_000 });
    health.recordFailure('groq', rateLimited(300));
    health.recordFailure('groq', rateLimited(300));
    expect(health.snapshot().groq.unhealthy_until).toBe('2026-01-01T00:05:00.000Z');
    clock.t += 299_000;
    expect(health.isAvailable('groq')).toBe(false);
    clock.t += 1_000;
    expect(health.isAvailable('groq')).toBe(true);
  });

  it('should extend the cooldown when a 503 carries a longer Retry-After', () => {
    const health = cache({ cooldownMs: 60_000 });
    const overloaded = () => {
      const error = new UpstreamServerError('overloaded', 'groq');
      error.retryAfterSeconds = 120;
      error.upstreamStatus = 503;
      return error;
    };
    health.recordFailure('groq', overloaded());
    health.recordFailure('groq', overloaded());
    expect(health.snapshot().groq.unhealthy_until).toBe('2026-01-01T00:02:00.000Z');
  });

  it('should keep the configured cooldown when Retry-After is shorter', () => {
    const health = cache({ cooldownMs: 60_000 });
    health.recordFailure('groq', rateLimited(5));
    health.recordFailure('groq', rateLimited(5));
    expect(health.snapshot().groq.unhealthy_until).toBe('2026-01-01T00:01:00.000Z');
  });

  it('should ignore Retry-After when the status is neither 429 nor 503', () => {
    const health = cache({ cooldownMs: 60_000 });
    const error = new UpstreamServerError('bad gateway', 'groq');
    error.retryAfterSeconds = 600;
    error.upstreamStatus = 502;
    health.recordFailure('groq', error);
    health.recordFailure('groq', error);
    expect(health.snapshot().groq.unhealthy_until).toBe('2026-01-01T00:01:00.000Z');
  });

  it('should need more failures when the threshold is configured higher', () => {
    const health = cache({ failureThreshold: 3, cooldownMs: 300 });
    health.recordFailure('groq', new UpstreamServerError('a', 'groq'));
    health.recordFailure('groq', new UpstreamServerError('b', 'groq'));
    expect(health.isAvailable('groq')).toBe(true);
    health.recordFailure('groq', new UpstreamServerError('c', 'groq'));
    expect(health.isAvailable('groq')).toBe(false);
    clock.t += 300;
    expect(health.isAvailable('groq')).toBe(true);
  });

  it('should treat an unconfigured provider as unavailable and leave it out of the snapshot', () => {
    const health = cache();
    health.recordFailure('openai', new UpstreamServerError('x', 'openai'));
    health.recordSuccess('openai', 1);
    expect(health.isAvailable('openai')).toBe(false);
    expect(health.snapshot().openai).toBeUndefined();
    expect(metrics.health.map(([name]) => name)).not.toContain('openai');
  });

  it('should truncate a long last error when an upstream sends a huge message', () => {
    const health = cache();
    health.recordFailure('groq', new UpstreamServerError('x'.repeat(5000), 'groq'));
    expect(health.snapshot().groq.last_error).toHaveLength(500);
  });
});
