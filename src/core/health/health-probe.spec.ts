import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { createServer } from 'node:net';
import { Observable } from 'rxjs';
import { UpstreamAuthError, UpstreamBadRequestError, UpstreamServerError } from '../errors/upstream-errors';
import { ManaLlmOptions } from '../mana-llm.options';
import { NoopLlmMetrics } from '../metrics/llm-metrics';
import { ChatCompletion, ChatCompletionChunk } from '../openai/chat-completion.types';
import { OllamaAdapter } from '../providers/ollama/ollama.adapter';
import { EmbeddingResult, ProviderAdapter, ProviderName, UpstreamModel } from '../providers/provider-adapter';
import { ProviderRegistry } from '../providers/provider-registry';
import { resolveOptions } from '../resolve-options';
import { systemClock } from '../tokens';
import { HealthProbe } from './health-probe';
import { ProviderHealthCache } from './provider-health.cache';

/** An adapter whose probe does what the test says; nothing else may be called. */
class ScriptedAdapter implements ProviderAdapter {
  probes = 0;
  constructor(
    readonly name: ProviderName,
    private readonly script: (n: number) => Promise<void>,
  ) {}
  probe(): Promise<void> {
    return this.script(++this.probes);
  }
  chat(): Promise<ChatCompletion> {
    throw new Error('not used');
  }
  chatStream(): Observable<ChatCompletionChunk> {
    throw new Error('not used');
  }
  embed(): Promise<EmbeddingResult> {
    throw new Error('not used');
  }
  listModels(): Promise<UpstreamModel[]> {
    throw new Error('not used');
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const until = async (check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const flush = () => new Promise((r) => setImmediate(r));

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe(HealthProbe.name, () => {
  let registry: ProviderRegistry;
  let health: ProviderHealthCache;
  let scheduler: SchedulerRegistry;
  const probes: HealthProbe[] = [];

  function setup(adapters: ProviderAdapter[], probe: ManaLlmOptions['probe'] = {}): HealthProbe {
    const options = resolveOptions({
      groq: { apiKey: 'g' },
      probe: { intervalMs: 60_000, timeoutMs: 1000, ...probe },
    });
    registry = new ProviderRegistry(options);
    health = new ProviderHealthCache(options, registry, new NoopLlmMetrics(), systemClock);
    scheduler = new SchedulerRegistry();
    const healthProbe = new HealthProbe(
      options,
      { configured: () => adapters },
      health,
      scheduler,
      systemClock,
    );
    probes.push(healthProbe);
    return healthProbe;
  }

  beforeAll(() => Logger.overrideLogger(false));
  afterEach(async () => {
    for (const p of probes.splice(0)) p.onApplicationShutdown();
    await registry.onApplicationShutdown();
  });

  it('should not start a second round when the previous one is still running', async () => {
    const gate = deferred();
    const slow = new ScriptedAdapter('ollama', () => gate.promise);
    const probe = setup([slow]);
    const first = probe.tick();
    await flush();
    const second = probe.tick();
    await flush();
    expect(second).toBe(first);
    expect(slow.probes).toBe(1);
    gate.resolve();
    await first;
    await probe.tick();
    expect(slow.probes).toBe(2);
  });

  it('should probe every provider concurrently when a round starts', async () => {
    const gates = [deferred(), deferred()];
    const ollama = new ScriptedAdapter('ollama', () => gates[0].promise);
    const groq = new ScriptedAdapter('groq', () => gates[1].promise);
    const round = setup([ollama, groq]).tick();
    await flush();
    expect([ollama.probes, groq.probes]).toEqual([1, 1]);
    gates.forEach((g) => g.resolve());
    await round;
    expect(health.snapshot().ollama.last_checked).not.toBeNull();
    expect(health.snapshot().groq.latency_ms).not.toBeNull();
  });

  it('should count a throwing probe as a failure and keep probing the others when a probe throws', async () => {
    const thrower = new ScriptedAdapter('ollama', () => {
      throw new Error('adapter bug');
    });
    const fine = new ScriptedAdapter('groq', () => Promise.resolve());
    const probe = setup([thrower, fine]);
    await expect(probe.tick()).resolves.toBeUndefined();
    await probe.tick();
    expect(health.snapshot().ollama).toMatchObject({
      healthy: false,
      consecutive_failures: 2,
      last_error: 'UpstreamConnectionError: ollama probe failed: adapter bug',
    });
    expect(health.snapshot().groq).toMatchObject({ healthy: true, consecutive_failures: 0 });
  });

  it('should mark a provider healthy again when a probe succeeds after failures', async () => {
    const flaky = new ScriptedAdapter('groq', (n) =>
      n <= 2 ? Promise.reject(new UpstreamServerError('502', 'groq')) : Promise.resolve(),
    );
    const probe = setup([flaky]);
    await probe.tick();
    await probe.tick();
    expect(health.isAvailable('groq')).toBe(false);
    await probe.tick();
    expect(health.snapshot().groq).toMatchObject({
      healthy: true,
      consecutive_failures: 0,
      last_error: null,
    });
  });

  it('should count a refused provider key as a failure', async () => {
    const denied = new ScriptedAdapter('groq', () => Promise.reject(new UpstreamAuthError('401', 'groq')));
    const probe = setup([denied]);
    await probe.tick();
    expect(health.snapshot().groq.consecutive_failures).toBe(1);
  });

  it('should leave the breaker alone when the probe endpoint answers another 4xx', async () => {
    const noModels = new ScriptedAdapter('groq', () =>
      Promise.reject(new UpstreamBadRequestError('not found', 'groq', 404)),
    );
    const probe = setup([noModels]);
    health.recordFailure('groq', new UpstreamServerError('earlier', 'groq'));
    await probe.tick();
    await probe.tick();
    expect(health.snapshot().groq).toMatchObject({ healthy: true, consecutive_failures: 1 });
  });

  it('should give up on a probe that ignores its timeout when the guard runs out', async () => {
    const hung = new ScriptedAdapter('ollama', () => new Promise<void>(() => undefined));
    const probe = setup([hung], { timeoutMs: 50 });
    await probe.tick();
    expect(health.snapshot().ollama.last_error).toBe(
      'UpstreamTimeoutError: ollama probe did not answer in 50 ms',
    );
  });

  it('should mark a dead Ollama unhealthy when two probes find nothing listening', async () => {
    const ollama = new OllamaAdapter({
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      timeoutMs: 1000,
      defaults: {},
    });
    const probe = setup([ollama], { timeoutMs: 1000 });
    await probe.tick();
    await probe.tick();
    await ollama.close();
    expect(health.snapshot().ollama).toMatchObject({ healthy: false, consecutive_failures: 2 });
    expect(health.snapshot().ollama.last_error).toMatch(/^UpstreamConnectionError: ollama is unreachable/);
  });

  it('should run on its interval and keep running when rounds throw, until shutdown', async () => {
    const thrower = new ScriptedAdapter('ollama', () => {
      throw new Error('always');
    });
    const probe = setup([thrower], { intervalMs: 15 });
    probe.onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual(['mana-llm:health-probe']);
    await until(() => thrower.probes >= 3);
    probe.beforeApplicationShutdown();
    expect(scheduler.getIntervals()).toEqual([]);
    const after = thrower.probes;
    await new Promise((r) => setTimeout(r, 80));
    expect(thrower.probes).toBe(after);
  });

  it('should pick a free interval name when the registry already has one', () => {
    const probe = setup([], { intervalMs: 1000 });
    const existing = setInterval(() => undefined, 1000);
    scheduler.addInterval('mana-llm:health-probe', existing);
    probe.onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual(['mana-llm:health-probe', 'mana-llm:health-probe:2']);
    scheduler.deleteInterval('mana-llm:health-probe');
  });

  it('should register nothing when probing is disabled', () => {
    const probe = setup([], { enabled: false });
    probe.onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual([]);
  });
});
