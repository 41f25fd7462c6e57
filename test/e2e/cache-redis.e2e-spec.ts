import { createClient } from '@keyv/redis';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, fixtureJson, ndjsonLines } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { sharedRedis } from '../support/redis-server';
import { rawRequest, RawResponse, sseChunks } from '../support/sse-client';

type Chunk = {
  id: string;
  created: number;
  model: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};
type Completion = {
  id: string;
  created: number;
  model: string;
  choices: { index: number; message: { role: string; content: string | null }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

const STREAM_TEXT = 'Okay, here we go!\n\n1, 2, 3, 4, 5\n';
const NONSTREAM_TEXT = 'Hello! How are you today?';

const ollamaStream = () => ({
  headers: { 'content-type': 'application/x-ndjson' },
  pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
});
const ollamaJson = () => ({ body: fixture('ollama/chat_nonstream.response.json') });

/** The SSE body a cached completion must replay as (SPEC §2 Streaming), byte for byte. */
function expectedReplay(
  c: { id: string; created: number; model: string },
  text: string,
  usage?: object,
): string {
  const head = `{"id":${JSON.stringify(c.id)},"object":"chat.completion.chunk","created":${c.created},"model":${JSON.stringify(c.model)}`;
  let body =
    `data: ${head},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n` +
    `data: ${head},"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n` +
    `data: ${head},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`;
  if (usage) body += `data: ${head},"choices":[],"usage":${JSON.stringify(usage)}}\n\n`;
  return body + 'data: [DONE]\n\n';
}

describe('response cache on Redis', () => {
  let redis: { url: string; close(): Promise<void> };
  let redisClient: ReturnType<typeof createClient>;
  let ollama: FakeUpstream;
  let gateway: RunningGateway;
  const prefix = `mana-llm-test:${randomUUID()}:`;
  let n = 0;
  /** A body no other test (or parallel run, thanks to the prefix) uses. */
  const body = (extra: Record<string, unknown> = {}) => ({
    model: 'ollama/gemma3:1b',
    messages: [{ role: 'user', content: `cache test ${++n}` }],
    ...extra,
  });
  const chat = (url: string, payload: object, headers?: Record<string, string>) =>
    rawRequest(`${url}/v1/chat/completions`, { body: payload, headers });

  beforeAll(async () => {
    redis = await sharedRedis();
    redisClient = createClient({ url: redis.url });
    await redisClient.connect();
    ollama = await FakeUpstream.start();
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      REDIS_URL: redis.url,
      CACHE_KEY_PREFIX: prefix,
      CACHE_TTL: '60',
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await ollama?.close();
    for (const key of await redisClient.keys(`${prefix}*`)) await redisClient.del(key);
    await redisClient.close();
    await redis?.close();
  });
  beforeEach(() => {
    ollama.requests.length = 0;
  });

  it('should answer a second identical request from Redis when the first succeeded', async () => {
    ollama.on('POST', '/api/chat', ollamaJson());
    const payload = body();
    const first = await chat(gateway.url, payload);
    const second = await chat(gateway.url, payload);

    expect(first.status).toBe(200);
    expect(first.headers['x-mana-llm-cache']).toBe('MISS');
    expect(second.status).toBe(200);
    expect(second.headers['x-mana-llm-cache']).toBe('HIT');
    expect(second.headers['x-mana-llm-resolved']).toBe('ollama/gemma3:1b');
    expect(second.body).toBe(first.body);
    expect((JSON.parse(second.body) as Completion).choices[0].message.content).toBe(NONSTREAM_TEXT);
    expect(ollama.calls('/api/chat')).toHaveLength(1);

    const keys = await redisClient.keys(`${prefix}*`);
    const mine = keys.filter((k) => /^.+v1:chat:[0-9a-f]{64}$/.test(k));
    expect(mine.length).toBeGreaterThanOrEqual(1);
    const ttl = await redisClient.pTTL(mine[0]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('should replay a streamed hit as byte-exact SSE, with the usage chunk only when asked', async () => {
    ollama.on('POST', '/api/chat', ollamaStream());
    const payload = body({ stream: true });
    const miss = await chat(gateway.url, payload);
    expect(miss.headers['x-mana-llm-cache']).toBe('MISS');
    const first = sseChunks<Chunk>(miss.body)[0];

    const hit = await chat(gateway.url, payload);
    expect(hit.status).toBe(200);
    expect(hit.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(hit.headers['x-mana-llm-cache']).toBe('HIT');
    expect(hit.headers['x-mana-llm-resolved']).toBe('ollama/gemma3:1b');
    expect(hit.body).toBe(expectedReplay(first, STREAM_TEXT));

    const withUsage = await chat(gateway.url, { ...payload, stream_options: { include_usage: true } });
    expect(withUsage.headers['x-mana-llm-cache']).toBe('HIT');
    expect(withUsage.body).toBe(
      expectedReplay(first, STREAM_TEXT, { prompt_tokens: 16, completion_tokens: 22, total_tokens: 38 }),
    );
    expect(ollama.calls('/api/chat')).toHaveLength(1);
  });

  it('should serve a non-streamed miss to a later streamed request', async () => {
    ollama.on('POST', '/api/chat', ollamaJson());
    const payload = body();
    const miss = await chat(gateway.url, payload);
    const completion = JSON.parse(miss.body) as Completion;

    const hit = await chat(gateway.url, {
      ...payload,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(hit.headers['x-mana-llm-cache']).toBe('HIT');
    expect(hit.body).toBe(
      expectedReplay(completion, NONSTREAM_TEXT, {
        prompt_tokens: 26,
        completion_tokens: 298,
        total_tokens: 324,
      }),
    );
    expect(ollama.calls('/api/chat')).toHaveLength(1);
  });

  it('should serve a streamed miss to a later non-streamed request as the assembled completion', async () => {
    ollama.on('POST', '/api/chat', ollamaStream());
    const payload = body();
    const miss = await chat(gateway.url, { ...payload, stream: true });
    const first = sseChunks<Chunk>(miss.body)[0];

    const hit = await chat(gateway.url, payload);
    expect(hit.headers['x-mana-llm-cache']).toBe('HIT');
    expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(hit.body)).toEqual({
      id: first.id,
      object: 'chat.completion',
      created: first.created,
      model: 'ollama/gemma3:1b',
      choices: [{ index: 0, message: { role: 'assistant', content: STREAM_TEXT }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 16, completion_tokens: 22, total_tokens: 38 },
    });
    expect(ollama.calls('/api/chat')).toHaveLength(1);
  });

  it('should share hits between two gateway instances on one Redis', async () => {
    const otherOllama = await FakeUpstream.start();
    const other = await startGateway({
      OLLAMA_URL: otherOllama.url,
      REDIS_URL: redis.url,
      CACHE_KEY_PREFIX: prefix,
    });
    try {
      ollama.on('POST', '/api/chat', ollamaJson());
      otherOllama.on('POST', '/api/chat', ollamaJson());
      const payload = body();
      const miss = await chat(gateway.url, payload);
      const hit = await chat(other.url, payload);
      expect(miss.headers['x-mana-llm-cache']).toBe('MISS');
      expect(hit.headers['x-mana-llm-cache']).toBe('HIT');
      expect(hit.body).toBe(miss.body);
      expect(ollama.calls('/api/chat')).toHaveLength(1);
      expect(otherOllama.calls('/api/chat')).toHaveLength(0);
    } finally {
      await other.close();
      await otherOllama.close();
    }
  });

  it('should skip the read but store the fresh answer when the request says no-cache', async () => {
    const fresh = fixtureJson('ollama/chat_nonstream.response.json');
    (fresh.message as { content: string }).content = 'A fresher answer';
    ollama.on('POST', '/api/chat', ollamaJson(), { body: fresh });
    const payload = body();
    await chat(gateway.url, payload);
    const bypass = await chat(gateway.url, payload, { 'cache-control': 'no-cache' });
    const after = await chat(gateway.url, payload);

    expect(bypass.headers['x-mana-llm-cache']).toBe('BYPASS');
    expect((JSON.parse(bypass.body) as Completion).choices[0].message.content).toBe('A fresher answer');
    expect(after.headers['x-mana-llm-cache']).toBe('HIT');
    expect((JSON.parse(after.body) as Completion).choices[0].message.content).toBe('A fresher answer');
    expect(ollama.calls('/api/chat')).toHaveLength(2);
  });

  it('should neither read nor store when the request says no-store', async () => {
    ollama.on('POST', '/api/chat', ollamaJson());
    const stored = body();
    await chat(gateway.url, stored);
    const bypass = await chat(gateway.url, stored, { 'cache-control': 'no-store' });
    expect(bypass.headers['x-mana-llm-cache']).toBe('BYPASS');

    const fresh = body({ stream: true });
    ollama.on('POST', '/api/chat', ollamaStream());
    const notStored = await chat(gateway.url, fresh, { 'cache-control': 'no-store' });
    const later = await chat(gateway.url, fresh);
    expect(notStored.headers['x-mana-llm-cache']).toBe('BYPASS');
    expect(later.headers['x-mana-llm-cache']).toBe('MISS');
    expect(ollama.calls('/api/chat')).toHaveLength(4);
  });

  it('should find the same entry whatever the order of fields and whoever asks, and not for other settings', async () => {
    ollama.on('POST', '/api/chat', ollamaJson());
    const content = `order test ${randomUUID()}`;
    const a = {
      model: 'ollama/gemma3:1b',
      temperature: 0.2,
      messages: [{ role: 'user', content }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'x', schema: { type: 'object', title: 't' } },
      },
      user: 'alice',
    };
    const b = {
      user: 'bob',
      response_format: {
        json_schema: { schema: { title: 't', type: 'object' }, name: 'x' },
        type: 'json_schema',
      },
      messages: [{ content, role: 'user' }],
      temperature: 0.2,
      seed: null,
      model: 'ollama/gemma3:1b',
    };
    const first = await chat(gateway.url, a);
    const reordered = await chat(gateway.url, b);
    const hotter = await chat(gateway.url, { ...a, temperature: 0.3 });

    expect(first.headers['x-mana-llm-cache']).toBe('MISS');
    expect(reordered.headers['x-mana-llm-cache']).toBe('HIT');
    expect(hotter.headers['x-mana-llm-cache']).toBe('MISS');
    expect(ollama.calls('/api/chat')).toHaveLength(2);
  });

  it('should never store an error, a failed stream or a stream cut by an error', async () => {
    ollama.on(
      'POST',
      '/api/chat',
      { status: 500, body: { error: 'boom' } },
      {
        pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson'))
          .slice(0, 4)
          .concat('{"error":"gone"}\n'),
      },
      ollamaJson(),
    );
    const payload = body();
    const failed = await chat(gateway.url, payload);
    const cut = await chat(gateway.url, { ...payload, stream: true });
    const ok = await chat(gateway.url, payload);
    const hit = await chat(gateway.url, payload);

    expect(failed.status).toBe(502);
    expect(cut.status).toBe(200);
    expect(cut.body).toContain('data: {"error":');
    expect(cut.body).not.toContain('[DONE]');
    expect(ok.status).toBe(200);
    expect(ok.headers['x-mana-llm-cache']).toBe('MISS');
    expect(hit.headers['x-mana-llm-cache']).toBe('HIT');
    expect(ollama.calls('/api/chat')).toHaveLength(3);
  });

  it('should re-encode a cached embedding as float or base64, whichever the asker wants', async () => {
    const upstream = fixtureJson<{ embeddings: number[][] }>('ollama/embed.response.json');
    const floats = upstream.embeddings[0];
    const float32 = Array.from(new Float32Array(floats));
    ollama.on('POST', '/api/embed', { body: fixture('ollama/embed.response.json') });
    const input = `Hello world ${randomUUID()}`;
    const embed = (extra: object) =>
      rawRequest(`${gateway.url}/v1/embeddings`, {
        body: { model: 'ollama/nomic-embed-text', input, ...extra },
      });
    type Embeddings = { data: { embedding: number[] | string }[]; model: string; usage: object };

    const miss = await embed({ encoding_format: 'base64', user: 'a' });
    const asFloat = await embed({ encoding_format: 'float' });
    const asDefault = await embed({});
    const viaSdk = await new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused' }).embeddings
      .create({ model: 'ollama/nomic-embed-text', input })
      .withResponse();

    expect(miss.headers['x-mana-llm-cache']).toBe('MISS');
    const missBody = JSON.parse(miss.body) as Embeddings;
    const bytes = Buffer.from(missBody.data[0].embedding as string, 'base64');
    expect(Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4))).toEqual(float32);
    for (const hit of [asFloat, asDefault]) {
      expect(hit.headers['x-mana-llm-cache']).toBe('HIT');
      expect(hit.headers['x-mana-llm-resolved']).toBe('ollama/nomic-embed-text');
      const parsed = JSON.parse(hit.body) as Embeddings;
      expect(parsed.data[0].embedding).toEqual(floats); // the provider's numbers, not float32-rounded
      expect(parsed.model).toBe('ollama/nomic-embed-text');
      expect(parsed.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    }
    expect(viaSdk.response.headers.get('x-mana-llm-cache')).toBe('HIT');
    expect(viaSdk.data.data[0].embedding).toEqual(float32);
    expect(ollama.calls('/api/embed')).toHaveLength(1);
  });

  it('should let Redis expire an answer after CACHE_TTL, decimals included', async () => {
    const shortLived = await startGateway({
      OLLAMA_URL: ollama.url,
      REDIS_URL: redis.url,
      CACHE_KEY_PREFIX: prefix,
      CACHE_TTL: '0.35',
    });
    try {
      ollama.on('POST', '/api/chat', ollamaJson());
      const payload = body();
      await chat(shortLived.url, payload);
      expect((await chat(shortLived.url, payload)).headers['x-mana-llm-cache']).toBe('HIT');
      await new Promise((r) => setTimeout(r, 450));
      expect((await chat(shortLived.url, payload)).headers['x-mana-llm-cache']).toBe('MISS');
      expect(ollama.calls('/api/chat')).toHaveLength(2);
    } finally {
      await shortLived.close();
    }
  });

  it('should report the store in /v1/health', async () => {
    const res: RawResponse = await rawRequest(`${gateway.url}/v1/health`);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { cache: unknown }).cache).toEqual({ store: 'redis', healthy: true });
  });
});
