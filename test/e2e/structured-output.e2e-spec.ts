import OpenAI from 'openai';
import {
  checkFinishedStream,
  gatewayEnv,
  NDJSON,
  parseStream,
  reasoningOf,
  startFakeVendor,
  textOf,
} from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, fixtureJson, ndjsonLines } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { rawRequest } from '../support/sse-client';

interface OllamaRequest {
  model: string;
  messages: { role: string; content: string }[];
  format?: unknown;
  options?: Record<string, unknown>;
  keep_alive?: string | number;
  think?: boolean | string;
  stream?: boolean;
}

const SCHEMA_REQUEST = fixtureJson<OllamaRequest & { format: Record<string, unknown> }>(
  'ollama/chat_format_schema.request.json',
);
const JSON_STREAM_REQUEST = fixtureJson<OllamaRequest>('ollama/chat_format_json_stream.request.json');

/**
 * Ollama answers with `message.thinking` (https://github.com/ollama/ollama/blob/main/docs/api.md,
 * "think"). No recording with thinking exists in ../shared/fixtures: these lines follow the shape of
 * the recorded chat_stream lines with the documented `thinking` field added.
 */
const THINKING_LINES = [
  '{"model":"qwen3:8b","created_at":"2025-08-20T13:47:53.398465Z","message":{"role":"assistant","content":"","thinking":"The user says hi."},"done":false}\n',
  '{"model":"qwen3:8b","created_at":"2025-08-20T13:47:53.404215Z","message":{"role":"assistant","content":"","thinking":" Greet back."},"done":false}\n',
  '{"model":"qwen3:8b","created_at":"2025-08-20T13:47:53.409837Z","message":{"role":"assistant","content":"Hello!"},"done":false}\n',
  '{"model":"qwen3:8b","created_at":"2025-08-20T13:47:53.473471Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":246778792,"prompt_eval_count":11,"eval_count":17}\n',
];
const THINKING_DOC =
  '{"model":"qwen3:8b","created_at":"2025-08-20T13:47:53.473471Z","message":{"role":"assistant","content":"Hello!","thinking":"The user says hi. Greet back."},"done_reason":"stop","done":true,"prompt_eval_count":11,"eval_count":17}';

describe('structured output, reasoning and Ollama options', () => {
  let ollama: FakeUpstream;
  let openai: FakeUpstream;
  let gateway: RunningGateway;
  /** Same fakes, with OLLAMA_NUM_CTX=8192. */
  let withNumCtx: RunningGateway;
  let client: OpenAI;
  const post = (target: RunningGateway, body: object) =>
    rawRequest(`${target.url}/v1/chat/completions`, { body });

  beforeAll(async () => {
    ollama = await FakeUpstream.start();
    openai = await startFakeVendor('/v1', 'openai/models_list.response.json');
    const env = gatewayEnv({ ollama, openai });
    gateway = await startGateway(env);
    withNumCtx = await startGateway({ ...env, OLLAMA_NUM_CTX: '8192' });
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'caller-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await Promise.all([gateway.close(), withNumCtx.close()]);
    await Promise.all([ollama.close(), openai.close()]);
  });
  beforeEach(() => {
    ollama.requests.length = 0;
    openai.requests.length = 0;
  });

  describe('response_format through Ollama', () => {
    it('should send a json_schema as format:<schema> (chat_format_schema) and answer the JSON text', async () => {
      ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_format_schema.response.json') });
      const answer = await client.chat.completions.create({
        model: 'ollama/llama3.1',
        messages: [{ role: 'user', content: SCHEMA_REQUEST.messages[0].content }],
        temperature: 0,
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'availability', strict: true, schema: SCHEMA_REQUEST.format },
        },
      });
      expect(ollama.calls('/api/chat')[0].json()).toEqual(SCHEMA_REQUEST);
      expect(JSON.parse(answer.choices[0].message.content!)).toEqual({ age: 22, available: false });
      expect(answer.choices[0].finish_reason).toBe('stop');
    });

    it('should send json_object as format:"json" and stream the JSON fragments (chat_format_json_stream)', async () => {
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        pieces: ndjsonLines(fixture('ollama/chat_format_json_stream.response.ndjson')),
      });
      const res = await post(gateway, {
        model: 'ollama/gemma3:1b',
        messages: JSON_STREAM_REQUEST.messages,
        response_format: { type: 'json_object' },
        temperature: 0,
        stream: true,
      });
      expect(ollama.calls('/api/chat')[0].json()).toEqual({ ...JSON_STREAM_REQUEST, stream: true });
      const parsed = parseStream(res.body);
      expect(checkFinishedStream(parsed, 'ollama/gemma3:1b').finishReason).toBe('stop');
      expect(JSON.parse(textOf(parsed.chunks))).toEqual({ answer: '600' });
    });

    it('should pass response_format to OpenAI-compatible providers untouched', async () => {
      openai.on('POST', '/v1/chat/completions', { body: fixture('openai/chat_nonstream.response.json') });
      const responseFormat = {
        type: 'json_schema',
        json_schema: { name: 'availability', strict: true, schema: SCHEMA_REQUEST.format },
      };
      const res = await post(gateway, {
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        response_format: responseFormat,
      });
      expect(res.status).toBe(200);
      expect(openai.calls('/v1/chat/completions')[0].json().response_format).toEqual(responseFormat);
    });
  });

  describe('reasoning through Ollama', () => {
    it('should answer thinking as reasoning_content, apart from content, and map reasoning_effort to think', async () => {
      ollama.on('POST', '/api/chat', { body: THINKING_DOC });
      const answer = await client.chat.completions.create({
        model: 'ollama/qwen3:8b',
        messages: [{ role: 'user', content: 'hi' }],
        reasoning_effort: 'high',
      });
      expect(answer.choices[0].message).toEqual({
        role: 'assistant',
        content: 'Hello!',
        reasoning_content: 'The user says hi. Greet back.',
      });
      expect(ollama.calls('/api/chat')[0].json<OllamaRequest>().think).toBe('high');
    });

    it('should stream thinking as reasoning_content deltas and never mix it into content', async () => {
      ollama.on('POST', '/api/chat', { headers: NDJSON, pieces: THINKING_LINES, delayMs: 1 });
      const res = await post(gateway, {
        model: 'ollama/qwen3:8b',
        messages: [{ role: 'user', content: 'hi' }],
        reasoning_effort: 'none',
        stream: true,
        stream_options: { include_usage: true },
      });
      const parsed = parseStream(res.body);
      const { usage } = checkFinishedStream(parsed, 'ollama/qwen3:8b');
      expect(reasoningOf(parsed.chunks)).toBe('The user says hi. Greet back.');
      expect(textOf(parsed.chunks)).toBe('Hello!');
      expect(parsed.chunks[0].choices[0].delta).toEqual({
        role: 'assistant',
        reasoning_content: 'The user says hi.',
      });
      expect(usage).toEqual({ prompt_tokens: 11, completion_tokens: 17, total_tokens: 28 });
      expect(ollama.calls('/api/chat')[0].json<OllamaRequest>().think).toBe(false);
    });
  });

  describe('Ollama options and keep_alive', () => {
    beforeEach(() => {
      ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
    });

    it('should merge request options over the mapped ones and OLLAMA_NUM_CTX, and pass keep_alive', async () => {
      const res = await post(withNumCtx, {
        model: 'ollama/llama3.2',
        messages: [{ role: 'user', content: 'why is the sky blue?' }],
        temperature: 0.2,
        max_tokens: 50,
        options: { num_ctx: 16384, top_k: 20, temperature: 0.7 },
        keep_alive: '30m',
      });
      expect(res.status).toBe(200);
      expect(ollama.calls('/api/chat')[0].json()).toEqual({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'why is the sky blue?' }],
        stream: false,
        options: { num_ctx: 16384, num_predict: 50, temperature: 0.7, top_k: 20 },
        keep_alive: '30m',
      });
    });

    it('should send OLLAMA_NUM_CTX as the default context size, and nothing without it', async () => {
      await post(withNumCtx, { model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'a' }] });
      await post(gateway, { model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'a' }] });
      const [first, second] = ollama.calls('/api/chat').map((r) => r.json<OllamaRequest>());
      expect(first.options).toEqual({ num_ctx: 8192 });
      expect(second.options).toBe(undefined);
    });

    it('should answer 400 naming the field for malformed extensions', async () => {
      const bad = await post(gateway, {
        model: 'ollama/llama3.2',
        messages: [{ role: 'user', content: 'a' }],
        options: ['num_ctx'],
      });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).error).toMatchObject({ type: 'invalid_request_error', param: 'options' });
      expect(ollama.requests).toHaveLength(0);
    });

    it('should keep Ollama-only extensions away from OpenAI-compatible providers', async () => {
      openai.on('POST', '/v1/chat/completions', { body: fixture('openai/chat_nonstream.response.json') });
      const res = await post(gateway, {
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'a' }],
        options: { num_ctx: 16384 },
        keep_alive: '30m',
        think: true,
        metadata: { kept: 'unknown fields still go through' },
      });
      expect(res.status).toBe(200);
      const sent = openai.calls('/v1/chat/completions')[0].json();
      expect(sent).toEqual({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'a' }],
        metadata: { kept: 'unknown fields still go through' },
        stream: false,
      });
    });
  });
});
