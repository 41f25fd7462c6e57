import { Registry } from 'prom-client';
import { PrometheusLlmMetrics } from './prometheus-llm-metrics';
import { MAX_APP_LABELS, MAX_MODEL_LABELS } from './metric-definitions';

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const match = values.filter(
    (v) =>
      Object.keys(labels).every((k) => String(v.labels[k]) === labels[k]) &&
      ((v as { metricName?: string }).metricName ?? name) === name,
  );
  return match.reduce((sum, v) => sum + v.value, 0);
}

async function labelValues(registry: Registry, name: string, label: string): Promise<string[]> {
  const { values } = await registry.getSingleMetric(name)!.get();
  return [...new Set(values.map((v) => String(v.labels[label])))].sort();
}

const finished = {
  endpoint: '/v1/chat/completions',
  model: 'groq/llama-3.1-8b-instant',
  provider: 'groq',
  status: 200,
  app: 'notes',
  stream: true,
  durationSeconds: 1.5,
};

describe(PrometheusLlmMetrics.name, () => {
  let registry: Registry;
  let metrics: PrometheusLlmMetrics;

  beforeEach(() => {
    registry = new Registry();
    metrics = new PrometheusLlmMetrics(registry, (label) => label === 'openai/gpt-4o-mini');
  });

  it('should count a finished request under its route, model, provider, status and app', async () => {
    metrics.requestFinished(finished);
    metrics.requestFinished(finished);
    metrics.requestFinished({ ...finished, status: 503, model: 'none', provider: 'none' });
    const labels = { endpoint: '/v1/chat/completions', provider: 'groq', status: '200', app: 'notes' };
    expect(await value(registry, 'mana_llm_requests_total', labels)).toBe(2);
    expect(await value(registry, 'mana_llm_requests_total', { status: '503', model: 'none' })).toBe(1);
  });

  it('should observe the duration under endpoint, provider and stream when a request finishes', async () => {
    metrics.requestFinished(finished);
    metrics.requestFinished({ ...finished, stream: false, durationSeconds: 0.2 });
    const text = await registry.getSingleMetricAsString('mana_llm_request_duration_seconds');
    expect(text).toContain(
      'mana_llm_request_duration_seconds_count{endpoint="/v1/chat/completions",provider="groq",stream="true"} 1',
    );
    expect(text).toContain(
      'mana_llm_request_duration_seconds_bucket{le="0.25",endpoint="/v1/chat/completions",provider="groq",stream="false"} 1',
    );
    expect(text).toContain(
      'mana_llm_request_duration_seconds_sum{endpoint="/v1/chat/completions",provider="groq",stream="true"} 1.5',
    );
  });

  it('should add prompt and completion tokens separately when usage arrives', async () => {
    metrics.tokens('ollama', 'ollama/gemma3:1b', 'notes', 16, 22);
    metrics.tokens('ollama', 'ollama/gemma3:1b', 'notes', 4, 0);
    const base = { provider: 'ollama', model: 'ollama/gemma3:1b', app: 'notes' };
    expect(await value(registry, 'mana_llm_tokens_total', { ...base, type: 'prompt' })).toBe(20);
    expect(await value(registry, 'mana_llm_tokens_total', { ...base, type: 'completion' })).toBe(22);
  });

  it('should move the active streams gauge up and back to zero when streams open and close', async () => {
    metrics.streamOpened();
    metrics.streamOpened();
    expect(await value(registry, 'mana_llm_active_streams')).toBe(2);
    metrics.streamClosed();
    metrics.streamClosed();
    expect(await value(registry, 'mana_llm_active_streams')).toBe(0);
  });

  it('should start every cache result of both routes at zero when created', async () => {
    const text = await registry.getSingleMetricAsString('mana_llm_cache_requests_total');
    for (const endpoint of ['/v1/chat/completions', '/v1/embeddings'])
      for (const result of ['hit', 'miss', 'bypass', 'error'])
        expect(text).toContain(`mana_llm_cache_requests_total{endpoint="${endpoint}",result="${result}"} 0`);
    metrics.cacheResult('/v1/embeddings', 'hit');
    expect(
      await value(registry, 'mana_llm_cache_requests_total', { endpoint: '/v1/embeddings', result: 'hit' }),
    ).toBe(1);
  });

  it('should label a fallback with known entries and hide an unknown client model as other', async () => {
    metrics.fallback('openai/gpt-4o-mini', 'none', 'unconfigured');
    metrics.fallback('openai/made-up-by-a-caller', 'none', 'unconfigured');
    expect(
      await value(registry, 'mana_llm_fallback_total', {
        from_model: 'openai/gpt-4o-mini',
        to_model: 'none',
        reason: 'unconfigured',
      }),
    ).toBe(1);
    expect(await labelValues(registry, 'mana_llm_fallback_total', 'from_model')).toEqual([
      'openai/gpt-4o-mini',
      'other',
    ]);
  });

  it('should keep a fallback label when that model has answered before', async () => {
    metrics.requestFinished({ ...finished, model: 'ollama/qwen3:8b', provider: 'ollama' });
    metrics.fallback('ollama/qwen3:8b', 'none', 'UpstreamTimeoutError');
    expect(await labelValues(registry, 'mana_llm_fallback_total', 'from_model')).toEqual(['ollama/qwen3:8b']);
  });

  it('should cap the distinct model and app labels when callers vary them without end', async () => {
    for (let i = 0; i < MAX_MODEL_LABELS + 20; i++) metrics.timeToFirstToken('ollama', `ollama/m${i}`, 0.1);
    for (let i = 0; i < MAX_APP_LABELS + 20; i++) metrics.requestFinished({ ...finished, app: `app${i}` });
    const models = await labelValues(registry, 'mana_llm_time_to_first_token_seconds', 'model');
    const apps = await labelValues(registry, 'mana_llm_requests_total', 'app');
    expect(models).toHaveLength(MAX_MODEL_LABELS + 1);
    expect(models).toContain('other');
    expect(apps).toHaveLength(MAX_APP_LABELS + 1);
    expect(apps).toContain('other');
    expect(await value(registry, 'mana_llm_requests_total', { app: 'other' })).toBe(20);
  });

  it('should count alias resolutions per alias and target', async () => {
    metrics.aliasResolved('mana/fast-text', 'ollama/gemma3:4b');
    metrics.aliasResolved('mana/fast-text', 'ollama/gemma3:4b');
    expect(
      await value(registry, 'mana_llm_alias_resolved_total', {
        alias: 'mana/fast-text',
        target: 'ollama/gemma3:4b',
      }),
    ).toBe(2);
  });

  it('should keep two instances apart when each has its own registry', async () => {
    const other = new Registry();
    const second = new PrometheusLlmMetrics(other);
    second.requestFinished(finished);
    expect(await value(other, 'mana_llm_requests_total')).toBe(1);
    expect(await value(registry, 'mana_llm_requests_total')).toBe(0);
  });
});
