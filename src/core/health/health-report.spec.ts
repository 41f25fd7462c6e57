import { Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { UpstreamServerError } from '../errors/upstream-errors';
import { NoopLlmMetrics } from '../metrics/llm-metrics';
import { ProviderRegistry } from '../providers/provider-registry';
import { resolveOptions } from '../resolve-options';
import { systemClock } from '../tokens';
import { HealthReport } from './health-report';
import { ProviderHealthCache } from './provider-health.cache';
import { ProviderHealthIndicator } from './provider-health.indicator';
import { ReadinessState } from './readiness-state';

describe(HealthReport.name, () => {
  let registry: ProviderRegistry;
  let health: ProviderHealthCache;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    const options = resolveOptions({ groq: { apiKey: 'g' }, together: { apiKey: 't' } });
    registry = new ProviderRegistry(options);
    health = new ProviderHealthCache(options, registry, new NoopLlmMetrics(), systemClock);
  });
  afterEach(() => registry.onApplicationShutdown());

  const open = (provider: 'ollama' | 'groq' | 'together') => {
    health.recordFailure(provider, new UpstreamServerError('down', provider));
    health.recordFailure(provider, new UpstreamServerError('down', provider));
  };

  it('should say healthy with every configured provider when all are healthy', () => {
    expect(new HealthReport(health).legacy()).toEqual({
      status: 'healthy',
      providers: { ollama: 'healthy', groq: 'healthy', together: 'healthy' },
    });
  });

  it('should say degraded when some providers are unhealthy', () => {
    open('groq');
    expect(new HealthReport(health).legacy()).toEqual({
      status: 'degraded',
      providers: { ollama: 'healthy', groq: 'unhealthy', together: 'healthy' },
    });
  });

  it('should say unhealthy when no provider is healthy', () => {
    open('ollama');
    open('groq');
    open('together');
    expect(new HealthReport(health).legacy().status).toBe('unhealthy');
    expect(new HealthReport(health).detailed().status).toBe('unhealthy');
  });

  it('should report no cache when none is bound', () => {
    const detailed = new HealthReport(health).detailed();
    expect(detailed.cache).toEqual({ store: 'none', healthy: true });
    expect(Object.keys(detailed.providers)).toEqual(['ollama', 'groq', 'together']);
  });

  it("should report the bound cache's state when one is bound", () => {
    const report = new HealthReport(health, { state: () => ({ store: 'redis', healthy: false }) });
    expect(report.detailed().cache).toEqual({ store: 'redis', healthy: false });
  });
});

describe(ProviderHealthIndicator.name, () => {
  let registry: ProviderRegistry;
  let health: ProviderHealthCache;
  let readiness: ReadinessState;
  let indicator: ProviderHealthIndicator;

  beforeEach(() => {
    const options = resolveOptions({});
    registry = new ProviderRegistry(options);
    health = new ProviderHealthCache(options, registry, new NoopLlmMetrics(), systemClock);
    readiness = new ReadinessState();
    indicator = new ProviderHealthIndicator(new HealthIndicatorService(), health, readiness);
  });
  afterEach(() => registry.onApplicationShutdown());

  it('should be down while starting and while shutting down, up when ready', () => {
    expect(indicator.gateway()).toEqual({ gateway: { status: 'down', phase: 'starting' } });
    readiness.markReady();
    expect(indicator.gateway()).toEqual({ gateway: { status: 'up', phase: 'ready' } });
    readiness.markShuttingDown();
    expect(indicator.gateway()).toEqual({ gateway: { status: 'down', phase: 'shutting_down' } });
  });

  it('should stay up with the breaker state when every provider is down', () => {
    health.recordFailure('ollama', new UpstreamServerError('x', 'ollama'));
    health.recordFailure('ollama', new UpstreamServerError('x', 'ollama'));
    const result = indicator.providers();
    expect(result.providers.status).toBe('up');
    expect(result.providers.ollama).toMatchObject({ healthy: false, consecutive_failures: 2 });
  });
});
