import type { ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStream, textOf } from '../support/chat-assertions';
import { FakeUpstream, RecordedRequest, Reply } from '../support/fake-upstream';
import { fixture, fixtureHeaders, ndjsonLines, sseEvents } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { Scrape } from '../support/metrics-text';
import { RawResponse, rawRequest } from '../support/sse-client';
import { closedPort, MB, NDJSON, openAiError, rawTcpServer, replies, SSE, until } from './hardening.harness';

/**
 * Upstream faults (SPEC §3/§4): every one answers the SPEC status on a direct model and falls back
 * (with the error class as reason) behind an alias. Plus an oversized upstream body (bounded memory)
 * and hostile upstream JSON, which must never take the process down.
 */

const GROQ = 'groq/llama-3.1-8b-instant';
const REFUSED = 'openai/gpt-4o-mini';
const GARBAGE = 'together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo';
const LOCAL = 'ollama/gemma3:4b';
const GROQ_CHAT = '/openai/v1/chat/completions';
const UPSTREAM_CAP = 50 * MB;

const ALIASES = `aliases:
  mana/scripted:
    chain: [${GROQ}, ${LOCAL}]
  mana/refused:
    chain: [${REFUSED}, ${LOCAL}]
  mana/garbage:
    chain: [${GARBAGE}, ${LOCAL}]
`;

const messages = [{ role: 'user', content: 'What is the capital of France?' }];

/** Writes `head`, then resets the connection (an upstream that dies mid-body). */
const resetAfter =
  (headers: Record<string, string>, head: string): Reply =>
  (_req: RecordedRequest, res: ServerResponse) => {
    res.writeHead(200, headers);
    res.write(head);
    setTimeout(() => res.socket?.destroy(), 30);
  };

/** An endless body of `status` sent as fast as the reader takes it; counts what was handed over. */
function endlessBody(status: number, sent: { bytes: number; closed: boolean }): Reply {
  const block = Buffer.alloc(MB, 0x61);
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.write('{"error":"');
    res.on('close', () => (sent.closed = true));
    const pump = () => {
      while (!res.destroyed) {
        sent.bytes += block.length;
        if (!res.write(block)) return void res.once('drain', pump);
      }
    };
    pump();
  };
}

describe('hardening: upstream faults', () => {
  let ollama: FakeUpstream;
  let groq: FakeUpstream;
  let garbage: Awaited<ReturnType<typeof rawTcpServer>>;
  let gateway: RunningGateway;
  let dir: string;
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);

  const chat = (model: string, stream = false, extra: object = {}) =>
    rawRequest(`${gateway.url}/v1/chat/completions`, { body: { model, stream, messages, ...extra } });
  const errorOf = (res: RawResponse) => openAiError(res.headers['content-type'], res.body);

  /** The alias answers from the local model and counts one fallback from `from` for `reason`. */
  async function expectFallback(alias: string, from: string, reason: string, stream = false) {
    const label = { from_model: from, to_model: LOCAL, reason };
    const before = (await Scrape.of(gateway.url)).value('mana_llm_fallback_total', label);
    const res = await chat(alias, stream);
    expect(res.status).toBe(200);
    expect(res.headers['x-mana-llm-resolved']).toBe(LOCAL);
    if (stream) expect(parseStream(res.body).done).toBe(true);
    else expect(JSON.parse(res.body)).toMatchObject({ model: LOCAL, object: 'chat.completion' });
    const after = (await Scrape.of(gateway.url)).value('mana_llm_fallback_total', label);
    expect(after - before).toBe(1);
  }

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    [ollama, groq] = await Promise.all([FakeUpstream.start(), FakeUpstream.start()]);
    garbage = await rawTcpServer('\u0016\u0003\u0001\u0000garbage that is not HTTP\r\n\r\n', 'close');
    dir = mkdtempSync(join(tmpdir(), 'mana-llm-hardening-'));
    writeFileSync(join(dir, 'aliases.yaml'), ALIASES);
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_hardening_key_0000',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      OPENAI_API_KEY: 'sk-hardening-key-0000',
      OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`,
      TOGETHER_API_KEY: 'tgp_v1_hardening_key_0000',
      TOGETHER_BASE_URL: `${garbage.url}/v1`,
      ALIASES_PATH: join(dir, 'aliases.yaml'),
      OLLAMA_TIMEOUT: '1',
      PROVIDER_TIMEOUT: '1',
      STREAM_KEEPALIVE_INTERVAL: '30',
      CIRCUIT_FAILURE_THRESHOLD: '1000000',
      HEALTH_PROBE_INTERVAL: '3600',
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([ollama?.close(), groq?.close(), garbage?.close()]);
    rmSync(dir, { recursive: true, force: true });
    process.off('uncaughtException', onUncaught);
  });
  beforeEach(() => {
    for (const f of [ollama, groq]) {
      f.requests.length = 0;
      f.aborted.length = 0;
    }
    ollama.on('POST', '/api/chat', (req, res) => {
      const stream = req.json<{ stream?: boolean }>().stream !== false;
      res.writeHead(200, stream ? NDJSON : { 'content-type': 'application/json' });
      res.end(fixture(stream ? 'ollama/chat_stream.response.ndjson' : 'ollama/chat_nonstream.response.json'));
    });
  });
  afterEach(() => expect(uncaught).toEqual([]));

  it('should answer 502 upstream_unreachable for a refused connection, and fall back behind an alias', async () => {
    for (const stream of [false, true]) {
      const res = await chat(REFUSED, stream);
      expect(res.status).toBe(502);
      expect(errorOf(res)).toMatchObject({
        type: 'upstream_error',
        code: 'upstream_unreachable',
        param: null,
      });
      expect(errorOf(res).message).toMatch(/^openai is unreachable: .*ECONNREFUSED/);
    }
    await expectFallback('mana/refused', REFUSED, 'UpstreamConnectionError');
    await expectFallback('mana/refused', REFUSED, 'UpstreamConnectionError', true);
  });

  it('should answer 502 for a server that answers bytes that are not HTTP, and fall back', async () => {
    const before = garbage.connections;
    for (const stream of [false, true]) {
      const res = await chat(GARBAGE, stream);
      expect(res.status).toBe(502);
      expect(errorOf(res)).toMatchObject({ type: 'upstream_error', code: 'upstream_unreachable' });
    }
    expect(garbage.connections).toBeGreaterThan(before);
    await expectFallback('mana/garbage', GARBAGE, 'UpstreamConnectionError');
  });

  it('should answer 502 when the connection is reset in the middle of a JSON body, and fall back', async () => {
    const body = fixture('groq/chat_nonstream.response.json');
    groq.on('POST', GROQ_CHAT, resetAfter({ 'content-type': 'application/json' }, body.slice(0, 120)));
    const res = await chat(GROQ);
    expect(res.status).toBe(502);
    expect(errorOf(res).type).toBe('upstream_error');
    await expectFallback('mana/scripted', GROQ, 'UpstreamConnectionError');
  });

  it('should answer 502 when a stream is reset before its first content, and fall back', async () => {
    const first = sseEvents(fixture('groq/chat_stream_text.response.sse'))[0];
    groq.on('POST', GROQ_CHAT, resetAfter(SSE, first));
    const res = await chat(GROQ, true);
    expect(res.status).toBe(502);
    expect(errorOf(res)).toMatchObject({ type: 'upstream_error', code: 'upstream_protocol_error' });
    await expectFallback('mana/scripted', GROQ, 'UpstreamProtocolError', true);
  });

  it('should answer 502 upstream_protocol_error for HTTP 200 with a body that is not JSON, chat and embeddings', async () => {
    groq.on('POST', GROQ_CHAT, { body: '<html><body>502 Bad Gateway</body></html>' });
    groq.on('POST', '/openai/v1/embeddings', { body: 'OK' });
    const res = await chat(GROQ);
    expect(res.status).toBe(502);
    expect(errorOf(res)).toMatchObject({ type: 'upstream_error', code: 'upstream_protocol_error' });
    const embed = await rawRequest(`${gateway.url}/v1/embeddings`, { body: { model: GROQ, input: 'hi' } });
    expect(embed.status).toBe(502);
    expect(errorOf(embed).code).toBe('upstream_protocol_error');
    await expectFallback('mana/scripted', GROQ, 'UpstreamProtocolError');
  });

  it('should answer 504 for an SSE stream that never sends an event, abort it, and fall back', async () => {
    groq.on('POST', GROQ_CHAT, { headers: SSE, pieces: [': OPENROUTER PROCESSING\n\n'], then: 'hang' });
    const res = await chat(GROQ, true);
    expect(res.status).toBe(504);
    expect(errorOf(res)).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    await groq.waitForAborts(1);
    await expectFallback('mana/scripted', GROQ, 'UpstreamTimeoutError', true);
    await groq.waitForAborts(2);
  });

  it('should end a stream whose upstream never closes after its last event with a timeout frame, and abort it', async () => {
    const events = sseEvents(fixture('groq/chat_stream_text.response.sse'));
    // Every event but [DONE], then the connection stays open.
    groq.on('POST', GROQ_CHAT, { headers: SSE, pieces: events.slice(0, -1), then: 'hang' });
    const res = await chat(GROQ, true);
    expect(res.status).toBe(200);
    const parsed = parseStream(res.body);
    expect(textOf(parsed.chunks).length).toBeGreaterThan(0);
    expect(parsed.chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(parsed.done).toBe(false);
    expect(parsed.error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    await groq.waitForAborts(1);
  });

  it('should end a stream that stalls between chunks with a timeout frame and no fallback after content', async () => {
    const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'));
    groq.on('POST', GROQ_CHAT, replies.groqStream());
    ollama.on('POST', '/api/chat', { headers: NDJSON, pieces: lines.slice(0, 3), then: 'hang' });
    const res = await chat(LOCAL, true);
    expect(res.status).toBe(200);
    const parsed = parseStream(res.body);
    expect(textOf(parsed.chunks)).toBe('Okay, here');
    expect(parsed.error).toEqual({
      message: 'ollama sent no chunk for 1000 ms',
      type: 'timeout_error',
      code: 'upstream_timeout',
      param: null,
    });
    await ollama.waitForAborts(1);
  });

  it('should fall back when a stream stalls after a role-only chunk (nothing committed yet)', async () => {
    const first = sseEvents(fixture('groq/chat_stream_text.response.sse'))[0];
    groq.on('POST', GROQ_CHAT, { headers: SSE, pieces: [first], then: 'hang' });
    await expectFallback('mana/scripted', GROQ, 'UpstreamTimeoutError', true);
    await groq.waitForAborts(1);
  });

  it('should end with a protocol error frame when an NDJSON stream ends in a truncated line', async () => {
    const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'));
    ollama.on('POST', '/api/chat', {
      headers: NDJSON,
      pieces: [...lines.slice(0, 3), lines[3].slice(0, 25)],
    });
    const res = await chat(LOCAL, true);
    expect(res.status).toBe(200);
    const parsed = parseStream(res.body);
    expect(textOf(parsed.chunks)).toBe('Okay, here');
    expect(parsed.done).toBe(false);
    expect(parsed.error).toMatchObject({ type: 'upstream_error', code: 'upstream_protocol_error' });
  });

  it('should answer 502 when the only NDJSON line is truncated, streaming or not', async () => {
    const line = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'))[0];
    ollama.on('POST', '/api/chat', { headers: NDJSON, pieces: [line.slice(0, 40)] });
    const streamed = await chat(LOCAL, true);
    expect(streamed.status).toBe(502);
    expect(errorOf(streamed).code).toBe('upstream_protocol_error');
    ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json').slice(0, 90) });
    const json = await chat(LOCAL);
    expect(json.status).toBe(502);
    expect(errorOf(json).code).toBe('upstream_protocol_error');
  });

  describe('hostile upstream JSON', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

    it('should answer 502 for a completion nested 20 000 levels deep (JSON.stringify would overflow)', async () => {
      const body = fixture('groq/chat_nonstream.response.json').replace(/^\{/, `{"x":${deep(20_000)},`);
      groq.on('POST', GROQ_CHAT, { body });
      const res = await chat(GROQ);
      expect(res.status).toBe(502);
      expect(errorOf(res)).toMatchObject({
        code: 'upstream_protocol_error',
        message: 'groq sent an answer nested too deeply',
      });
      await expectFallback('mana/scripted', GROQ, 'UpstreamProtocolError');
    });

    it('should answer 502 for an SSE event nested that deep instead of crashing the process, and fall back', async () => {
      const events = sseEvents(fixture('groq/chat_stream_text.response.sse'));
      const hostile = events[0].replace('data: {', `data: {"x":${deep(20_000)},`);
      groq.on('POST', GROQ_CHAT, { headers: SSE, pieces: [hostile, ...events.slice(1)] });
      const res = await chat(GROQ, true);
      expect(res.status).toBe(502);
      expect(errorOf(res).message).toBe('groq sent an SSE event nested too deeply');
      await expectFallback('mana/scripted', GROQ, 'UpstreamProtocolError', true);
    });

    it('should answer 502 for Ollama tool-call arguments nested that deep', async () => {
      const body = fixture('ollama/chat_tools.response.json').replace(
        '"format": "celsius"',
        `"format": ${deep(20_000)}`,
      );
      ollama.on('POST', '/api/chat', { body });
      const res = await chat(LOCAL);
      expect(res.status).toBe(502);
      expect(errorOf(res).message).toBe('ollama sent JSON nested too deeply');
    });

    it('should answer 502 for Ollama embeddings that are not numbers', async () => {
      for (const embeddings of [[['a', 'b']], [[[[1]]]], [[null]]]) {
        ollama.on('POST', '/api/embed', { body: { model: 'm', embeddings } });
        const res = await rawRequest(`${gateway.url}/v1/embeddings`, { body: { model: LOCAL, input: 'hi' } });
        expect(res.status).toBe(502);
        expect(errorOf(res).code).toBe('upstream_protocol_error');
      }
    });
  });
});

describe('hardening: upstream bodies over the cap', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  const chat = (model: string) =>
    rawRequest(`${gateway.url}/v1/chat/completions`, { body: { model, stream: false, messages } });
  const errorOf = (res: RawResponse) => openAiError(res.headers['content-type'], res.body);

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    gateway = await startGateway({
      OLLAMA_URL: upstream.url,
      GROQ_API_KEY: 'gsk_hardening_key_0000',
      GROQ_BASE_URL: `${upstream.url}/openai/v1`,
      // Generous: 50 MB through a loaded machine must not turn into a timeout.
      PROVIDER_TIMEOUT: '60',
      HEALTH_PROBE_INTERVAL: '3600',
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it('should cut a 200 body past the 50 MB cap with 502, without buffering it all', async () => {
    const sent = { bytes: 0, closed: false };
    upstream.on('POST', GROQ_CHAT, endlessBody(200, sent));
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    let res: RawResponse;
    try {
      res = await chat(GROQ);
    } finally {
      clearInterval(sampler);
    }
    expect(res.status).toBe(502);
    expect(errorOf(res)).toMatchObject({
      code: 'upstream_protocol_error',
      message: `groq sent a body over ${UPSTREAM_CAP} bytes`,
    });
    await until(() => sent.closed, 5000, 'upstream connection closed');
    // The fake would have sent forever: the gateway stopped reading at the cap (plus socket buffers).
    expect(sent.bytes).toBeGreaterThan(UPSTREAM_CAP);
    expect(sent.bytes).toBeLessThan(UPSTREAM_CAP + 24 * MB);
    // At most the cap is held (plus the fake's own buffers in this process): bounded, nowhere near GBs.
    expect((peak - base) / MB).toBeLessThan(150);
  }, 30_000);

  it('should cut an error body past 1 MB and answer 502 at once', async () => {
    const sent = { bytes: 0, closed: false };
    upstream.on('POST', GROQ_CHAT, endlessBody(500, sent));
    const res = await chat(GROQ);
    expect(res.status).toBe(502);
    expect(errorOf(res).message).toBe('groq sent a body over 1048576 bytes');
    await until(() => sent.closed, 5000, 'upstream connection closed');
    expect(sent.bytes).toBeLessThan(1 * MB + 24 * MB);
  });
});

describe('hardening: Retry-After and the breaker', () => {
  let ollama: FakeUpstream;
  let groq: FakeUpstream;
  let openai: FakeUpstream;
  let gateway: RunningGateway;
  let dir: string;

  const chat = (model: string) =>
    rawRequest(`${gateway.url}/v1/chat/completions`, { body: { model, stream: false, messages } });
  const health = async (provider: string) => {
    const res = await rawRequest(`${gateway.url}/v1/health`);
    const body = JSON.parse(res.body) as {
      providers: Record<string, { healthy: boolean; unhealthy_until: string | null; last_checked: string }>;
    };
    return body.providers[provider];
  };

  beforeAll(async () => {
    [ollama, groq, openai] = await Promise.all([
      FakeUpstream.start(),
      FakeUpstream.start(),
      FakeUpstream.start(),
    ]);
    ollama.on('POST', '/api/chat', replies.ollamaJson());
    dir = mkdtempSync(join(tmpdir(), 'mana-llm-retry-after-'));
    writeFileSync(
      join(dir, 'aliases.yaml'),
      `aliases:\n  mana/groq-first:\n    chain: [${GROQ}, ${LOCAL}]\n  mana/openai-first:\n    chain: [${REFUSED}, ${LOCAL}]\n`,
    );
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_hardening_key_0000',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      OPENAI_API_KEY: 'sk-hardening-key-0000',
      OPENAI_BASE_URL: `${openai.url}/v1`,
      ALIASES_PATH: join(dir, 'aliases.yaml'),
      CIRCUIT_FAILURE_THRESHOLD: '2',
      CIRCUIT_COOLDOWN: '0.2',
      HEALTH_PROBE_INTERVAL: '3600',
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([ollama?.close(), groq?.close(), openai?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Two failures carrying Retry-After: 2 trip the breaker for at least 2 s although the cooldown is
   * 0.2 s: a call 0.6 s later still skips the provider; once the 2 s are over it is called again.
   */
  async function expectRetryAfterHonoured(
    fake: FakeUpstream,
    path: string,
    alias: string,
    provider: string,
    failure: Reply,
    success: Reply,
  ) {
    fake.requests.length = 0;
    fake.on('POST', path, failure);
    for (let i = 0; i < 2; i++) {
      const res = await chat(alias);
      expect(res.headers['x-mana-llm-resolved']).toBe(LOCAL);
    }
    expect(fake.calls(path)).toHaveLength(2);
    const state = await health(provider);
    expect(state.healthy).toBe(false);
    const openMs = Date.parse(state.unhealthy_until!) - Date.parse(state.last_checked);
    expect(openMs).toBeGreaterThanOrEqual(2000);

    fake.on('POST', path, success);
    await new Promise((r) => setTimeout(r, 600)); // three cooldowns: only Retry-After keeps it open
    const skipped = await chat(alias);
    expect(skipped.headers['x-mana-llm-resolved']).toBe(LOCAL);
    expect(fake.calls(path)).toHaveLength(2);

    await until(() => Date.now() > Date.parse(state.unhealthy_until!) + 50, 4000, 'Retry-After over');
    const back = await chat(alias);
    expect(back.status).toBe(200);
    expect(back.headers['x-mana-llm-resolved']).not.toBe(LOCAL);
    expect(fake.calls(path)).toHaveLength(3);
    expect((await health(provider)).healthy).toBe(true);
  }

  it('should keep a provider open for Retry-After seconds after 429s trip the breaker', async () => {
    const limited = fixtureHeaders('groq/error_429_rate_limit.headers.txt'); // retry-after: 2
    expect(limited.headers['retry-after']).toBe('2');
    await expectRetryAfterHonoured(
      groq,
      GROQ_CHAT,
      'mana/groq-first',
      'groq',
      { status: 429, headers: limited.headers, body: fixture('groq/error_429_rate_limit.json') },
      replies.groqJson(),
    );
  }, 15_000);

  it('should keep a provider open for Retry-After seconds after 503s trip the breaker', async () => {
    await expectRetryAfterHonoured(
      openai,
      '/v1/chat/completions',
      'mana/openai-first',
      'openai',
      { status: 503, headers: { 'retry-after': '2' }, body: fixture('openai/error_503_overloaded.json') },
      { body: fixture('openai/chat_nonstream.response.json') },
    );
  }, 15_000);

  it('should reopen after the short cooldown when the failures carry no Retry-After (the control)', async () => {
    groq.requests.length = 0;
    groq.on('POST', GROQ_CHAT, { status: 429, body: fixture('groq/error_429_rate_limit.json') });
    await chat('mana/groq-first');
    await chat('mana/groq-first');
    expect((await health('groq')).healthy).toBe(false);
    groq.on('POST', GROQ_CHAT, replies.groqJson());
    await new Promise((r) => setTimeout(r, 600));
    const back = await chat('mana/groq-first');
    expect(back.headers['x-mana-llm-resolved']).toBe(GROQ);
    expect(groq.calls(GROQ_CHAT)).toHaveLength(3);
  });
});
