import { FakeUpstream } from './fake-upstream';
import { fixture } from './fixtures';
import { sseData } from './sse-client';

/** One `chat.completion.chunk` as the gateway writes it (only the fields the chat tests read). */
export interface WireChunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    delta: {
      role?: string;
      content?: string | null;
      reasoning?: string | null;
      reasoning_content?: string;
      tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
      [key: string]: unknown;
    };
    finish_reason: string | null;
    [key: string]: unknown;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  [key: string]: unknown;
}

export interface ParsedStream {
  chunks: WireChunk[];
  /** The `{"error":...}` frame, when the stream ended with one. */
  error: { message: string; type: string; code: string | null; param: string | null } | undefined;
  done: boolean;
  /** `: keep-alive` comment lines seen. */
  comments: number;
}

/** Splits a gateway SSE body into chunks, the error frame and `[DONE]`; throws on anything else. */
export function parseStream(body: string): ParsedStream {
  const parsed: ParsedStream = { chunks: [], error: undefined, done: false, comments: 0 };
  if (!body.endsWith('\n\n'))
    throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(body)}`);
  for (const event of body.split('\n\n').slice(0, -1)) {
    if (event.startsWith(':')) {
      parsed.comments++;
      continue;
    }
    if (!event.startsWith('data: ') || event.includes('\n')) throw new Error(`unexpected SSE frame ${event}`);
    if (parsed.done || parsed.error) throw new Error(`frame after the end of the stream: ${event}`);
    const data = event.slice(6);
    if (data === '[DONE]') parsed.done = true;
    else {
      const json = JSON.parse(data) as WireChunk & { error?: ParsedStream['error'] };
      if (json.error) parsed.error = json.error;
      else parsed.chunks.push(json);
    }
  }
  expectNoStrayData(body, parsed);
  return parsed;
}

function expectNoStrayData(body: string, parsed: ParsedStream): void {
  const frames = sseData(body).length;
  const counted = parsed.chunks.length + (parsed.error ? 1 : 0) + (parsed.done ? 1 : 0);
  if (frames !== counted) throw new Error(`counted ${counted} frames, body has ${frames}`);
}

/** The concatenated `delta.content` of choice 0. */
export function textOf(chunks: WireChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

/** The concatenated reasoning deltas (`reasoning` or `reasoning_content`) of choice 0. */
export function reasoningOf(chunks: WireChunk[]): string {
  return chunks
    .map((c) => c.choices[0]?.delta.reasoning ?? c.choices[0]?.delta.reasoning_content ?? '')
    .join('');
}

/**
 * The stream contract of SPEC §2/§10 for a stream that finished: every chunk labelled `label`, one
 * id, the role on the first chunk, exactly one finish chunk, the usage chunk (if any) last with
 * `choices: []`. Returns the finish reason and the usage chunk.
 */
export function checkFinishedStream(
  parsed: ParsedStream,
  label: string,
): { finishReason: string; usage: WireChunk['usage'] | undefined } {
  const { chunks } = parsed;
  if (!parsed.done) throw new Error('stream did not end with [DONE]');
  if (parsed.error) throw new Error(`stream carried an error: ${JSON.stringify(parsed.error)}`);
  checkChunks(chunks, label);
  const finishes = chunks.filter((c) => c.choices.some((ch) => ch.finish_reason !== null));
  if (finishes.length !== 1) throw new Error(`expected exactly one finish chunk, saw ${finishes.length}`);
  const empty = chunks.filter((c) => c.choices.length === 0);
  if (empty.length > 1) throw new Error(`expected at most one usage chunk, saw ${empty.length}`);
  if (empty.length === 1 && chunks[chunks.length - 1] !== empty[0])
    throw new Error('usage chunk is not last');
  const finishReason = finishes[0].choices.find((ch) => ch.finish_reason !== null)!.finish_reason!;
  return { finishReason, usage: empty[0]?.usage };
}

/** Labels, one id, one `created`, the role first: for any stream, finished or not. */
export function checkChunks(chunks: WireChunk[], label: string): void {
  if (chunks.length === 0) throw new Error('no chunks');
  const ids = new Set(chunks.map((c) => c.id));
  if (ids.size !== 1) throw new Error(`expected one id, saw ${[...ids].join(', ')}`);
  for (const c of chunks) {
    if (c.model !== label) throw new Error(`chunk labelled ${c.model}, expected ${label}`);
    if (c.object !== 'chat.completion.chunk') throw new Error(`chunk object ${c.object}`);
  }
  if (chunks[0].choices[0]?.delta.role !== 'assistant') throw new Error('first chunk carries no role');
}

/** The env that points every provider at its fake and keeps the breaker and probes out of the way. */
export function gatewayEnv(fakes: {
  ollama: FakeUpstream;
  openai?: FakeUpstream;
  groq?: FakeUpstream;
  openrouter?: FakeUpstream;
  together?: FakeUpstream;
}): Record<string, string> {
  const env: Record<string, string> = {
    OLLAMA_URL: fakes.ollama.url,
    CIRCUIT_FAILURE_THRESHOLD: '1000000',
    HEALTH_PROBE_INTERVAL: '3600',
    CORS_ORIGINS: 'localhost',
  };
  if (fakes.openai)
    Object.assign(env, { OPENAI_API_KEY: PROVIDER_KEYS.openai, OPENAI_BASE_URL: `${fakes.openai.url}/v1` });
  if (fakes.groq)
    Object.assign(env, { GROQ_API_KEY: PROVIDER_KEYS.groq, GROQ_BASE_URL: `${fakes.groq.url}/openai/v1` });
  if (fakes.openrouter)
    Object.assign(env, {
      OPENROUTER_API_KEY: PROVIDER_KEYS.openrouter,
      OPENROUTER_BASE_URL: `${fakes.openrouter.url}/api/v1`,
    });
  if (fakes.together)
    Object.assign(env, {
      TOGETHER_API_KEY: PROVIDER_KEYS.together,
      TOGETHER_BASE_URL: `${fakes.together.url}/v1`,
    });
  return env;
}

/** Provider keys the fakes expect; none of them may ever show up in an answer. */
export const PROVIDER_KEYS = {
  openai: 'sk-proj-providerKEY0000000000openai',
  groq: 'gsk_providerKEY000000000000groq',
  openrouter: 'sk-or-v1-providerKEY00000000openrouter',
  together: 'tgp_v1_providerKEY000000000together',
} as const;

/** A fake Ollama that also answers the health probe (`GET /api/tags`) from the fixture. */
export async function startFakeOllama(): Promise<FakeUpstream> {
  const fake = await FakeUpstream.start();
  fake.on('GET', '/api/tags', { body: fixture('ollama/tags.response.json') });
  return fake;
}

/** A fake OpenAI-compatible vendor under `prefix` that answers `GET <prefix>/models`. */
export async function startFakeVendor(prefix: string, modelsFixture: string): Promise<FakeUpstream> {
  const fake = await FakeUpstream.start();
  fake.on('GET', `${prefix}/models`, { body: fixture(modelsFixture) });
  return fake;
}

export const NDJSON = { 'content-type': 'application/x-ndjson' };
export const SSE = { 'content-type': 'text/event-stream' };
