import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { lastValueFrom, toArray } from 'rxjs';
import { ManaLlmClient } from '../../src/core/mana-llm.client';
import { ManaLlmModule } from '../../src/mana-llm.module';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, ndjsonLines } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { rawRequest } from '../support/sse-client';

const ollamaJson = () => ({ body: fixture('ollama/chat_nonstream.response.json') });
const ollamaStream = () => ({
  headers: { 'content-type': 'application/x-ndjson' },
  pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
});

describe('response cache in process memory', () => {
  let ollama: FakeUpstream;
  let n = 0;
  const body = () => ({ model: 'ollama/gemma3:1b', messages: [{ role: 'user', content: `memory ${++n}` }] });

  beforeAll(async () => {
    ollama = await FakeUpstream.start();
  });
  afterAll(async () => {
    await ollama.close();
  });
  beforeEach(() => {
    ollama.requests.length = 0;
    ollama.on('POST', '/api/chat', ollamaJson());
  });

  describe('the service', () => {
    let gateway: RunningGateway;
    const chat = (payload: object) => rawRequest(`${gateway.url}/v1/chat/completions`, { body: payload });
    afterEach(async () => {
      await gateway?.close();
    });

    it('should hit on the second identical request and show the store in /v1/health', async () => {
      gateway = await startGateway({ OLLAMA_URL: ollama.url, CACHE_STORE: 'memory' });
      const payload = body();
      const miss = await chat(payload);
      const hit = await chat(payload);
      expect(miss.headers['x-mana-llm-cache']).toBe('MISS');
      expect(hit.headers['x-mana-llm-cache']).toBe('HIT');
      expect(hit.body).toBe(miss.body);
      expect(ollama.calls('/api/chat')).toHaveLength(1);
      const health = JSON.parse((await rawRequest(`${gateway.url}/v1/health`)).body) as { cache: unknown };
      expect(health.cache).toEqual({ store: 'memory', healthy: true });

      await rawRequest(`${gateway.url}/v1/chat/completions`, {
        body: payload,
        headers: { 'cache-control': 'no-cache' },
      });
      const metrics = (await rawRequest(`${gateway.url}/metrics`)).body;
      for (const [result, count] of [
        ['hit', 1],
        ['miss', 1],
        ['bypass', 1],
        ['error', 0],
      ] as const) {
        expect(metrics).toContain(
          `mana_llm_cache_requests_total{endpoint="/v1/chat/completions",result="${result}"} ${count}\n`,
        );
      }
    });

    it('should send no cache header at all when no cache is configured', async () => {
      gateway = await startGateway({ OLLAMA_URL: ollama.url });
      const payload = body();
      const first = await chat(payload);
      const second = await chat({ ...payload, stream: true });
      expect(first.status).toBe(200);
      expect(first.headers['x-mana-llm-cache']).toBeUndefined();
      expect(second.headers['x-mana-llm-cache']).toBeUndefined();
      expect(ollama.calls('/api/chat')).toHaveLength(2);
      const health = JSON.parse((await rawRequest(`${gateway.url}/v1/health`)).body) as { cache: unknown };
      expect(health.cache).toEqual({ store: 'none', healthy: true });
    });

    it('should evict the least recently used answer when CACHE_MAX_ENTRIES is reached', async () => {
      gateway = await startGateway({ OLLAMA_URL: ollama.url, CACHE_STORE: 'memory', CACHE_MAX_ENTRIES: '2' });
      const [a, b, c] = [body(), body(), body()];
      await chat(a);
      await chat(b);
      expect((await chat(a)).headers['x-mana-llm-cache']).toBe('HIT'); // a is now more recent than b
      await chat(c); // evicts b
      expect((await chat(b)).headers['x-mana-llm-cache']).toBe('MISS'); // stored again, evicts a
      expect((await chat(c)).headers['x-mana-llm-cache']).toBe('HIT');
      expect((await chat(a)).headers['x-mana-llm-cache']).toBe('MISS');
      expect(ollama.calls('/api/chat')).toHaveLength(5);
    });

    it('should keep at most CACHE_MAX_BYTES of answers', async () => {
      // One stored answer (key + serialised entry) is 473 bytes: a 700-byte bound holds one, never two.
      gateway = await startGateway({
        OLLAMA_URL: ollama.url,
        CACHE_STORE: 'memory',
        CACHE_MAX_BYTES: '700b',
      });
      const [a, b] = [body(), body()];
      await chat(a);
      expect((await chat(a)).headers['x-mana-llm-cache']).toBe('HIT');
      await chat(b);
      expect((await chat(b)).headers['x-mana-llm-cache']).toBe('HIT');
      expect((await chat(a)).headers['x-mana-llm-cache']).toBe('MISS');
    });

    it('should forget an answer after CACHE_TTL', async () => {
      gateway = await startGateway({ OLLAMA_URL: ollama.url, CACHE_STORE: 'memory', CACHE_TTL: '0.3' });
      const payload = body();
      await chat(payload);
      expect((await chat(payload)).headers['x-mana-llm-cache']).toBe('HIT');
      await new Promise((r) => setTimeout(r, 400));
      expect((await chat(payload)).headers['x-mana-llm-cache']).toBe('MISS');
    });

    it('should refuse to boot with one clear line when CACHE_STORE=redis has no REDIS_URL', async () => {
      await expect(startGateway({ OLLAMA_URL: ollama.url, CACHE_STORE: 'redis' })).rejects.toThrow(
        /REDIS_URL: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL \(required when CACHE_STORE=redis\)/,
      );
    });
  });

  describe('the in-process client', () => {
    let app: INestApplicationContext;
    let client: ManaLlmClient;

    beforeAll(async () => {
      app = await NestFactory.createApplicationContext(
        ManaLlmModule.forRoot({
          ollama: { baseUrl: ollama.url },
          probe: { enabled: false },
          cache: { store: 'memory' },
          controllers: false,
        }),
        { logger: false },
      );
      client = app.get(ManaLlmClient);
    });
    afterAll(async () => {
      await app.close();
    });

    it('should answer chat() from the cache the second time', async () => {
      const request = body();
      const first = await client.chat(request);
      const second = await client.chat(request);
      expect(second).toEqual(first);
      expect(ollama.calls('/api/chat')).toHaveLength(1);
    });

    it('should replay a completed stream to chatStream() and to chat() without calling upstream', async () => {
      ollama.on('POST', '/api/chat', ollamaStream());
      const request = { ...body(), stream_options: { include_usage: true } };
      const live = await lastValueFrom(client.chatStream(request).pipe(toArray()));
      const replayed = await lastValueFrom(client.chatStream(request).pipe(toArray()));
      const whole = await client.chat(request);

      const text = (chunks: typeof live) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      expect(text(replayed)).toBe('Okay, here we go!\n\n1, 2, 3, 4, 5\n');
      expect(replayed.at(-1)?.usage).toEqual({ prompt_tokens: 16, completion_tokens: 22, total_tokens: 38 });
      expect(replayed.every((c) => c.id === live[0].id && c.model === 'ollama/gemma3:1b')).toBe(true);
      expect(whole.choices[0].message.content).toBe(text(live));
      expect(ollama.calls('/api/chat')).toHaveLength(1);
    });

    it('should skip the cache when the call asks it to', async () => {
      const request = body();
      await client.chat(request);
      await client.chat(request, { cache: { read: false, write: false } });
      expect(ollama.calls('/api/chat')).toHaveLength(2);
    });
  });
});
