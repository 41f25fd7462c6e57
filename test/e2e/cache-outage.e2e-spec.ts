import { createClient } from '@keyv/redis';
import { AddressInfo } from 'node:net';
import { createGateway } from '../../src/bootstrap';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { RedisServer } from '../support/redis-server';
import { rawRequest } from '../support/sse-client';

/** Polls `probe` until it returns true (short steps, bounded overall). */
async function eventually(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Redis failing under a running gateway: a redis-server of this test's own (never the shared one)
 * is killed, frozen and restarted. Requests must keep answering, uncached, and caching must resume
 * by itself.
 */
describe('response cache when Redis fails', () => {
  let redis: RedisServer;
  let ollama: FakeUpstream;
  let gateway: RunningGateway;
  let n = 0;
  const body = () => ({ model: 'ollama/gemma3:1b', messages: [{ role: 'user', content: `outage ${++n}` }] });
  const chat = (payload: object) => rawRequest(`${gateway.url}/v1/chat/completions`, { body: payload });
  const cacheHealth = async () =>
    (
      JSON.parse((await rawRequest(`${gateway.url}/v1/health`)).body) as {
        cache: { store: string; healthy: boolean };
      }
    ).cache;
  /** Caching works end to end: a fresh body misses, then hits. */
  const caching = async () => {
    const payload = body();
    const first = await chat(payload);
    const second = await chat(payload);
    return first.status === 200 && second.headers['x-mana-llm-cache'] === 'HIT';
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    ollama = await FakeUpstream.start();
    ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
  });
  afterAll(async () => {
    await gateway?.close();
    await ollama?.close();
    await redis?.stop();
  });
  afterEach(async () => {
    redis.resume();
    await gateway?.close();
    gateway = undefined as unknown as RunningGateway;
  });

  it('should answer uncached while Redis is dead, warn once, and cache again once it is back', async () => {
    const lines: string[] = [];
    const built = await createGateway(
      { OLLAMA_URL: ollama.url, REDIS_URL: redis.url, CACHE_TIMEOUT: '0.15', LOG_LEVEL: 'info' },
      { forceCloseConnections: true, logDestination: { write: (line: string) => void lines.push(line) } },
    );
    await built.app.listen(0, '127.0.0.1');
    const { port } = built.app.getHttpServer().address() as AddressInfo;
    gateway = { ...built, url: `http://127.0.0.1:${port}`, close: () => built.app.close() };
    const cacheLines = () => lines.filter((l) => l.includes('"ResponseCache"'));
    expect(await caching()).toBe(true);

    await redis.stop();
    const payload = body();
    const during = [await chat(payload), await chat(payload), await chat(payload)];
    for (const res of during) {
      expect(res.status).toBe(200);
      expect(res.headers['x-mana-llm-cache']).toBe('MISS');
    }
    expect(await cacheHealth()).toEqual({ store: 'redis', healthy: false });
    await new Promise((r) => setTimeout(r, 1500)); // several failed reconnections and recovery pings
    expect(await chat(body())).toMatchObject({ status: 200 });
    expect(cacheLines()).toHaveLength(1);
    expect(cacheLines()[0]).toContain(
      'redis cache store unavailable, serving uncached until it answers again',
    );

    await redis.restart();
    await eventually(async () => (await cacheHealth()).healthy);
    expect(await caching()).toBe(true);
    expect(cacheLines()).toHaveLength(2);
    expect(cacheLines()[1]).toContain('redis cache store answers again, caching resumed');
  });

  it('should not stall requests while Redis hangs and resume when it answers again', async () => {
    gateway = await startGateway({ OLLAMA_URL: ollama.url, REDIS_URL: redis.url, CACHE_TIMEOUT: '0.15' });
    expect(await caching()).toBe(true);

    redis.pause();
    const started = Date.now();
    const payload = body();
    const first = await chat(payload);
    const second = await chat(payload);
    const elapsed = Date.now() - started;
    expect(first.status).toBe(200);
    expect(first.headers['x-mana-llm-cache']).toBe('MISS');
    expect(second.status).toBe(200);
    expect(second.headers['x-mana-llm-cache']).toBe('MISS');
    // Without the bound a frozen Redis would hold these forever; generous margin for a busy machine.
    expect(elapsed).toBeLessThan(5_000);
    expect(await cacheHealth()).toEqual({ store: 'redis', healthy: false });

    redis.resume();
    await eventually(async () => (await cacheHealth()).healthy);
    expect(await caching()).toBe(true);
  });

  it('should boot and serve uncached while Redis is down at start, then recover', async () => {
    await redis.stop();
    gateway = await startGateway({ OLLAMA_URL: ollama.url, REDIS_URL: redis.url });
    const res = await chat(body());
    expect(res.status).toBe(200);
    expect(res.headers['x-mana-llm-cache']).toBe('MISS');
    expect(await cacheHealth()).toEqual({ store: 'redis', healthy: false });

    await redis.restart();
    await eventually(async () => (await cacheHealth()).healthy);
    expect(await caching()).toBe(true);
  });

  it('should close its Redis connection when the app shuts down', async () => {
    gateway = await startGateway({ OLLAMA_URL: ollama.url, REDIS_URL: redis.url });
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      const connections = async () =>
        String(await admin.sendCommand(['CLIENT', 'LIST']))
          .trim()
          .split('\n').length;
      expect(await connections()).toBe(2); // the gateway's and ours
      await gateway.close();
      gateway = undefined as unknown as RunningGateway;
      await eventually(async () => (await connections()) === 1, 3000);
    } finally {
      await admin.close();
    }
  });

  it('should count lookups that met a dead Redis as errors in the cache metric', async () => {
    gateway = await startGateway({ OLLAMA_URL: ollama.url, REDIS_URL: redis.url });
    await chat(body());
    await redis.stop();
    await chat(body());
    await chat(body());
    const metrics = (await rawRequest(`${gateway.url}/metrics`)).body;
    expect(metrics).toMatch(
      /mana_llm_cache_requests_total\{endpoint="\/v1\/chat\/completions",result="miss"\} 1\n/,
    );
    expect(metrics).toMatch(
      /mana_llm_cache_requests_total\{endpoint="\/v1\/chat\/completions",result="error"\} 2\n/,
    );
    await redis.restart();
  });
});
