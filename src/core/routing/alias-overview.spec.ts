import { Logger } from '@nestjs/common';
import { UpstreamServerError } from '../errors/upstream-errors';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { NoopLlmMetrics } from '../metrics/llm-metrics';
import { ProviderRegistry } from '../providers/provider-registry';
import { resolveOptions } from '../resolve-options';
import { Clock } from '../tokens';
import { AliasCatalog } from './alias-catalog';
import { AliasOverview } from './alias-overview';

describe(AliasOverview.name, () => {
  const clock: Clock & { t: number } = { t: 0, now: () => clock.t };
  let registry: ProviderRegistry;
  let health: ProviderHealthCache;
  let overview: AliasOverview;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    const options = resolveOptions({
      groq: { apiKey: 'g' },
      breaker: { cooldownMs: 1000 },
      aliases: {
        inline: {
          'mana/a': { description: 'A', chain: ['openai/gpt-4o-mini', 'groq/llama', 'ollama/gemma3:4b'] },
          'mana/cloud-only': { chain: ['openai/gpt-4o-mini', 'together/x'] },
        },
      },
    });
    registry = new ProviderRegistry(options);
    health = new ProviderHealthCache(options, registry, new NoopLlmMetrics(), clock);
    overview = new AliasOverview(new AliasCatalog(options), health);
  });
  afterEach(() => registry.onApplicationShutdown());

  it('should resolve to the first configured and healthy entry', () => {
    expect(overview.list()).toEqual([
      {
        id: 'mana/a',
        description: 'A',
        chain: ['openai/gpt-4o-mini', 'groq/llama', 'ollama/gemma3:4b'],
        resolves_to: 'groq/llama',
      },
      {
        id: 'mana/cloud-only',
        description: '',
        chain: ['openai/gpt-4o-mini', 'together/x'],
        resolves_to: null,
      },
    ]);
  });

  it('should skip an unhealthy provider and come back to it when its cooldown is over', () => {
    health.recordFailure('groq', new UpstreamServerError('x', 'groq'));
    health.recordFailure('groq', new UpstreamServerError('x', 'groq'));
    expect(overview.list()[0].resolves_to).toBe('ollama/gemma3:4b');
    clock.t += 1000;
    expect(overview.list()[0].resolves_to).toBe('groq/llama');
  });
});
