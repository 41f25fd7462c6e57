import { FakeUpstream } from '../support/fake-upstream';
import { fixture } from '../support/fixtures';
import { startServiceProcess, ServiceProcess } from '../support/service-process';
import { rawRequest } from '../support/sse-client';

const KEYS = ['key-one-7f3a9c', 'key-two-b81e04'];

const UNAUTHORIZED = {
  error: {
    message: 'Missing or invalid API key. Send Authorization: Bearer <key>.',
    type: 'invalid_request_error',
    code: 'invalid_api_key',
    param: null,
  },
};

const chatBody = { model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'Hi' }] };

/** Every route MANA_LLM_API_KEYS guards (SPEC §10), with a request that succeeds once authorized. */
const GUARDED: { route: string; method: string; path: string; body?: object }[] = [
  { route: 'POST /v1/chat/completions', method: 'POST', path: '/v1/chat/completions', body: chatBody },
  {
    route: 'POST /v1/embeddings',
    method: 'POST',
    path: '/v1/embeddings',
    body: { model: 'ollama/nomic-embed-text', input: 'Hello world' },
  },
  { route: 'GET /v1/models', method: 'GET', path: '/v1/models' },
  { route: 'GET /v1/models/{id}', method: 'GET', path: '/v1/models/ollama/mistral:7b' },
  { route: 'GET /v1/aliases', method: 'GET', path: '/v1/aliases' },
];
const OPEN = ['/health', '/v1/health', '/health/live', '/health/ready', '/metrics'];

function call(
  service: ServiceProcess,
  route: (typeof GUARDED)[number],
  headers: Record<string, string> = {},
) {
  return rawRequest(`${service.url}${route.path}`, { method: route.method, body: route.body, headers });
}

async function fakeOllama(): Promise<FakeUpstream> {
  const ollama = await FakeUpstream.start();
  ollama
    .on('GET', '/api/tags', { body: fixture('ollama/tags.response.json') })
    .on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') })
    .on('POST', '/api/embed', { body: fixture('ollama/embed.response.json') });
  return ollama;
}

describe('gateway auth (MANA_LLM_API_KEYS, the built service)', () => {
  let ollama: FakeUpstream;
  let groq: FakeUpstream;
  let service: ServiceProcess;

  beforeAll(async () => {
    ollama = await fakeOllama();
    groq = await FakeUpstream.start();
    groq.on('POST', '/openai/v1/chat/completions', { body: fixture('groq/chat_nonstream.response.json') });
    service = await startServiceProcess({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_provider_key_123456',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      MANA_LLM_API_KEYS: ` ${KEYS[0]} , ${KEYS[1]} `,
    });
  });
  afterAll(async () => {
    await service?.kill();
    await ollama.close();
    await groq.close();
  });

  describe.each(GUARDED)('$route', (route) => {
    it('should answer 401 in the OpenAI error shape without Authorization', async () => {
      const res = await call(service, route);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(res.body)).toEqual(UNAUTHORIZED);
    });

    it.each([
      ['a wrong key', `Bearer wrong-key-0000`],
      ['a prefix of a key', `Bearer ${KEYS[0].slice(0, -1)}`],
      ['a key with a suffix', `Bearer ${KEYS[0]}x`],
      ['both keys joined', `Bearer ${KEYS.join(',')}`],
      ['the Basic scheme', `Basic ${KEYS[0]}`],
      ['the key without a scheme', KEYS[0]],
      ['an empty bearer', 'Bearer '],
    ])('should answer 401 for %s', async (_name, authorization) => {
      const res = await call(service, route, { authorization });
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual(UNAUTHORIZED);
    });

    it.each(KEYS)('should answer 200 with the configured key %s', async (key) => {
      const res = await call(service, route, { authorization: `Bearer ${key}` });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).not.toHaveProperty('error');
    });
  });

  it('should accept the scheme in any case', async () => {
    const res = await call(service, GUARDED[0], { authorization: `bearer ${KEYS[1]}` });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).choices[0].message.content).toBe('Hello! How are you today?');
  });

  it.each(OPEN)('should leave %s open without a key', async (path) => {
    const res = await rawRequest(`${service.url}${path}`);
    expect(res.status).toBe(200);
    const withWrongKey = await rawRequest(`${service.url}${path}`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(withWrongKey.status).toBe(200);
  });

  it('should never forward the caller Authorization upstream', async () => {
    const before = { ollama: ollama.calls('/api/chat').length, groq: groq.requests.length };
    const ok = await rawRequest(`${service.url}/v1/chat/completions`, {
      body: {
        model: 'groq/llama-3.3-70b-versatile',
        messages: [{ role: 'user', content: 'Capital of France?' }],
      },
      headers: { authorization: `Bearer ${KEYS[0]}` },
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).choices[0].message.content).toBe('The capital of France is Paris.');
    const viaOllama = await call(service, GUARDED[0], { authorization: `Bearer ${KEYS[1]}` });
    expect(viaOllama.status).toBe(200);

    const groqCalls = groq.requests.slice(before.groq);
    expect(groqCalls).toHaveLength(1);
    expect(groqCalls[0].headers.authorization).toBe('Bearer gsk_provider_key_123456');
    const ollamaCalls = ollama.calls('/api/chat').slice(before.ollama);
    expect(ollamaCalls).toHaveLength(1);
    expect(ollamaCalls[0].headers.authorization).toBeUndefined();
    const everyHeader = [...ollama.requests, ...groq.requests]
      .flatMap((r) => Object.values(r.headers))
      .join('\n');
    for (const key of KEYS) expect(everyHeader).not.toContain(key);
  });

  it('should label requests and tokens with a valid X-Mana-App, and with unknown otherwise', async () => {
    const headers = { authorization: `Bearer ${KEYS[0]}` };
    expect((await call(service, GUARDED[0], { ...headers, 'x-mana-app': 'notes-app' })).status).toBe(200);
    expect((await call(service, GUARDED[0], { ...headers, 'x-mana-app': 'Not A Valid App!' })).status).toBe(
      200,
    );
    const metrics = (await rawRequest(`${service.url}/metrics`)).body;

    const sample = (name: string, labels: Record<string, string>): number | undefined => {
      const line = metrics
        .split('\n')
        .find(
          (l) =>
            l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
        );
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const chat = {
      endpoint: '/v1/chat/completions',
      model: 'ollama/llama3.2',
      provider: 'ollama',
      status: '200',
    };
    expect(sample('mana_llm_requests_total', { ...chat, app: 'notes-app' })).toBe(1);
    // The fixture's prompt_eval_count and eval_count.
    expect(
      sample('mana_llm_tokens_total', { model: 'ollama/llama3.2', type: 'prompt', app: 'notes-app' }),
    ).toBe(26);
    expect(
      sample('mana_llm_tokens_total', { model: 'ollama/llama3.2', type: 'completion', app: 'notes-app' }),
    ).toBe(298);
    expect(sample('mana_llm_requests_total', { ...chat, app: 'unknown' })).toBeGreaterThanOrEqual(1);
    expect(metrics).not.toContain('Not A Valid App!');

    // The request's log line names the app too (log lines are written asynchronously: poll briefly).
    const logged = () =>
      service
        .output()
        .split('\n')
        .some((l) => l.includes('"app":"notes-app"'));
    for (let i = 0; i < 100 && !logged(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(logged()).toBe(true);
    expect(service.output()).not.toContain('Not A Valid App!');
  });
});

describe('gateway auth off (no MANA_LLM_API_KEYS)', () => {
  let ollama: FakeUpstream;
  let service: ServiceProcess;

  beforeAll(async () => {
    ollama = await fakeOllama();
    service = await startServiceProcess({ OLLAMA_URL: ollama.url });
  });
  afterAll(async () => {
    await service?.kill();
    await ollama.close();
  });

  it.each(GUARDED.map((r) => [r.route, r] as const))(
    'should answer %s without a key',
    async (_name, route) => {
      const res = await call(service, route);
      expect(res.status).toBe(200);
      // A caller's own Authorization (say, an OpenAI SDK's placeholder key) does not matter either.
      expect((await call(service, route, { authorization: 'Bearer sk-placeholder' })).status).toBe(200);
    },
  );
});
