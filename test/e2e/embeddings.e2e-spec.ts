import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { gatewayEnv, PROVIDER_KEYS } from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, fixtureHeaders, fixtureJson } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { rawRequest } from '../support/sse-client';

interface EmbeddingList {
  object: string;
  model: string;
  data: { object: string; index: number; embedding: number[] | string }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

const OLLAMA_EMBED = fixtureJson<{ embeddings: number[][] }>('ollama/embed.response.json').embeddings;
const OLLAMA_MULTI = fixtureJson<{ embeddings: number[][] }>('ollama/embed_multi.response.json').embeddings;
const OPENAI_FLOAT = fixtureJson<{ data: { embedding: number[] }[] }>(
  'openai/embeddings_float.response.json',
);
const OPENAI_BASE64 = fixtureJson<{ data: { embedding: string }[] }>(
  'openai/embeddings_base64.response.json',
);

/** What the official SDKs do with a base64 embedding: little-endian float32 values. */
function float32s(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) out.push(bytes.readFloatLE(i));
  return out;
}

describe('embeddings', () => {
  let ollama: FakeUpstream;
  let openai: FakeUpstream;
  let gateway: RunningGateway;
  let client: OpenAI;
  const post = (body: object) => rawRequest(`${gateway.url}/v1/embeddings`, { body });

  beforeAll(async () => {
    ollama = await FakeUpstream.start();
    openai = await FakeUpstream.start();
    const dir = mkdtempSync(join(tmpdir(), 'mana-embeddings-'));
    const aliases = join(dir, 'aliases.yaml');
    writeFileSync(
      aliases,
      'aliases:\n  mana/embed:\n    description: Text embeddings\n' +
        '    chain: [openai/text-embedding-3-small, ollama/nomic-embed-text]\n',
    );
    gateway = await startGateway({ ...gatewayEnv({ ollama, openai }), ALIASES_PATH: aliases });
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'caller-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([ollama.close(), openai.close()]);
  });
  beforeEach(() => {
    ollama.requests.length = 0;
    openai.requests.length = 0;
  });

  const ollamaReplies = (path: string) => {
    const { headers } = fixtureHeaders('ollama/embed.response.headers.txt');
    ollama.on('POST', '/api/embed', { headers, body: fixture(path) });
  };

  describe('through Ollama', () => {
    it('should answer floats from /api/embed with usage and the resolved model', async () => {
      ollamaReplies('ollama/embed.response.json');
      const res = await post({
        model: 'ollama/nomic-embed-text',
        input: 'Hello world',
        encoding_format: 'float',
      });
      expect(res.status).toBe(200);
      expect(res.headers['x-mana-llm-resolved']).toBe('ollama/nomic-embed-text');
      expect(JSON.parse(res.body)).toEqual({
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: OLLAMA_EMBED[0] }],
        model: 'ollama/nomic-embed-text',
        usage: { prompt_tokens: 2, total_tokens: 2 },
      });
      expect(ollama.calls('/api/embed').map((r) => r.json())).toEqual([
        { model: 'nomic-embed-text', input: 'Hello world' },
      ]);
    });

    it('should answer base64 that the official client decodes to the exact float32 vector', async () => {
      ollamaReplies('ollama/embed.response.json');
      const answer = await client.embeddings.create({
        model: 'ollama/nomic-embed-text',
        input: 'Hello world',
      });
      expect(ollama.calls('/api/embed')[0].json()).toEqual({
        model: 'nomic-embed-text',
        input: 'Hello world',
      });
      expect(answer.data[0].embedding).toEqual(OLLAMA_EMBED[0].map(Math.fround));
      expect(answer.model).toBe('ollama/nomic-embed-text');
      expect(answer.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    });

    it('should send a batch in one call and keep the order', async () => {
      ollamaReplies('ollama/embed_multi.response.json');
      const input = ['Why is the sky blue?', 'Why is the grass green?'];
      const res = await post({ model: 'all-minilm', input, encoding_format: 'base64', dimensions: 10 });
      expect(res.status).toBe(200);
      expect(res.headers['x-mana-llm-resolved']).toBe('ollama/all-minilm');
      const body = JSON.parse(res.body) as EmbeddingList;
      expect(body.data.map((d) => d.index)).toEqual([0, 1]);
      expect(body.data.map((d) => float32s(d.embedding as string))).toEqual(
        OLLAMA_MULTI.map((v) => v.map(Math.fround)),
      );
      // Go's omitempty drops a zero prompt_eval_count: usage is then 0, not missing.
      expect(body.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
      expect(ollama.calls('/api/embed').map((r) => r.json())).toEqual([
        { model: 'all-minilm', input, dimensions: 10 },
      ]);
    });

    it('should merge Ollama options and keep_alive extensions into /api/embed', async () => {
      ollamaReplies('ollama/embed.response.json');
      const res = await post({
        model: 'ollama/nomic-embed-text',
        input: 'Hello world',
        options: { temperature: 0 },
        keep_alive: '10m',
      });
      expect(res.status).toBe(200);
      expect(ollama.calls('/api/embed')[0].json()).toEqual({
        ...fixtureJson('ollama/embed.request.json'),
        keep_alive: '10m',
      });
    });

    it('should answer 502 when Ollama returns fewer vectors than inputs', async () => {
      ollamaReplies('ollama/embed.response.json');
      const res = await post({ model: 'ollama/nomic-embed-text', input: ['a', 'b'] });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body).error).toMatchObject({
        type: 'upstream_error',
        code: 'upstream_protocol_error',
      });
    });
  });

  describe('through OpenAI', () => {
    it('should pass float requests through (dimensions included) and answer the exact floats', async () => {
      const { headers } = fixtureHeaders('openai/embeddings_float.response.headers.txt');
      openai.on('POST', '/v1/embeddings', {
        headers,
        body: fixture('openai/embeddings_float.response.json'),
      });
      const res = await post({
        ...fixtureJson('openai/embeddings_float.request.json'),
        model: 'openai/text-embedding-3-small',
      });
      expect(res.status).toBe(200);
      expect(res.headers['x-mana-llm-resolved']).toBe('openai/text-embedding-3-small');
      expect(JSON.parse(res.body)).toEqual({
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: OPENAI_FLOAT.data[0].embedding }],
        model: 'openai/text-embedding-3-small',
        usage: { prompt_tokens: 2, total_tokens: 2 },
      });
      const sent = openai.calls('/v1/embeddings')[0];
      expect(sent.json()).toEqual({
        ...fixtureJson('openai/embeddings_float.request.json'),
        encoding_format: 'float',
      });
      expect(sent.headers.authorization).toBe(`Bearer ${PROVIDER_KEYS.openai}`);
    });

    it('should ask OpenAI for base64 when the official client does, and hand the vector on intact', async () => {
      openai.on('POST', '/v1/embeddings', { body: fixture('openai/embeddings_base64.response.json') });
      const answer = await client.embeddings.create({
        model: 'openai/text-embedding-3-small',
        input: ['Hello, world!'],
      });
      expect(openai.calls('/v1/embeddings')[0].json()).toEqual({
        ...fixtureJson('openai/embeddings_base64.request.json'),
      });
      const expected = float32s(OPENAI_BASE64.data[0].embedding);
      expect(expected).toHaveLength(1536);
      expect(answer.data[0].embedding).toEqual(expected);
      expect(answer.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
      expect(answer.model).toBe('openai/text-embedding-3-small');
    });
  });

  describe('through an alias', () => {
    it('should fall back along the chain like chat does', async () => {
      openai.on('POST', '/v1/embeddings', {
        status: 500,
        body: fixture('openai/error_500_server_error.json'),
      });
      ollamaReplies('ollama/embed.response.json');
      const res = await post({ model: 'mana/embed', input: 'Hello world', encoding_format: 'float' });
      expect(res.status).toBe(200);
      expect(res.headers['x-mana-llm-resolved']).toBe('ollama/nomic-embed-text');
      const body = JSON.parse(res.body) as EmbeddingList;
      expect(body.model).toBe('ollama/nomic-embed-text');
      expect(body.data[0].embedding).toEqual(OLLAMA_EMBED[0]);
      expect(openai.calls('/v1/embeddings')).toHaveLength(1);
      expect(ollama.calls('/api/embed')[0].json()).toEqual({
        model: 'nomic-embed-text',
        input: 'Hello world',
      });
    });

    it('should answer the first entry when it is up', async () => {
      openai.on('POST', '/v1/embeddings', { body: fixture('openai/embeddings_base64.response.json') });
      const answer = await client.embeddings.create({ model: 'mana/embed', input: 'Hello, world!' });
      expect(answer.model).toBe('openai/text-embedding-3-small');
      expect(answer.data[0].embedding).toEqual(float32s(OPENAI_BASE64.data[0].embedding));
      expect(ollama.calls('/api/embed')).toHaveLength(0);
    });

    it('should answer 404 for an unknown alias and 503 with attempts when the chain is exhausted', async () => {
      const missing = await post({ model: 'mana/nope', input: 'x' });
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body).error).toMatchObject({ code: 'model_not_found', param: 'model' });

      openai.on('POST', '/v1/embeddings', {
        status: 500,
        body: fixture('openai/error_500_server_error.json'),
      });
      ollama.on('POST', '/api/embed', { status: 500, body: fixture('ollama/error_generic.json') });
      const res = await post({ model: 'mana/embed', input: 'x' });
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body).error.attempts).toEqual([
        { model: 'openai/text-embedding-3-small', reason: 'UpstreamServerError' },
        { model: 'ollama/nomic-embed-text', reason: 'UpstreamServerError' },
      ]);
    });
  });

  describe('validation', () => {
    it.each([
      [{ input: 'x' }, 'model'],
      [{ model: 'ollama/x' }, 'input'],
      [{ model: 'ollama/x', input: [] }, 'input'],
      [{ model: 'ollama/x', input: ['a', 3] }, 'input[1]'],
      [{ model: 'ollama/x', input: 'a', encoding_format: 'int8' }, 'encoding_format'],
      [{ model: 'ollama/x', input: 'a', dimensions: 0 }, 'dimensions'],
      [{ model: 'ollama/x', input: 'a', options: [1] }, 'options'],
    ])('should answer 400 naming the field for %j', async (body, param) => {
      ollamaReplies('ollama/embed.response.json');
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toMatchObject({ type: 'invalid_request_error', param });
    });
  });
});
