import { createGateway } from '../../src/bootstrap';
import { ReadinessState } from '../../src/core/health/readiness-state';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { parseSamples } from '../support/metrics-text';
import { rawRequest } from '../support/sse-client';
import { chatBody, closedPort, env, GROQ_PATH, replies, until } from './fallback.harness';

const GROQ = 'groq/llama-3.3-70b-versatile';
const SNAPSHOT_KEYS = [
  'configured',
  'healthy',
  'consecutive_failures',
  'unhealthy_until',
  'last_checked',
  'last_error',
  'latency_ms',
];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface Snapshot {
  configured: boolean;
  healthy: boolean;
  consecutive_failures: number;
  unhealthy_until: string | null;
  last_checked: string | null;
  last_error: string | null;
  latency_ms: number | null;
}
interface Detailed {
  status: string;
  providers: Record<string, Snapshot>;
  cache: { store: string; healthy: boolean };
}

describe('health endpoints', () => {
  let groq: FakeUpstream;
  let ollama: FakeUpstream;
  let gateway: RunningGateway | undefined;

  const get = (path: string) => rawRequest(`${gateway!.url}${path}`);
  const json = async <T>(path: string): Promise<T> => JSON.parse((await get(path)).body) as T;
  const boot = async (extra: Record<string, string> = {}) => {
    gateway = await startGateway({ OLLAMA_URL: ollama.url, ...env.groq(groq), ...extra });
  };
  /** Two failed calls open a provider's breaker (CIRCUIT_FAILURE_THRESHOLD=2). */
  const breakGroq = async () => {
    groq.on('POST', GROQ_PATH, replies.openai500());
    for (let i = 0; i < 2; i++)
      await rawRequest(`${gateway!.url}/v1/chat/completions`, { body: chatBody(GROQ) });
  };
  const breakOllama = async () => {
    ollama.on('POST', '/api/chat', { status: 500, body: fixture('ollama/error_generic.json') });
    for (let i = 0; i < 2; i++)
      await rawRequest(`${gateway!.url}/v1/chat/completions`, { body: chatBody('ollama/llama3.2') });
  };

  beforeEach(async () => {
    [groq, ollama] = await Promise.all([FakeUpstream.start(), FakeUpstream.start()]);
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await Promise.all([groq.close(), ollama.close()]);
  });

  describe('GET /health', () => {
    it('should list the configured providers as healthy when nothing failed', async () => {
      await boot();
      const res = await get('/health');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toBe('{"status":"healthy","providers":{"ollama":"healthy","groq":"healthy"}}');
    });

    it('should say degraded, then unhealthy, and still answer 200 when providers fail', async () => {
      await boot();
      await breakGroq();
      const degraded = await get('/health');
      expect(degraded.status).toBe(200);
      expect(JSON.parse(degraded.body)).toEqual({
        status: 'degraded',
        providers: { ollama: 'healthy', groq: 'unhealthy' },
      });
      await breakOllama();
      const down = await get('/health');
      expect(down.status).toBe(200);
      expect(JSON.parse(down.body)).toEqual({
        status: 'unhealthy',
        providers: { ollama: 'unhealthy', groq: 'unhealthy' },
      });
    });
  });

  describe('GET /v1/health', () => {
    it('should show every configured provider in the SPEC shape and no cache when none is enabled', async () => {
      await boot();
      const body = await json<Detailed>('/v1/health');
      expect(Object.keys(body)).toEqual(['status', 'providers', 'cache']);
      expect(Object.keys(body.providers)).toEqual(['ollama', 'groq']);
      expect(Object.keys(body.providers.groq)).toEqual(SNAPSHOT_KEYS);
      expect(body).toEqual({
        status: 'healthy',
        providers: {
          ollama: {
            configured: true,
            healthy: true,
            consecutive_failures: 0,
            unhealthy_until: null,
            last_checked: null,
            last_error: null,
            latency_ms: null,
          },
          groq: {
            configured: true,
            healthy: true,
            consecutive_failures: 0,
            unhealthy_until: null,
            last_checked: null,
            last_error: null,
            latency_ms: null,
          },
        },
        cache: { store: 'none', healthy: true },
      });
    });

    it('should show the open breaker, its deadline and the last error when a provider failed twice', async () => {
      await boot();
      const before = Date.now();
      await breakGroq();
      ollama.on('POST', '/api/chat', replies.ollamaJson());
      await rawRequest(`${gateway!.url}/v1/chat/completions`, { body: chatBody('ollama/llama3.2') });
      const body = await json<Detailed>('/v1/health');
      expect(body.status).toBe('degraded');
      const groqState = body.providers.groq;
      expect(groqState).toMatchObject({ configured: true, healthy: false, consecutive_failures: 2 });
      expect(groqState.last_error).toMatch(/^UpstreamServerError: The server experienced an error/);
      expect(groqState.last_checked).toMatch(ISO);
      expect(groqState.unhealthy_until).toMatch(ISO);
      const until = Date.parse(groqState.unhealthy_until!);
      expect(until).toBeGreaterThanOrEqual(before + 60_000);
      expect(until).toBeLessThanOrEqual(Date.now() + 60_000);
      expect(body.providers.ollama).toMatchObject({
        healthy: true,
        consecutive_failures: 0,
        last_error: null,
      });
      expect(typeof body.providers.ollama.latency_ms).toBe('number');
    });

    it("should show the cache store's state when a cache is enabled", async () => {
      await boot({ CACHE_STORE: 'memory' });
      expect((await json<Detailed>('/v1/health')).cache).toEqual({ store: 'memory', healthy: true });
    });
  });

  describe('GET /health/live and /health/ready', () => {
    it('should be live and ready with every provider in the readiness details', async () => {
      await boot();
      const live = await get('/health/live');
      expect(live.status).toBe(200);
      expect(JSON.parse(live.body)).toEqual({
        status: 'ok',
        info: { process: { status: 'up', pid: process.pid, uptime_s: expect.any(Number) } },
        error: {},
        details: { process: { status: 'up', pid: process.pid, uptime_s: expect.any(Number) } },
      });
      const ready = await get('/health/ready');
      expect(ready.status).toBe(200);
      const body = JSON.parse(ready.body) as {
        status: string;
        info: Record<string, Record<string, unknown>>;
        error: object;
        details: Record<string, Record<string, unknown>>;
      };
      expect(body.status).toBe('ok');
      expect(body.error).toEqual({});
      expect(body.info.gateway).toEqual({ status: 'up', phase: 'ready' });
      expect(body.details.providers.status).toBe('up');
      expect(Object.keys(body.details.providers)).toEqual(['ollama', 'groq', 'status']);
      expect(body.details.providers.groq).toMatchObject({ configured: true, healthy: true });
    });

    it('should stay live and ready when every provider is down', async () => {
      await boot();
      await breakGroq();
      await breakOllama();
      expect((await get('/health/live')).status).toBe(200);
      const ready = await get('/health/ready');
      expect(ready.status).toBe(200);
      const body = JSON.parse(ready.body) as { details: { providers: Record<string, Snapshot> } };
      expect(body.details.providers.ollama).toMatchObject({ healthy: false, consecutive_failures: 2 });
      expect(body.details.providers.groq).toMatchObject({ healthy: false, consecutive_failures: 2 });
    });

    it('should fail readiness but not liveness from the moment shutdown begins', async () => {
      await boot();
      gateway!.app.get(ReadinessState).markShuttingDown();
      const ready = await get('/health/ready');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({
        status: 'error',
        error: { gateway: { status: 'down', phase: 'shutting_down' } },
        info: { providers: { status: 'up' } },
      });
      expect((await get('/health/live')).status).toBe(200);
    });

    it('should not be ready before the application has bootstrapped', async () => {
      const { app } = await createGateway({ LOG_LEVEL: 'error', OLLAMA_URL: ollama.url });
      try {
        expect(app.get(ReadinessState).phase).toBe('starting');
        await app.init();
        expect(app.get(ReadinessState).phase).toBe('ready');
      } finally {
        await app.close();
      }
    });

    it('should leave health routes open when gateway auth is on', async () => {
      await boot({ MANA_LLM_API_KEYS: 'key-one' });
      for (const path of ['/health', '/v1/health', '/health/live', '/health/ready'])
        expect((await get(path)).status).toBe(200);
    });
  });

  describe('background probe', () => {
    it('should mark a dead provider unhealthy without any traffic', async () => {
      ollama.on('GET', '/api/tags', replies.ollamaTags());
      await boot({
        ...env.groq(`http://127.0.0.1:${await closedPort()}`),
        HEALTH_PROBE_INTERVAL: '0.1',
        HEALTH_PROBE_TIMEOUT: '0.5',
      });
      await until(async () => !(await json<Detailed>('/v1/health')).providers.groq.healthy);
      const body = await json<Detailed>('/v1/health');
      expect(body.providers.groq.consecutive_failures).toBeGreaterThanOrEqual(2);
      expect(body.providers.groq.last_error).toMatch(/^UpstreamConnectionError: groq is unreachable/);
      expect(body.providers.ollama).toMatchObject({ healthy: true, consecutive_failures: 0 });
      expect(body.providers.ollama.last_checked).toMatch(ISO);
      expect(typeof body.providers.ollama.latency_ms).toBe('number');
      expect(ollama.calls('/api/tags').length).toBeGreaterThanOrEqual(2);
      expect(ollama.requests.filter((r) => r.path !== '/api/tags')).toEqual([]);
      const gauge = parseSamples((await get('/metrics')).body).filter(
        (s) => s.name === 'mana_llm_provider_healthy',
      );
      expect(gauge.map((s) => [s.labels.provider, s.value])).toEqual([
        ['ollama', 1],
        ['groq', 0],
      ]);
    });

    it('should mark a provider healthy again when its probe succeeds', async () => {
      let up = false;
      ollama.on('GET', '/api/tags', replies.ollamaTags());
      groq.on('GET', '/openai/v1/models', (_req, res) => {
        const reply = up
          ? fixture('openai/models_list.response.json')
          : fixture('openai/error_500_server_error.json');
        res.writeHead(up ? 200 : 500, { 'content-type': 'application/json' });
        res.end(reply);
      });
      await boot({ HEALTH_PROBE_INTERVAL: '0.1', HEALTH_PROBE_TIMEOUT: '0.5' });
      await until(async () => !(await json<Detailed>('/v1/health')).providers.groq.healthy);
      expect(groq.calls('/openai/v1/models')[0].headers.authorization).toBe('Bearer gsk_test_primary_key');
      up = true;
      await until(async () => (await json<Detailed>('/v1/health')).providers.groq.healthy);
      expect((await json<Detailed>('/v1/health')).providers.groq).toMatchObject({
        consecutive_failures: 0,
        last_error: null,
        unhealthy_until: null,
      });
    });
  });
});
