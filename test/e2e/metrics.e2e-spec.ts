import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, fixtureHeaders, ndjsonLines, sseEvents } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { Scrape } from '../support/metrics-text';
import { rawRequest } from '../support/sse-client';

const CHAT = '/v1/chat/completions';
const ALIASES = `aliases:
  mana/fast:
    description: groq first, local last
    chain: [groq/llama-3.1-8b-instant, ollama/gemma3:1b]
  mana/cloud-first:
    description: an unconfigured provider first
    chain: [openai/gpt-4o-mini, ollama/gemma3:1b]
`;

/** Polls `/metrics` until `check` passes (the gateway records some values after the response ended). */
async function eventually(url: string, check: (s: Scrape) => void, timeoutMs = 3000): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const scrape = await Scrape.of(url);
    try {
      check(scrape);
      return scrape;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describe('metrics (GET /metrics after real traffic)', () => {
  let ollama: FakeUpstream;
  let groq: FakeUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    ollama = await FakeUpstream.start();
    groq = await FakeUpstream.start();
    const dir = mkdtempSync(join(tmpdir(), 'mana-llm-metrics-'));
    writeFileSync(join(dir, 'aliases.yaml'), ALIASES);
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_metricstestkey123',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      ALIASES_PATH: join(dir, 'aliases.yaml'),
      CIRCUIT_FAILURE_THRESHOLD: '1000',
      HEALTH_PROBE_INTERVAL: '600',
    });
  });
  afterAll(async () => {
    await gateway.close();
    await ollama.close();
    await groq.close();
  });

  it('should serve the text exposition with every SPEC series and the process metrics', async () => {
    const res = await rawRequest(`${gateway.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const types = [...res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(types).toEqual(
      expect.arrayContaining([
        'mana_llm_requests_total counter',
        'mana_llm_request_duration_seconds histogram',
        'mana_llm_time_to_first_token_seconds histogram',
        'mana_llm_tokens_total counter',
        'mana_llm_cache_requests_total counter',
        'mana_llm_active_streams gauge',
        'mana_llm_alias_resolved_total counter',
        'mana_llm_fallback_total counter',
        'mana_llm_provider_healthy gauge',
        'process_cpu_seconds_total counter',
        'process_resident_memory_bytes gauge',
        'nodejs_eventloop_lag_p99_seconds gauge',
        'nodejs_heap_size_used_bytes gauge',
      ]),
    );
    const scrape = new Scrape(res.body);
    expect(scrape.value('mana_llm_provider_healthy', { provider: 'ollama' })).toBe(1);
    expect(scrape.value('mana_llm_provider_healthy', { provider: 'groq' })).toBe(1);
    expect(scrape.find('mana_llm_provider_healthy', { provider: 'openai' })).toEqual([]);
  });

  it('should move the token counters by the usage of an Ollama stream and record its first token', async () => {
    ollama.on('POST', '/api/chat', {
      headers: { 'content-type': 'application/x-ndjson' },
      pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
    });
    const before = await Scrape.of(gateway.url);
    const res = await rawRequest(`${gateway.url}${CHAT}`, {
      headers: { 'x-mana-app': 'notes' },
      body: { model: 'ollama/gemma3:1b', stream: true, messages: [{ role: 'user', content: 'Count' }] },
    });
    expect(res.status).toBe(200);
    const tokens = { provider: 'ollama', model: 'ollama/gemma3:1b', app: 'notes' };
    const after = await eventually(gateway.url, (s) => expect(s.value('mana_llm_active_streams')).toBe(0));
    const delta = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    // Fixture usage: prompt_eval_count 16, eval_count 22.
    expect(delta('mana_llm_tokens_total', { ...tokens, type: 'prompt' })).toBe(16);
    expect(delta('mana_llm_tokens_total', { ...tokens, type: 'completion' })).toBe(22);
    expect(
      delta('mana_llm_requests_total', {
        endpoint: CHAT,
        model: 'ollama/gemma3:1b',
        provider: 'ollama',
        status: '200',
        app: 'notes',
      }),
    ).toBe(1);
    expect(
      delta('mana_llm_time_to_first_token_seconds_count', { provider: 'ollama', model: 'ollama/gemma3:1b' }),
    ).toBe(1);
    expect(
      delta('mana_llm_request_duration_seconds_count', {
        endpoint: CHAT,
        provider: 'ollama',
        stream: 'true',
      }),
    ).toBe(1);
    expect(after.find('mana_llm_active_streams')).toHaveLength(1);
  });

  it('should count the usage of a Groq stream when the caller did not ask for it, under app unknown', async () => {
    groq.on('POST', '/openai/v1/chat/completions', {
      headers: { 'content-type': 'text/event-stream' },
      pieces: sseEvents(fixture('groq/chat_stream_text.response.sse')),
    });
    const before = await Scrape.of(gateway.url);
    const res = await rawRequest(`${gateway.url}${CHAT}`, {
      headers: { 'x-mana-app': 'Not A Valid App!' },
      body: { model: 'groq/llama-3.1-8b-instant', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(res.status).toBe(200);
    expect(res.body).not.toContain('"usage":{');
    const after = await eventually(gateway.url, (s) => expect(s.value('mana_llm_active_streams')).toBe(0));
    const labels = { provider: 'groq', model: 'groq/llama-3.1-8b-instant', app: 'unknown' };
    // Fixture usage (x_groq.usage on the finish chunk): prompt 339, completion 58.
    expect(
      after.value('mana_llm_tokens_total', { ...labels, type: 'prompt' }) -
        before.value('mana_llm_tokens_total', { ...labels, type: 'prompt' }),
    ).toBe(339);
    expect(
      after.value('mana_llm_tokens_total', { ...labels, type: 'completion' }) -
        before.value('mana_llm_tokens_total', { ...labels, type: 'completion' }),
    ).toBe(58);
    expect(after.find('mana_llm_requests_total', { app: 'Not A Valid App!' })).toEqual([]);
  });

  it('should count a non-streamed answer with its usage and a stream=false duration', async () => {
    groq.on('POST', '/openai/v1/chat/completions', { body: fixture('groq/chat_nonstream.response.json') });
    const before = await Scrape.of(gateway.url);
    const res = await rawRequest(`${gateway.url}${CHAT}`, {
      headers: { 'x-mana-app': 'billing' },
      body: {
        model: 'groq/llama-3.1-8b-instant',
        messages: [{ role: 'user', content: 'Capital of France?' }],
      },
    });
    expect(res.status).toBe(200);
    const after = await Scrape.of(gateway.url);
    const d = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    const t = { provider: 'groq', model: 'groq/llama-3.1-8b-instant', app: 'billing' };
    expect(d('mana_llm_tokens_total', { ...t, type: 'prompt' })).toBe(48);
    expect(d('mana_llm_tokens_total', { ...t, type: 'completion' })).toBe(8);
    expect(
      d('mana_llm_request_duration_seconds_count', { endpoint: CHAT, provider: 'groq', stream: 'false' }),
    ).toBe(1);
    expect(d('mana_llm_requests_total', { endpoint: CHAT, status: '200', app: 'billing' })).toBe(1);
  });

  it('should add one fallback with from, to and reason and one alias resolution when groq is rate limited', async () => {
    const limited = fixtureHeaders('groq/error_429_rate_limit.headers.txt');
    groq.on('POST', '/openai/v1/chat/completions', {
      status: limited.status,
      headers: limited.headers,
      body: fixture('groq/error_429_rate_limit.json'),
    });
    ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
    const before = await Scrape.of(gateway.url);
    const res = await rawRequest(`${gateway.url}${CHAT}`, {
      headers: { 'x-mana-app': 'notes' },
      body: { model: 'mana/fast', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-mana-llm-resolved']).toBe('ollama/gemma3:1b');
    const after = await Scrape.of(gateway.url);
    const d = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    const fallback = {
      from_model: 'groq/llama-3.1-8b-instant',
      to_model: 'ollama/gemma3:1b',
      reason: 'UpstreamRateLimitError',
    };
    expect(d('mana_llm_fallback_total', fallback)).toBe(1);
    expect(d('mana_llm_fallback_total', {})).toBe(1);
    expect(d('mana_llm_alias_resolved_total', { alias: 'mana/fast', target: 'ollama/gemma3:1b' })).toBe(1);
    expect(
      d('mana_llm_requests_total', {
        model: 'ollama/gemma3:1b',
        provider: 'ollama',
        status: '200',
        app: 'notes',
      }),
    ).toBe(1);
    // Fixture usage: prompt_eval_count 26, eval_count 298.
    expect(d('mana_llm_tokens_total', { model: 'ollama/gemma3:1b', type: 'completion', app: 'notes' })).toBe(
      298,
    );
  });

  it('should record an unconfigured skip as a fallback to the next entry', async () => {
    ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
    const before = await Scrape.of(gateway.url);
    const res = await rawRequest(`${gateway.url}${CHAT}`, {
      body: { model: 'mana/cloud-first', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(res.status).toBe(200);
    const after = await Scrape.of(gateway.url);
    const labels = { from_model: 'openai/gpt-4o-mini', to_model: 'ollama/gemma3:1b', reason: 'unconfigured' };
    expect(
      after.value('mana_llm_fallback_total', labels) - before.value('mana_llm_fallback_total', labels),
    ).toBe(1);
  });

  it('should never turn a caller-invented model into a label when it was not answered', async () => {
    ollama.on('POST', '/api/chat', { status: 404, body: fixture('ollama/error_404_model_not_found.json') });
    const before = await Scrape.of(gateway.url);
    const skipped = await rawRequest(`${gateway.url}${CHAT}`, {
      headers: { 'x-mana-app': 'notes' },
      body: { model: 'openai/caller-invention-1', messages: [{ role: 'user', content: 'hi' }] },
    });
    const unknown = await rawRequest(`${gateway.url}${CHAT}`, {
      headers: { 'x-mana-app': 'notes' },
      body: { model: 'ollama/caller-invention-2', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(skipped.status).toBe(503);
    expect(unknown.status).toBe(404);
    const after = await Scrape.of(gateway.url);
    expect(after.text).not.toContain('caller-invention');
    const d = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    expect(
      d('mana_llm_fallback_total', { from_model: 'other', to_model: 'none', reason: 'unconfigured' }),
    ).toBe(1);
    expect(d('mana_llm_requests_total', { model: 'none', status: '503', app: 'notes' })).toBe(1);
    expect(
      d('mana_llm_requests_total', { model: 'none', provider: 'ollama', status: '404', app: 'notes' }),
    ).toBe(1);
  });

  it('should label a request rejected before routing with provider and model none', async () => {
    const before = await Scrape.of(gateway.url);
    const res = await rawRequest(`${gateway.url}${CHAT}`, {
      headers: { 'x-mana-app': 'notes' },
      body: { model: 'ollama/gemma3:1b', messages: 'not a list' },
    });
    expect(res.status).toBe(400);
    const after = await Scrape.of(gateway.url);
    const labels = { endpoint: CHAT, model: 'none', provider: 'none', status: '400', app: 'notes' };
    expect(
      after.value('mana_llm_requests_total', labels) - before.value('mana_llm_requests_total', labels),
    ).toBe(1);
  });

  it('should bring active streams back to 0 and count 499 when the caller leaves before the first token', async () => {
    ollama.on('POST', '/api/chat', { hang: true });
    const before = await Scrape.of(gateway.url);
    const aborted = ollama.aborted.length;
    await new Promise<void>((resolve) => {
      const req = request(`${gateway.url}${CHAT}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      req.on('error', () => resolve());
      req.end(
        JSON.stringify({
          model: 'ollama/gemma3:1b',
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      );
      // Once the gateway holds the upstream request open, the stream is active: then leave.
      const poll = setInterval(() => {
        if (ollama.requests.length > 0 && ollama.requests[ollama.requests.length - 1].path === '/api/chat') {
          void Scrape.of(gateway.url).then((s) => {
            if (s.value('mana_llm_active_streams') === 1) {
              clearInterval(poll);
              req.destroy();
              resolve();
            }
          });
        }
      }, 20);
    });
    await ollama.waitForAborts(aborted + 1);
    const after = await eventually(gateway.url, (s) => {
      expect(s.value('mana_llm_active_streams')).toBe(0);
      expect(
        s.value('mana_llm_requests_total', { status: '499' }) -
          before.value('mana_llm_requests_total', { status: '499' }),
      ).toBe(1);
    });
    expect(after.value('mana_llm_requests_total', { status: '499', model: 'none' })).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('should count the prompt tokens of an embeddings request under its route', async () => {
    ollama.on('POST', '/api/embed', { body: fixture('ollama/embed.response.json') });
    const before = await Scrape.of(gateway.url);
    const res = await rawRequest(`${gateway.url}/v1/embeddings`, {
      headers: { 'x-mana-app': 'search' },
      body: { model: 'ollama/nomic-embed-text', input: 'hello' },
    });
    expect(res.status).toBe(200);
    const after = await Scrape.of(gateway.url);
    const d = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    const labels = { provider: 'ollama', model: 'ollama/nomic-embed-text', app: 'search' };
    expect(d('mana_llm_tokens_total', { ...labels, type: 'prompt' })).toBe(2);
    expect(d('mana_llm_requests_total', { endpoint: '/v1/embeddings', status: '200', app: 'search' })).toBe(
      1,
    );
    expect(
      d('mana_llm_request_duration_seconds_count', {
        endpoint: '/v1/embeddings',
        provider: 'ollama',
        stream: 'false',
      }),
    ).toBe(1);
  });
});

describe('metrics of a second gateway in the same process', () => {
  let groq: FakeUpstream;
  let ollama: FakeUpstream;
  let first: RunningGateway;
  let second: RunningGateway;

  beforeAll(async () => {
    groq = await FakeUpstream.start();
    ollama = await FakeUpstream.start();
    const env = {
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_secondgatewaykey1',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      CIRCUIT_FAILURE_THRESHOLD: '1',
      CIRCUIT_COOLDOWN: '0.4',
      HEALTH_PROBE_INTERVAL: '600',
    };
    first = await startGateway(env);
    second = await startGateway(env);
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await groq.close();
    await ollama.close();
  });

  it('should keep each gateway its own registry when two run in one process', async () => {
    ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
    const res = await rawRequest(`${first.url}${CHAT}`, {
      headers: { 'x-mana-app': 'only-first' },
      body: { model: 'ollama/gemma3:1b', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(res.status).toBe(200);
    expect((await Scrape.of(first.url)).value('mana_llm_requests_total', { app: 'only-first' })).toBe(1);
    const other = await Scrape.of(second.url);
    expect(other.find('mana_llm_requests_total')).toEqual([]);
    expect(other.find('process_resident_memory_bytes')).toHaveLength(1);
  });

  it('should show a provider 0 while its breaker is open and 1 again when the cooldown ended', async () => {
    groq.on('POST', '/openai/v1/chat/completions', {
      status: 500,
      body: fixture('openai/error_500_server_error.json'),
    });
    const res = await rawRequest(`${second.url}${CHAT}`, {
      body: { model: 'groq/llama-3.1-8b-instant', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(res.status).toBe(502);
    const down = await Scrape.of(second.url);
    expect(down.value('mana_llm_provider_healthy', { provider: 'groq' })).toBe(0);
    expect(down.value('mana_llm_provider_healthy', { provider: 'ollama' })).toBe(1);
    expect((await Scrape.of(first.url)).value('mana_llm_provider_healthy', { provider: 'groq' })).toBe(1);
    // No call and no probe: the cooldown alone makes it routable again.
    await eventually(
      second.url,
      (s) => expect(s.value('mana_llm_provider_healthy', { provider: 'groq' })).toBe(1),
      3000,
    );
  });
});
