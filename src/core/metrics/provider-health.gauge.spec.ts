import { Registry } from 'prom-client';
import { UpstreamServerError } from '../errors/upstream-errors';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { ProviderAdapter } from '../providers/provider-adapter';
import { resolveOptions } from '../resolve-options';
import { Clock } from '../tokens';
import { NoopLlmMetrics } from './llm-metrics';
import { ProviderHealthGauge } from './provider-health.gauge';

describe(ProviderHealthGauge.name, () => {
  let now: number;
  let registry: Registry;
  let health: ProviderHealthCache;

  beforeEach(() => {
    now = 1_000_000;
    const clock: Clock = { now: () => now };
    const options = resolveOptions({ breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    const providers = { configured: () => [{ name: 'ollama' }, { name: 'groq' }] as ProviderAdapter[] };
    health = new ProviderHealthCache(options, providers, new NoopLlmMetrics(), clock);
    registry = new Registry();
    new ProviderHealthGauge(registry, health);
  });

  const scrape = () => registry.getSingleMetricAsString('mana_llm_provider_healthy');

  it('should show every configured provider as 1 when nothing failed', async () => {
    const text = await scrape();
    expect(text).toContain('mana_llm_provider_healthy{provider="ollama"} 1');
    expect(text).toContain('mana_llm_provider_healthy{provider="groq"} 1');
  });

  it('should show 0 while the breaker is open and 1 again once the cooldown ended', async () => {
    health.recordFailure('groq', new UpstreamServerError('boom', 'groq'));
    expect(await scrape()).toContain('mana_llm_provider_healthy{provider="groq"} 1');
    health.recordFailure('groq', new UpstreamServerError('boom', 'groq'));
    expect(await scrape()).toContain('mana_llm_provider_healthy{provider="groq"} 0');
    expect(await scrape()).toContain('mana_llm_provider_healthy{provider="ollama"} 1');
    now += 60_000;
    expect(await scrape()).toContain('mana_llm_provider_healthy{provider="groq"} 1');
  });
});
