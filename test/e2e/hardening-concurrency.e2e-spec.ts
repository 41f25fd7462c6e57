import type { ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LimitedAdapter } from '../../src/core/providers/limited-adapter';
import { ProviderRegistry } from '../../src/core/providers/provider-registry';
import { parseStream } from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, ndjsonLines } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { Scrape } from '../support/metrics-text';
import { RawResponse, rawRequest } from '../support/sse-client';
import { fixtureVendor, NDJSON, openAiError, until } from './hardening.harness';

/**
 * Per-provider concurrency limits (OLLAMA_MAX_CONCURRENCY, <NAME>_MAX_CONCURRENCY and
 * PROVIDER_MAX_CONCURRENCY with their queue size and timeout): calls past the limit wait in a bounded
 * queue; a full queue or a timed-out wait is a 503 + Retry-After on a direct model and a fall-through
 * (reason ProviderSaturatedError, no breaker failure) behind an alias. Streams hold their slot until
 * they end or the client leaves.
 */

const LOCAL = 'ollama/gemma3:4b';
const GROQ = 'groq/llama-3.1-8b-instant';
const messages = [{ role: 'user', content: 'What is the capital of France?' }];

/** An Ollama fake that holds every chat until the test lets it answer; counts what is in flight. */
class HeldOllama {
  readonly held: { res: ServerResponse; stream: boolean }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Answer at once instead of holding (for bursts). */
  answerAfterMs: number | undefined;

  constructor(readonly fake: FakeUpstream) {
    fake.on('POST', '/api/chat', (req, res) => {
      const stream = req.json<{ stream?: boolean }>().stream !== false;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => this.inFlight--);
      if (stream) {
        // The first content line goes out (the stream commits), then it waits.
        res.writeHead(200, NDJSON);
        res.write(ndjsonLines(fixture('ollama/chat_stream.response.ndjson'))[0]);
      }
      if (this.answerAfterMs !== undefined) setTimeout(() => this.answer(res, stream), this.answerAfterMs);
      else this.held.push({ res, stream });
    });
  }

  /** Answers the oldest held call. */
  releaseOne(): void {
    const next = this.held.shift();
    if (next) this.answer(next.res, next.stream);
  }

  releaseAll(): void {
    while (this.held.length > 0) this.releaseOne();
  }

  private answer(res: ServerResponse, stream: boolean): void {
    if (res.destroyed) return;
    if (stream) res.end(ndjsonLines(fixture('ollama/chat_stream.response.ndjson')).slice(1).join(''));
    else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(fixture('ollama/chat_nonstream.response.json'));
    }
  }
}

describe('hardening: per-provider concurrency limits', () => {
  let ollama: HeldOllama;
  let groq: FakeUpstream;
  let gateway: RunningGateway;
  let dir: string;

  const chat = (model: string, stream = false) =>
    rawRequest(`${gateway.url}/v1/chat/completions`, { body: { model, stream, messages } });
  const errorOf = (res: RawResponse) => openAiError(res.headers['content-type'], res.body);
  /** The gateway's Ollama limiter (in process), to wait for a call to be queued. */
  const limiter = () => (gateway.app.get(ProviderRegistry).get('ollama') as LimitedAdapter).limiter;

  beforeAll(async () => {
    ollama = new HeldOllama(await FakeUpstream.start());
    groq = await fixtureVendor('/openai/v1');
    dir = mkdtempSync(join(tmpdir(), 'mana-llm-concurrency-'));
    writeFileSync(
      join(dir, 'aliases.yaml'),
      `aliases:\n  mana/local-first:\n    chain: [${LOCAL}, ${GROQ}]\n`,
    );
    gateway = await startGateway({
      OLLAMA_URL: ollama.fake.url,
      OLLAMA_MAX_CONCURRENCY: '2',
      OLLAMA_QUEUE_SIZE: '1',
      OLLAMA_QUEUE_TIMEOUT: '0.5',
      GROQ_API_KEY: 'gsk_concurrency_key_000',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      ALIASES_PATH: join(dir, 'aliases.yaml'),
      CIRCUIT_FAILURE_THRESHOLD: '2',
      HEALTH_PROBE_INTERVAL: '3600',
    });
  });
  afterAll(async () => {
    ollama?.releaseAll();
    await gateway?.close();
    await Promise.all([ollama?.fake.close(), groq?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    ollama.answerAfterMs = undefined;
    ollama.releaseAll();
    await until(() => ollama.inFlight === 0, 5000, 'Ollama idle');
    ollama.maxInFlight = 0;
  });

  it('should queue one call past two in flight, refuse the next with 503 + Retry-After, and serve the queued one when a slot frees', async () => {
    const a = chat(LOCAL);
    const b = chat(LOCAL);
    await until(() => ollama.held.length === 2, 5000, 'two calls at Ollama');
    const queued = chat(LOCAL);
    await until(() => limiter().waiting === 1, 5000, 'one call queued');
    expect(ollama.fake.calls('/api/chat').length).toBe(2);

    const refused = await chat(LOCAL);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(errorOf(refused)).toEqual({
      message: 'ollama is saturated: 2 requests in flight and its queue of 1 is full',
      type: 'server_error',
      code: 'provider_saturated',
      param: null,
    });

    ollama.releaseOne();
    expect((await a).status).toBe(200);
    await until(() => ollama.held.length === 2, 5000, 'the queued call reached Ollama');
    ollama.releaseAll();
    expect((await b).status).toBe(200);
    expect((await queued).status).toBe(200);
    expect(ollama.maxInFlight).toBe(2);
  });

  it('should refuse a queued call after the queue timeout (0.5 s) with 503', async () => {
    const held = [chat(LOCAL), chat(LOCAL)];
    await until(() => ollama.held.length === 2, 5000, 'two calls at Ollama');
    const started = Date.now();
    const timedOut = await chat(LOCAL);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(timedOut.status).toBe(503);
    expect(errorOf(timedOut).message).toBe(
      'ollama is saturated: 2 requests in flight and no slot came free within 500 ms',
    );
    ollama.releaseAll();
    for (const res of await Promise.all(held)) expect(res.status).toBe(200);
  });

  it('should let an alias fall through to its next entry while Ollama is saturated, without opening the breaker', async () => {
    const label = { from_model: LOCAL, to_model: GROQ, reason: 'ProviderSaturatedError' };
    const before = (await Scrape.of(gateway.url)).value('mana_llm_fallback_total', label);
    const held = [chat(LOCAL), chat(LOCAL), chat(LOCAL)]; // two in flight, one queued
    await until(() => ollama.held.length === 2 && limiter().waiting === 1, 5000, 'Ollama saturated');
    for (let i = 0; i < 3; i++) {
      const res = await chat('mana/local-first');
      expect(res.status).toBe(200);
      expect(res.headers['x-mana-llm-resolved']).toBe(GROQ);
    }
    const after = (await Scrape.of(gateway.url)).value('mana_llm_fallback_total', label);
    expect(after - before).toBe(3);
    const health = JSON.parse((await rawRequest(`${gateway.url}/v1/health`)).body) as {
      providers: { ollama: { healthy: boolean; consecutive_failures: number } };
    };
    expect(health.providers.ollama).toMatchObject({ healthy: true, consecutive_failures: 0 });
    ollama.answerAfterMs = 0; // the queued call gets a slot now: let it answer too
    ollama.releaseAll();
    // The queued one may have timed out meanwhile on a loaded machine (0.5 s): 503 then.
    const statuses = (await Promise.all(held)).map((r) => r.status);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect([200, 503]).toContain(statuses[2]);
  });

  it('should hold a stream slot until the stream ends, and free it when the client leaves', async () => {
    const first = chat(LOCAL, true);
    // A stream whose client leaves after its first chunk.
    const leaving = request(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    leaving.on('error', () => undefined);
    leaving.on('response', (res) => res.once('data', () => leaving.destroy()));
    leaving.end(JSON.stringify({ model: LOCAL, stream: true, messages }));
    await until(() => ollama.held.length === 2, 5000, 'two streams at Ollama');

    // The client that left freed its slot: a new call reaches Ollama at once, no queue timeout.
    await ollama.fake.waitForAborts(1);
    const next = chat(LOCAL);
    await until(() => ollama.held.length === 3, 5000, 'the next call at Ollama');
    expect(ollama.inFlight).toBe(2);
    ollama.releaseAll();
    expect(parseStream((await first).body).done).toBe(true);
    expect((await next).status).toBe(200);
  });

  it('should never have more than the limit in flight at Ollama under a burst of 30 calls', async () => {
    ollama.answerAfterMs = 20;
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => chat(i % 3 === 0 ? 'mana/local-first' : LOCAL, i % 2 === 0)),
    );
    expect(ollama.maxInFlight).toBeLessThanOrEqual(2);
    for (const res of answers) {
      expect([200, 503]).toContain(res.status);
      if (res.status === 503) expect(errorOf(res).code).toBe('provider_saturated');
    }
    expect(answers.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(10);
  });
});

describe('hardening: generic provider concurrency settings', () => {
  let groq: FakeUpstream;
  let ollama: FakeUpstream;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    [groq, ollama] = await Promise.all([FakeUpstream.start(), FakeUpstream.start()]);
    groq.on('POST', '/openai/v1/chat/completions', (_req, res) => held.push(res));
  });
  afterAll(async () => {
    await Promise.all([groq.close(), ollama.close()]);
  });

  it.each([
    ['PROVIDER_MAX_CONCURRENCY (every cloud)', { PROVIDER_MAX_CONCURRENCY: '1', PROVIDER_QUEUE_SIZE: '0' }],
    [
      'GROQ_MAX_CONCURRENCY over PROVIDER_MAX_CONCURRENCY',
      {
        PROVIDER_MAX_CONCURRENCY: '50',
        GROQ_MAX_CONCURRENCY: '1',
        PROVIDER_QUEUE_SIZE: '0',
      },
    ],
  ])('should limit groq with %s', async (_name, limits) => {
    const gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_concurrency_key_000',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      HEALTH_PROBE_INTERVAL: '3600',
      ...limits,
    });
    try {
      const body = { model: GROQ, stream: false, messages };
      const first = rawRequest(`${gateway.url}/v1/chat/completions`, { body });
      await until(() => held.length === 1, 5000, 'one call at groq');
      const refused = await rawRequest(`${gateway.url}/v1/chat/completions`, { body });
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('10'); // the default queue timeout, 10 s
      expect(openAiError(refused.headers['content-type'], refused.body).message).toBe(
        'groq is saturated: 1 requests in flight and its queue of 0 is full',
      );
      const res = held.shift()!;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(fixture('groq/chat_nonstream.response.json'));
      expect((await first).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it('should stop the boot with one line per bad concurrency variable', async () => {
    await expect(
      startGateway({ OLLAMA_URL: ollama.url, OLLAMA_MAX_CONCURRENCY: '-1', PROVIDER_QUEUE_TIMEOUT: 'soon' }),
    ).rejects.toThrow(/OLLAMA_MAX_CONCURRENCY: [^\n]*\n\s*PROVIDER_QUEUE_TIMEOUT: /);
  });
});
