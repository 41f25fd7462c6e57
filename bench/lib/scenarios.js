'use strict';
const { join } = require('node:path');

const MESSAGES = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'What is the capital of France?' },
];
const EMBED_INPUT = 'The food was delicious and the waiter was friendly.';

/**
 * @typedef {{ path: string, body: string, headers?: Record<string, string> }} BenchRequest  `headers`: sent
 *   besides content-type (only Portkey's routing headers, for target `portkey`)
 * @typedef {{ id: string, title: string, stream: boolean, direct: (model: string) => BenchRequest,
 *   proxied: (model: string) => BenchRequest, model: string, provider: string }} Scenario
 */

/** @type {Scenario[]} */
const SCENARIOS = [
  {
    id: 'chat-json',
    title: 'JSON chat, OpenAI-compatible adapter (groq/)',
    stream: false,
    provider: 'groq',
    model: 'llama-3.1-8b-instant',
    direct: (model) => ({
      path: '/v1/chat/completions',
      body: JSON.stringify({ model, messages: MESSAGES, stream: false }),
    }),
    proxied: (model) => ({
      path: '/v1/chat/completions',
      body: JSON.stringify({ model: `groq/${model}`, messages: MESSAGES, stream: false }),
    }),
  },
  {
    id: 'chat-stream-openai',
    title: 'streamed chat (20 SSE events), OpenAI-compatible adapter (groq/)',
    stream: true,
    provider: 'groq',
    model: 'llama-3.1-8b-instant',
    direct: (model) => ({
      path: '/v1/chat/completions',
      body: JSON.stringify({ model, messages: MESSAGES, stream: true }),
    }),
    proxied: (model) => ({
      path: '/v1/chat/completions',
      body: JSON.stringify({ model: `groq/${model}`, messages: MESSAGES, stream: true }),
    }),
  },
  {
    id: 'chat-stream-ollama',
    title: 'streamed chat (22 NDJSON lines in), Ollama adapter (ollama/)',
    stream: true,
    provider: 'ollama',
    model: 'gemma3:4b',
    direct: (model) => ({
      path: '/api/chat',
      body: JSON.stringify({ model, messages: MESSAGES, stream: true }),
    }),
    proxied: (model) => ({
      path: '/v1/chat/completions',
      body: JSON.stringify({ model: `ollama/${model}`, messages: MESSAGES, stream: true }),
    }),
  },
  {
    id: 'embeddings',
    title: 'embeddings, OpenAI-compatible adapter (openai/)',
    stream: false,
    provider: 'openai',
    model: 'text-embedding-3-small',
    direct: (model) => ({
      path: '/v1/embeddings',
      body: JSON.stringify({ model, input: EMBED_INPUT, encoding_format: 'float' }),
    }),
    proxied: (model) => ({
      path: '/v1/embeddings',
      body: JSON.stringify({ model: `openai/${model}`, input: EMBED_INPUT, encoding_format: 'float' }),
    }),
  },
];

/** @param {Scenario} s @param {string} target @param {string} [modelSuffix] */
function requestFor(s, target, modelSuffix = '') {
  return target === 'direct' ? s.direct(s.model + modelSuffix) : s.proxied(s.model + modelSuffix);
}

/**
 * The real service's configuration for the bench: validation, routing (the shipped aliases.yaml),
 * Prometheus metrics and one log line per request at info, as in production; cache off; Groq and
 * OpenAI (OpenAI-compatible adapter) and Ollama pointed at the fake.
 *
 * @param {string} fakeUrl @param {string} root the repository
 * @returns {Record<string, string>}
 */
function manaLlmEnv(fakeUrl, root) {
  return {
    NODE_ENV: 'production',
    PORT: '0',
    LOG_LEVEL: 'info',
    OLLAMA_URL: fakeUrl,
    GROQ_API_KEY: 'bench-groq-key',
    GROQ_BASE_URL: `${fakeUrl}/v1`,
    OPENAI_API_KEY: 'bench-openai-key',
    OPENAI_BASE_URL: `${fakeUrl}/v1`,
    ALIASES_PATH: join(root, 'aliases.yaml'),
    CACHE_STORE: 'none',
    SHUTDOWN_DELAY: '0',
    SHUTDOWN_GRACE: '2',
  };
}

module.exports = { SCENARIOS, manaLlmEnv, requestFor };
