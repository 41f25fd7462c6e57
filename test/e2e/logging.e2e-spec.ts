import { mkdtempSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, Gateway } from '../../src/bootstrap';
import { LogCapture } from '../../src/logging/log-capture';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, ndjsonLines, sseEvents } from '../support/fixtures';
import { rawRequest } from '../support/sse-client';

const OPENAI_KEY = 'sk-proj-LogTestOpenAiKey0123456789abcdef';
const GROQ_KEY = 'gsk_LogTestGroqKey0123456789';
/** No key shape at all: only the by-value scrubbing can catch it. */
const TOGETHER_KEY = 'plainTogetherKeyValue77331';
const GATEWAY_KEY = 'mana-gateway-key-for-logs-5511';
const WRONG_CALLER_KEY = 'callers-wrong-token-8842';
const PROMPT_MARKER = 'TOP-SECRET-PROMPT-MARKER-1947';
const SECRETS = [OPENAI_KEY, GROQ_KEY, TOGETHER_KEY, GATEWAY_KEY, WRONG_CALLER_KEY, PROMPT_MARKER];

interface Running {
  gateway: Gateway;
  url: string;
  capture: LogCapture;
}

async function start(env: Record<string, string>): Promise<Running> {
  const capture = new LogCapture();
  const gateway = await createGateway(
    { ALIASES_PATH: undefined, HEALTH_PROBE_INTERVAL: '600', ...env },
    { forceCloseConnections: true, logDestination: capture },
  );
  await gateway.app.listen(0, '127.0.0.1');
  const { port } = gateway.app.getHttpServer().address() as AddressInfo;
  return { gateway, url: `http://127.0.0.1:${port}`, capture };
}

describe('logs (pino JSON lines, one per request, no secrets)', () => {
  let openai: FakeUpstream;
  let groq: FakeUpstream;
  let ollama: FakeUpstream;
  let run: Running;

  beforeAll(async () => {
    openai = await FakeUpstream.start();
    groq = await FakeUpstream.start();
    ollama = await FakeUpstream.start();
    const dir = mkdtempSync(join(tmpdir(), 'mana-llm-logs-'));
    writeFileSync(
      join(dir, 'aliases.yaml'),
      'aliases:\n  mana/fast:\n    chain: [openai/gpt-4o-mini, ollama/gemma3:1b]\n',
    );
    run = await start({
      LOG_LEVEL: 'debug',
      ALIASES_PATH: join(dir, 'aliases.yaml'),
      OLLAMA_URL: ollama.url,
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: `${openai.url}/v1`,
      GROQ_API_KEY: GROQ_KEY,
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      TOGETHER_API_KEY: TOGETHER_KEY,
      MANA_LLM_API_KEYS: GATEWAY_KEY,
      CIRCUIT_FAILURE_THRESHOLD: '1',
    });
  });
  afterAll(async () => {
    await run.gateway.app.close();
    await openai.close();
    await groq.close();
    await ollama.close();
  });

  const chat = (id: string, body: object, key = GATEWAY_KEY) =>
    rawRequest(`${run.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${key}`, 'x-request-id': id, 'x-mana-app': 'logtest' },
      body: { messages: [{ role: 'user', content: `Tell nobody: ${PROMPT_MARKER}` }], ...body },
    });
  const requestLine = (id: string) => run.capture.context('Request').filter((l) => l.requestId === id);

  it('should write one request line with ids, models, tokens and timing when a chat succeeds', async () => {
    openai.on('POST', '/v1/chat/completions', { body: fixture('openai/chat_nonstream.response.json') });
    const res = await chat('log-ok-1', { model: 'openai/gpt-4o-mini' });
    expect(res.status).toBe(200);
    const lines = requestLine('log-ok-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      name: 'mana-llm',
      context: 'Request',
      msg: '/v1/chat/completions 200',
      endpoint: '/v1/chat/completions',
      app: 'logtest',
      model: 'openai/gpt-4o-mini',
      resolved: 'openai/gpt-4o-mini',
      provider: 'openai',
      status: 200,
      stream: false,
      promptTokens: 13,
      completionTokens: 31,
    });
    expect(lines[0].durationMs).toEqual(expect.any(Number));
    expect(openai.requests.at(-1)?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it('should write one line for a whole stream, with the usage the upstream reported', async () => {
    openai.on('POST', '/v1/chat/completions', {
      headers: { 'content-type': 'text/event-stream' },
      pieces: sseEvents(fixture('openai/chat_stream_usage.response.sse')),
    });
    const before = run.capture.raw.length;
    const res = await chat('log-stream-1', { model: 'openai/gpt-4o-mini', stream: true });
    expect(res.status).toBe(200);
    expect(requestLine('log-stream-1')).toEqual([
      expect.objectContaining({ stream: true, status: 200, promptTokens: 14, completionTokens: 13 }),
    ]);
    // Nothing per chunk: the only info-or-louder line of this request is its request line.
    const added = run.capture.lines.slice(before).filter((l) => l.level !== 'debug' && l.level !== 'trace');
    expect(added.map((l) => l.requestId)).toEqual(['log-stream-1']);
  });

  it('should log an upstream 401 as a warning naming the error class and never the key', async () => {
    openai.on('POST', '/v1/chat/completions', {
      status: 401,
      body: fixture('openai/error_401_invalid_api_key.json'),
    });
    const res = await chat('log-401-1', { model: 'openai/gpt-4o-mini' });
    expect(res.status).toBe(502);
    expect(requestLine('log-401-1')).toEqual([
      expect.objectContaining({
        level: 'warn',
        status: 502,
        provider: 'openai',
        resolved: 'none',
        error: 'UpstreamAuthError',
      }),
    ]);
  });

  it('should scrub a key an upstream echoes back when another component logs the error', async () => {
    // A verbose upstream quoting the whole key in a 500: the breaker (threshold 1) logs its error text.
    groq.on('POST', '/openai/v1/chat/completions', {
      status: 500,
      body: {
        error: {
          message: `internal error for key ${GROQ_KEY} (together: ${TOGETHER_KEY})`,
          type: 'server_error',
        },
      },
    });
    const res = await chat('log-500-1', { model: 'groq/llama-3.1-8b-instant' });
    expect(res.status).toBe(502);
    const health = run.capture.context('ProviderHealth').filter((l) => String(l.msg).includes('groq'));
    expect(health.length).toBeGreaterThan(0);
    expect(String(health.at(-1)?.msg)).toContain('[redacted]');
    expect(requestLine('log-500-1')).toEqual([
      expect.objectContaining({ status: 502, provider: 'groq', error: 'UpstreamServerError' }),
    ]);
  });

  it('should list the fallback attempts of a stream that another entry answered', async () => {
    openai.on('POST', '/v1/chat/completions', {
      status: 500,
      body: fixture('openai/error_500_server_error.json'),
    });
    ollama.on('POST', '/api/chat', {
      headers: { 'content-type': 'application/x-ndjson' },
      pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
    });
    const res = await chat('log-fallback-1', { model: 'mana/fast', stream: true });
    expect(res.status).toBe(200);
    expect(requestLine('log-fallback-1')).toEqual([
      expect.objectContaining({
        model: 'mana/fast',
        resolved: 'ollama/gemma3:1b',
        status: 200,
        attempts: [{ model: 'openai/gpt-4o-mini', reason: 'UpstreamServerError' }],
        promptTokens: 16,
        completionTokens: 22,
      }),
    ]);
  });

  it('should log a stream that fails after its first chunk with status 200 and the error class', async () => {
    ollama.on('POST', '/api/chat', {
      headers: { 'content-type': 'application/x-ndjson' },
      pieces: [
        '{"model":"gemma3:1b","created_at":"2025-08-20T13:48:24.2Z","message":{"role":"assistant","content":"Hi"},"done":false}\n',
        '{"error":"model runner has unexpectedly stopped"}\n',
      ],
    });
    const res = await chat('log-midstream-1', { model: 'ollama/gemma3:1b', stream: true });
    expect(res.status).toBe(200);
    expect(res.body).toContain('"error"');
    expect(requestLine('log-midstream-1')).toEqual([
      expect.objectContaining({
        status: 200,
        resolved: 'ollama/gemma3:1b',
        error: expect.stringMatching(/Error$/),
      }),
    ]);
  });

  it('should log a rejected body with its request id and no content', async () => {
    const res = await chat('log-400-1', { model: 'ollama/gemma3:1b', temperature: 'hot' });
    expect(res.status).toBe(400);
    expect(requestLine('log-400-1')).toEqual([
      expect.objectContaining({
        status: 400,
        resolved: 'none',
        provider: 'none',
        error: 'InvalidRequestError',
      }),
    ]);
  });

  it('should answer a wrong gateway key with 401 without logging the header', async () => {
    const res = await chat('log-auth-1', { model: 'ollama/gemma3:1b' }, WRONG_CALLER_KEY);
    expect(res.status).toBe(401);
  });

  it('should never write a key, a bearer header or message content in any line of all the above', () => {
    const all = run.capture.raw.join('');
    expect(run.capture.raw.length).toBeGreaterThan(10);
    for (const secret of SECRETS)
      expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false });
    expect(all).not.toMatch(/Bearer\s+\S/);
    expect(all).not.toContain('Tell nobody');
    for (const line of run.capture.lines)
      expect(line).toEqual(expect.objectContaining({ level: expect.any(String), time: expect.any(String) }));
  });
});

describe('LOG_LEVEL', () => {
  it('should drop request lines when the level is warn and keep failed ones', async () => {
    const ollama = await FakeUpstream.start();
    const run = await start({ LOG_LEVEL: 'warn', OLLAMA_URL: ollama.url });
    try {
      ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
      const body = { model: 'ollama/gemma3:1b', messages: [{ role: 'user', content: 'hi' }] };
      expect((await rawRequest(`${run.url}/v1/chat/completions`, { body })).status).toBe(200);
      ollama.on('POST', '/api/chat', { status: 500, body: { error: 'boom' } });
      expect((await rawRequest(`${run.url}/v1/chat/completions`, { body })).status).toBe(502);
      expect(run.capture.lines.every((l) => l.level === 'warn' || l.level === 'error')).toBe(true);
      expect(run.capture.context('Request').map((l) => l.status)).toEqual([502]);
    } finally {
      await run.gateway.app.close();
      await ollama.close();
    }
  });
});
