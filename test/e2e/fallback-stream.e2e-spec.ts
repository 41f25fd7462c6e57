import { FakeUpstream } from '../support/fake-upstream';
import { fixture, ndjsonLines, sseEvents } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { RawResponse, rawRequest, sseChunks, sseData } from '../support/sse-client';
import {
  AliasesFile,
  chatBody,
  closedPort,
  env,
  GROQ_PATH,
  OPENROUTER_PATH,
  replies,
} from './fallback.harness';

const GROQ = 'groq/openai/gpt-oss-120b';
const ROUTER = 'openrouter/meta-llama/llama-3.2-3b-instruct:free';
const OLLAMA = 'ollama/gemma3:1b';

const ALIASES = `aliases:
  mana/stream:
    description: groq, then openrouter, then the local model
    chain: [${GROQ}, ${ROUTER}, ${OLLAMA}]
  mana/ollama-first:
    chain: [${OLLAMA}, ${ROUTER}]
  mana/router-first:
    chain: [${ROUTER}, ${OLLAMA}]
`;

const SSE = { 'content-type': 'text/event-stream' };
const NDJSON = { 'content-type': 'application/x-ndjson' };
const ROUTER_TEXT = 'test response';
const OLLAMA_TEXT = 'Okay, here we go!\n\n1, 2, 3, 4, 5\n';

interface Chunk {
  id: string;
  model: string;
  choices: { delta: { content?: string | null; reasoning?: string }; finish_reason: string | null }[];
}

const text = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

/** Groq's recorded stream that ends in `event: error` (role chunk, reasoning, then the error). */
const groqErrorEvents = () => sseEvents(fixture('groq/chat_stream_error_event.response.sse'));

describe('fallback (streaming)', () => {
  let groq: FakeUpstream;
  let openrouter: FakeUpstream;
  let ollama: FakeUpstream;
  let aliases: AliasesFile;
  let gateway: RunningGateway | undefined;

  const boot = async (extra: Record<string, string> = {}) => {
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      ...env.groq(groq),
      ...env.openrouter(openrouter),
      ALIASES_PATH: aliases.path,
      ...extra,
    });
  };
  const stream = (model: string) =>
    rawRequest(`${gateway!.url}/v1/chat/completions`, { body: chatBody(model, true) });

  beforeEach(async () => {
    [groq, openrouter, ollama] = await Promise.all([
      FakeUpstream.start(),
      FakeUpstream.start(),
      FakeUpstream.start(),
    ]);
    openrouter.on('POST', OPENROUTER_PATH, replies.openrouterStream());
    ollama.on('POST', '/api/chat', replies.ollamaStream());
    aliases = new AliasesFile(ALIASES);
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await Promise.all([groq.close(), openrouter.close(), ollama.close()]);
    aliases.remove();
  });

  /** A complete, committed stream from OpenRouter: every chunk names it, nothing of anyone else. */
  const expectRouterStream = (res: RawResponse, resolvedHeader = true) => {
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    if (resolvedHeader) expect(res.headers['x-mana-llm-resolved']).toBe(ROUTER);
    const chunks = sseChunks<Chunk>(res.body);
    expect(chunks.length).toBeGreaterThan(1);
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set([ROUTER]));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.some((c) => c.choices[0]?.delta.reasoning !== undefined)).toBe(false);
    expect(text(chunks)).toBe(ROUTER_TEXT);
    expect(res.body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(openrouter.calls(OPENROUTER_PATH)).toHaveLength(1);
  };

  it('should stream from the next entry when the primary fails before answering', async () => {
    groq.on('POST', GROQ_PATH, replies.openai500());
    await boot();
    expectRouterStream(await stream('mana/stream'));
    expect(groq.calls(GROQ_PATH)).toHaveLength(1);
    expect(ollama.calls('/api/chat')).toHaveLength(0);
  });

  it('should fall back when the primary sends a role-only chunk and then an error event', async () => {
    const events = groqErrorEvents();
    groq.on('POST', GROQ_PATH, { headers: SSE, pieces: [events[0], events[events.length - 1]] });
    await boot();
    expectRouterStream(await stream('mana/stream'));
  });

  it('should fall back when the primary sends reasoning and then an SSE error event before any content', async () => {
    groq.on('POST', GROQ_PATH, { headers: SSE, pieces: groqErrorEvents() });
    await boot();
    expectRouterStream(await stream('mana/stream'));
  });

  it('should fall back when Ollama answers 200 and then an error line', async () => {
    const lines = ndjsonLines(fixture('ollama/generate_stream_midstream_error.response.ndjson'));
    ollama.on('POST', '/api/chat', { headers: NDJSON, pieces: [lines[lines.length - 1]] });
    await boot();
    expectRouterStream(await stream('mana/ollama-first'));
    expect(ollama.calls('/api/chat')).toHaveLength(1);
  });

  it('should fall back when OpenRouter sends comments, reasoning and then an in-band error', async () => {
    openrouter.on('POST', OPENROUTER_PATH, {
      headers: SSE,
      pieces: sseEvents(fixture('openrouter/chat_stream_keepalive_midstream_error.response.sse')),
    });
    await boot();
    const res = await stream('mana/router-first');
    expect(res.status).toBe(200);
    expect(res.headers['x-mana-llm-resolved']).toBe(OLLAMA);
    const chunks = sseChunks<Chunk>(res.body);
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set([OLLAMA]));
    expect(text(chunks)).toBe(OLLAMA_TEXT);
  });

  it('should end with an error event and never call the next entry when the failure comes after content', async () => {
    openrouter.on('POST', OPENROUTER_PATH, {
      headers: SSE,
      pieces: sseEvents(fixture('openrouter/chat_stream_midstream_error_documented.response.sse')),
    });
    await boot();
    const res = await stream('mana/router-first');
    expect(res.status).toBe(200);
    expect(res.headers['x-mana-llm-resolved']).toBe(ROUTER);
    const data = sseData(res.body);
    expect(data).not.toContain('[DONE]');
    const last = JSON.parse(data[data.length - 1]) as { error: { type: string; code: string } };
    expect(last.error).toMatchObject({ type: 'upstream_error', code: 'upstream_stream_error' });
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(text(chunks)).toBe('The');
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set([ROUTER]));
    expect(ollama.calls('/api/chat')).toHaveLength(0);
  });

  it('should end with an error event when the connection breaks after content', async () => {
    const events = sseEvents(fixture('groq/chat_stream_text.response.sse'));
    const firstContent = events.findIndex((e) => e.includes('"content":"The"'));
    groq.on('POST', GROQ_PATH, {
      headers: SSE,
      pieces: events.slice(0, firstContent + 1),
      delayMs: 30,
      then: 'destroy',
    });
    await boot();
    const res = await stream('mana/stream');
    expect(res.headers['x-mana-llm-resolved']).toBe(GROQ);
    const data = sseData(res.body);
    expect(JSON.parse(data[data.length - 1])).toHaveProperty('error');
    expect(text(data.slice(0, -1).map((d) => JSON.parse(d) as Chunk))).toBe('The');
    expect(openrouter.calls(OPENROUTER_PATH)).toHaveLength(0);
  });

  it('should send keep-alive comments while the first chunk is slow and still fall back', async () => {
    const events = groqErrorEvents();
    groq.on('POST', GROQ_PATH, {
      headers: SSE,
      pieces: [events[0], events[events.length - 1]],
      delayMs: 700,
    });
    await boot({ STREAM_KEEPALIVE_INTERVAL: '0.2' });
    const res = await stream('mana/stream');
    expect(res.body.startsWith(': keep-alive\n\n')).toBe(true);
    expect(res.body.split(': keep-alive\n\n').length - 1).toBeGreaterThanOrEqual(2);
    // The headers went out with the first keep-alive, before anyone had answered.
    expect(res.headers['x-mana-llm-resolved']).toBeUndefined();
    expectRouterStream(res, false);
  });

  it('should end with an error carrying the attempts when keep-alive already sent headers and every entry fails', async () => {
    const events = groqErrorEvents();
    groq.on('POST', GROQ_PATH, {
      headers: SSE,
      pieces: [events[0], events[events.length - 1]],
      delayMs: 500,
    });
    openrouter.on('POST', OPENROUTER_PATH, replies.openai500());
    await boot({ STREAM_KEEPALIVE_INTERVAL: '0.2', OLLAMA_URL: `http://127.0.0.1:${await closedPort()}` });
    const res = await stream('mana/stream');
    expect(res.status).toBe(200);
    expect(res.body.startsWith(': keep-alive\n\n')).toBe(true);
    const data = sseData(res.body);
    expect(data).toHaveLength(1);
    const body = JSON.parse(data[0]) as { error: { code: string; attempts: unknown[] } };
    expect(body.error.code).toBe('all_providers_failed');
    expect(body.error.attempts).toEqual([
      { model: GROQ, reason: 'UpstreamStreamError' },
      { model: ROUTER, reason: 'UpstreamServerError' },
      { model: OLLAMA, reason: 'UpstreamConnectionError' },
    ]);
  });

  it('should answer a real 503 JSON when the whole chain fails before any chunk', async () => {
    groq.on('POST', GROQ_PATH, replies.groq429());
    openrouter.on('POST', OPENROUTER_PATH, replies.openai500());
    ollama.on('POST', '/api/chat', replies.ollamaBusy());
    await boot();
    const res = await stream('mana/stream');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.body)).toMatchObject({
      error: {
        code: 'all_providers_failed',
        attempts: [
          { model: GROQ, reason: 'UpstreamRateLimitError' },
          { model: ROUTER, reason: 'UpstreamServerError' },
          { model: OLLAMA, reason: 'ProviderBusyError' },
        ],
      },
    });
  });
});
