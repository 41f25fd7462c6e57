'use strict';
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

/** `../shared/fixtures` beside the repository (as in test/support/fixtures.ts). */
const FIXTURES_DIR = process.env.MANA_LLM_FIXTURES ?? resolve(__dirname, '../../../shared/fixtures');

/** @param {string} path */
function fixture(path) {
  return readFileSync(resolve(FIXTURES_DIR, path), 'utf8');
}

/** Number of data events (chunks, `[DONE]` included) in the OpenAI-compatible bench stream. */
const STREAM_EVENTS = 20;

/**
 * The upstream answers the fake replays, each one a recorded body from ../shared/fixtures, as
 * Buffers built once (the fake must cost as little as possible: its CPU is on the load generator's core).
 *
 * - `groqStreamEvents`: Groq's recorded `chat_stream_text` stream (a reasoning model) cut to 20 data
 *   events, each a verbatim event of the recording: the role chunk, the first 6 reasoning chunks, all 11
 *   content chunks, the finish chunk (usage in `x_groq.usage` and `usage`), then `[DONE]`.
 *   `groqFirstContent` is the index of the first event carrying content (the first token).
 * - `ollamaStreamLines`: Ollama's recorded `chat_stream` NDJSON (21 content lines + the `done` line).
 */
function loadUpstreamFixtures() {
  const events = fixture('groq/chat_stream_text.response.sse')
    .split(/(?<=\n\n)/)
    .filter((e) => e.startsWith('data: '));
  const done = events.findIndex((e) => e.startsWith('data: [DONE]'));
  if (done < 2) throw new Error('groq/chat_stream_text.response.sse has no [DONE] event');
  const hasContent = (/** @type {string} */ e) => /"delta":\{[^{}]*"content":"[^"]/.test(e);
  const reasoning = events.filter((e) => e.includes('"reasoning":')).slice(0, 6);
  const content = events.filter(hasContent);
  const picked = [events[0], ...reasoning, ...content, events[done - 1], events[done]];
  if (picked.length !== STREAM_EVENTS) throw new Error(`bench stream has ${picked.length} events`);
  const groqStreamEvents = picked.map((e) => Buffer.from(e));
  const groqFirstContent = picked.findIndex(hasContent);
  const ollamaStreamLines = fixture('ollama/chat_stream.response.ndjson')
    .split(/(?<=\n)/)
    .filter((l) => l.trim().length > 0)
    .map((l) => Buffer.from(l));
  return {
    groqStreamEvents,
    groqFirstContent,
    groqStreamHeaders: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    groqChat: Buffer.from(fixture('groq/chat_nonstream.response.json')),
    ollamaStreamLines,
    ollamaChat: Buffer.from(fixture('ollama/chat_nonstream.response.json')),
    openAiEmbeddings: Buffer.from(fixture('openai/embeddings_float.response.json')),
    ollamaEmbed: Buffer.from(fixture('ollama/embed.response.json')),
    ollamaTags: Buffer.from(fixture('ollama/tags.response.json')),
    openAiModels: Buffer.from(fixture('openai/models_list.response.json')),
  };
}

module.exports = { FIXTURES_DIR, fixture, loadUpstreamFixtures, STREAM_EVENTS };
