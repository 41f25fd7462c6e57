import { CHAT_ENDPOINT, EMBEDDINGS_ENDPOINT } from '../context/request-context';
import { CACHE_FORMAT_VERSION, cacheKey } from './cache-key';

const chat = {
  model: 'mana/fast-text',
  messages: [{ role: 'user', content: 'Hi' }],
  temperature: 0,
};

describe('cacheKey', () => {
  it('should be prefix, format version, endpoint and a sha256 when built', () => {
    const key = cacheKey('p:', CHAT_ENDPOINT, chat);
    expect(CACHE_FORMAT_VERSION).toBe('v1');
    expect(key).toMatch(/^p:v1:chat:[0-9a-f]{64}$/);
    expect(cacheKey('p:', EMBEDDINGS_ENDPOINT, { model: 'ollama/x', input: 'a' })).toMatch(
      /^p:v1:embeddings:[0-9a-f]{64}$/,
    );
  });

  it('should ignore stream, stream_options and user when the endpoint is chat', () => {
    const base = cacheKey('p:', CHAT_ENDPOINT, chat);
    expect(
      cacheKey('p:', CHAT_ENDPOINT, {
        ...chat,
        stream: true,
        stream_options: { include_usage: true },
        user: 'u1',
      }),
    ).toBe(base);
  });

  it('should ignore encoding_format and user but not dimensions when the endpoint is embeddings', () => {
    const body = { model: 'openai/text-embedding-3-small', input: ['a', 'b'] };
    const base = cacheKey('p:', EMBEDDINGS_ENDPOINT, body);
    expect(cacheKey('p:', EMBEDDINGS_ENDPOINT, { ...body, encoding_format: 'base64', user: 'x' })).toBe(base);
    expect(cacheKey('p:', EMBEDDINGS_ENDPOINT, { ...body, dimensions: 256 })).not.toBe(base);
    expect(cacheKey('p:', EMBEDDINGS_ENDPOINT, { ...body, input: ['b', 'a'] })).not.toBe(base);
  });

  it('should differ when the model, an output-changing field, the endpoint or the prefix differs', () => {
    const base = cacheKey('p:', CHAT_ENDPOINT, chat);
    expect(cacheKey('p:', CHAT_ENDPOINT, { ...chat, model: 'groq/llama-3.1-8b-instant' })).not.toBe(base);
    expect(cacheKey('p:', CHAT_ENDPOINT, { ...chat, temperature: 0.5 })).not.toBe(base);
    expect(cacheKey('p:', CHAT_ENDPOINT, { ...chat, max_tokens: 5 })).not.toBe(base);
    expect(cacheKey('p:', CHAT_ENDPOINT, { ...chat, tools: [] })).not.toBe(base);
    expect(cacheKey('q:', CHAT_ENDPOINT, chat).slice(2)).toBe(base.slice(2));
    expect(cacheKey('p:', EMBEDDINGS_ENDPOINT, chat).split(':')[3]).not.toBe(base.split(':')[3]);
  });

  it('should be the same when only key order or null-versus-absent differs', () => {
    const reordered = {
      temperature: 0,
      messages: [{ content: 'Hi', role: 'user' }],
      model: 'mana/fast-text',
      seed: null,
    };
    expect(cacheKey('p:', CHAT_ENDPOINT, reordered)).toBe(cacheKey('p:', CHAT_ENDPOINT, chat));
  });
});
