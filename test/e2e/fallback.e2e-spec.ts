import { FakeUpstream } from '../support/fake-upstream';
import { fixture } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { parseSamples } from '../support/metrics-text';
import { rawRequest } from '../support/sse-client';
import { AliasesFile, chatBody, closedPort, env, GROQ_PATH, OPENAI_PATH, replies } from './fallback.harness';

const GROQ = 'groq/llama-3.3-70b-versatile';
const OPENAI = 'openai/gpt-4o-mini';
const OLLAMA = 'ollama/llama3.2';

const ALIASES = `aliases:
  mana/chat:
    description: groq, then openai, then the local model
    chain: [${GROQ}, ${OPENAI}, ${OLLAMA}]
  mana/cloud-first:
    chain: [together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo, ${GROQ}, ${OPENAI}]
  mana/local-first:
    chain: [${OLLAMA}, ${OPENAI}]
  mana/embed:
    chain: [openai/text-embedding-3-small, ollama/nomic-embed-text]
`;

interface ErrorBody {
  error: {
    message: string;
    type: string;
    code: string | null;
    attempts?: { model: string; reason: string }[];
  };
}

describe('fallback (JSON)', () => {
  let groq: FakeUpstream;
  let openai: FakeUpstream;
  let ollama: FakeUpstream;
  let aliases: AliasesFile;
  let gateway: RunningGateway | undefined;

  const boot = async (extra: Record<string, string> = {}) => {
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      ...env.groq(groq),
      ...env.openai(openai),
      ALIASES_PATH: aliases.path,
      ...extra,
    });
    return gateway;
  };
  const chat = (model: string) =>
    rawRequest(`${gateway!.url}/v1/chat/completions`, { body: chatBody(model) });

  beforeEach(async () => {
    [groq, openai, ollama] = await Promise.all([
      FakeUpstream.start(),
      FakeUpstream.start(),
      FakeUpstream.start(),
    ]);
    openai.on('POST', OPENAI_PATH, replies.openaiJson());
    ollama.on('POST', '/api/chat', replies.ollamaJson());
    aliases = new AliasesFile(ALIASES);
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await Promise.all([groq.close(), openai.close(), ollama.close()]);
    aliases.remove();
  });

  const expectOpenAiAnswered = (res: { status: number; headers: Record<string, unknown>; body: string }) => {
    expect(res.status).toBe(200);
    expect(res.headers['x-mana-llm-resolved']).toBe(OPENAI);
    const body = JSON.parse(res.body) as { model: string; choices: { message: { content: string } }[] };
    expect(body.model).toBe(OPENAI);
    expect(body.choices[0].message.content).toBe(
      "Hello! I'm just a computer program, so I don't have feelings, but I'm here to help you. How can I assist you today?",
    );
    expect(openai.calls(OPENAI_PATH)).toHaveLength(1);
    expect(ollama.calls('/api/chat')).toHaveLength(0);
  };

  it('should answer from the next entry when the primary answers 500', async () => {
    groq.on('POST', GROQ_PATH, replies.openai500());
    await boot();
    expectOpenAiAnswered(await chat('mana/chat'));
    expect(groq.calls(GROQ_PATH)).toHaveLength(1);
    expect(openai.calls(OPENAI_PATH)[0].json().model).toBe('gpt-4o-mini');
  });

  it('should answer from the next entry when the primary answers 429', async () => {
    groq.on('POST', GROQ_PATH, replies.groq429());
    await boot();
    expectOpenAiAnswered(await chat('mana/chat'));
    expect(groq.calls(GROQ_PATH)).toHaveLength(1);
  });

  it('should answer from the next entry when the primary refuses the connection', async () => {
    await boot(env.groq(`http://127.0.0.1:${await closedPort()}`));
    expectOpenAiAnswered(await chat('mana/chat'));
  });

  it('should answer from the next entry when the primary times out', async () => {
    groq.on('POST', GROQ_PATH, { hang: true });
    await boot({ PROVIDER_TIMEOUT: '0.3' });
    expectOpenAiAnswered(await chat('mana/chat'));
    expect(groq.calls(GROQ_PATH)).toHaveLength(1);
  });

  it('should return a primary 400 at once and never call the next entry', async () => {
    groq.on('POST', GROQ_PATH, replies.openai400());
    await boot();
    const res = await chat('mana/chat');
    expect(res.status).toBe(400);
    expect(res.headers['x-mana-llm-resolved']).toBeUndefined();
    const body = JSON.parse(res.body) as ErrorBody;
    expect(body.error.message).toBe(
      "Unsupported value: 'messages[0].role' does not support 'developer' with this model.",
    );
    expect(body.error.attempts).toBeUndefined();
    expect(openai.calls(OPENAI_PATH)).toHaveLength(0);
    expect(ollama.calls('/api/chat')).toHaveLength(0);
  });

  it('should answer 503 with every attempt in order when every entry fails', async () => {
    groq.on('POST', GROQ_PATH, replies.openai500());
    openai.on('POST', OPENAI_PATH, { status: 429, body: fixture('openai/error_429_rate_limit.json') });
    await boot({ OLLAMA_URL: `http://127.0.0.1:${await closedPort()}` });
    const res = await chat('mana/chat');
    expect(res.status).toBe(503);
    const body = JSON.parse(res.body) as ErrorBody;
    expect(body.error.type).toBe('upstream_error');
    expect(body.error.code).toBe('all_providers_failed');
    expect(body.error.attempts).toEqual([
      { model: GROQ, reason: 'UpstreamServerError' },
      { model: OPENAI, reason: 'UpstreamRateLimitError' },
      { model: OLLAMA, reason: 'UpstreamConnectionError' },
    ]);
  });

  it('should skip an unconfigured provider and name it in the attempts', async () => {
    groq.on('POST', GROQ_PATH, replies.openai500());
    openai.on('POST', OPENAI_PATH, replies.openai500());
    await boot();
    const res = await chat('mana/cloud-first');
    expect(res.status).toBe(503);
    expect((JSON.parse(res.body) as ErrorBody).error.attempts).toEqual([
      { model: 'together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo', reason: 'unconfigured' },
      { model: GROQ, reason: 'UpstreamServerError' },
      { model: OPENAI, reason: 'UpstreamServerError' },
    ]);
  });

  it('should skip the primary without calling it after two failures, and try it again after the cooldown', async () => {
    groq.on('POST', GROQ_PATH, replies.openai500(), replies.openai500(), replies.groqJson());
    await boot({ CIRCUIT_COOLDOWN: '0.3' });
    expectOpenAiAnswered(await chat('mana/chat'));
    await chat('mana/chat');
    expect(groq.calls(GROQ_PATH)).toHaveLength(2);

    openai.on('POST', OPENAI_PATH, replies.openai500());
    const skipped = await chat('mana/chat');
    expect(groq.calls(GROQ_PATH)).toHaveLength(2);
    expect(skipped.headers['x-mana-llm-resolved']).toBe(OLLAMA);

    await new Promise((r) => setTimeout(r, 350));
    const again = await chat('mana/chat');
    expect(groq.calls(GROQ_PATH)).toHaveLength(3);
    expect(again.headers['x-mana-llm-resolved']).toBe(GROQ);
    expect((JSON.parse(again.body) as { model: string }).model).toBe(GROQ);
  });

  it('should name the skipped primary cache-unhealthy when the whole chain then fails', async () => {
    groq.on('POST', GROQ_PATH, replies.openai500());
    openai.on('POST', OPENAI_PATH, replies.openai500());
    ollama.on('POST', '/api/chat', { status: 500, body: fixture('ollama/error_generic.json') });
    await boot();
    await chat('mana/chat');
    await chat('mana/chat');
    const res = await chat('mana/chat');
    expect(res.status).toBe(503);
    expect((JSON.parse(res.body) as ErrorBody).error.attempts).toEqual([
      { model: GROQ, reason: 'cache-unhealthy' },
      { model: OPENAI, reason: 'cache-unhealthy' },
      { model: OLLAMA, reason: 'cache-unhealthy' },
    ]);
    expect(groq.calls(GROQ_PATH)).toHaveLength(2);
  });

  it("should fall through on Ollama's 503 busy without opening its breaker", async () => {
    ollama.on('POST', '/api/chat', replies.ollamaBusy());
    await boot();
    for (let i = 0; i < 3; i++) {
      const res = await chat('mana/local-first');
      expect(res.headers['x-mana-llm-resolved']).toBe(OPENAI);
    }
    expect(ollama.calls('/api/chat')).toHaveLength(3);
    const health = JSON.parse((await rawRequest(`${gateway!.url}/v1/health`)).body) as {
      providers: Record<string, { healthy: boolean; consecutive_failures: number }>;
    };
    expect(health.providers.ollama).toMatchObject({ healthy: true, consecutive_failures: 0 });
  });

  it('should count fallbacks and alias resolutions with the SPEC labels', async () => {
    groq.on('POST', GROQ_PATH, replies.openai500());
    await boot();
    await chat('mana/chat');
    const samples = parseSamples((await rawRequest(`${gateway!.url}/metrics`)).body);
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;
    expect(
      value('mana_llm_fallback_total', { from_model: GROQ, to_model: OPENAI, reason: 'UpstreamServerError' }),
    ).toBe(1);
    expect(value('mana_llm_alias_resolved_total', { alias: 'mana/chat', target: OPENAI })).toBe(1);
    expect(value('mana_llm_provider_healthy', { provider: 'groq' })).toBe(1);
  });

  it('should fall back for embeddings too', async () => {
    openai.on('POST', '/v1/embeddings', replies.openai500());
    ollama.on('POST', '/api/embed', { status: 200, body: fixture('ollama/embed.response.json') });
    await boot();
    const res = await rawRequest(`${gateway!.url}/v1/embeddings`, {
      body: { model: 'mana/embed', input: 'Why is the sky blue?' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-mana-llm-resolved']).toBe('ollama/nomic-embed-text');
    expect((JSON.parse(res.body) as { model: string }).model).toBe('ollama/nomic-embed-text');
    expect(openai.calls('/v1/embeddings')).toHaveLength(1);
  });

  describe('direct models (a chain of one)', () => {
    it('should answer 502 when its upstream answers 500', async () => {
      groq.on('POST', GROQ_PATH, replies.openai500());
      await boot();
      const res = await chat(GROQ);
      expect(res.status).toBe(502);
      expect((JSON.parse(res.body) as ErrorBody).error.code).toBe('upstream_server_error');
      expect(openai.calls(OPENAI_PATH)).toHaveLength(0);
    });

    it('should answer 429 with Retry-After when its upstream rate-limits', async () => {
      groq.on('POST', GROQ_PATH, replies.groq429());
      await boot();
      const res = await chat(GROQ);
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('2');
    });

    it('should answer 504 when its upstream times out', async () => {
      groq.on('POST', GROQ_PATH, { hang: true });
      await boot({ PROVIDER_TIMEOUT: '0.3' });
      expect((await chat(GROQ)).status).toBe(504);
    });

    it('should answer 503 with the skip when its provider is not configured', async () => {
      await boot();
      const res = await chat('together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo');
      expect(res.status).toBe(503);
      expect((JSON.parse(res.body) as ErrorBody).error.attempts).toEqual([
        { model: 'together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo', reason: 'unconfigured' },
      ]);
    });
  });
});
