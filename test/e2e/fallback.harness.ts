import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream, Reply } from '../support/fake-upstream';
import { fixture, fixtureHeaders, ndjsonLines, sseEvents } from '../support/fixtures';

/** Shared pieces of the fallback, alias and health e2e tests. */

/** An aliases file in a fresh temporary directory (ALIASES_PATH). */
export class AliasesFile {
  readonly dir = mkdtempSync(join(tmpdir(), 'mana-llm-aliases-'));
  readonly path = join(this.dir, 'aliases.yaml');

  constructor(yaml: string) {
    this.write(yaml);
  }

  write(yaml: string): void {
    writeFileSync(this.path, yaml);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A loopback port nothing listens on (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export const GROQ_PATH = '/openai/v1/chat/completions';
export const OPENAI_PATH = '/v1/chat/completions';
export const OPENROUTER_PATH = '/api/v1/chat/completions';

export const env = {
  groq: (fake: FakeUpstream | string) => ({
    GROQ_API_KEY: 'gsk_test_primary_key',
    GROQ_BASE_URL: `${typeof fake === 'string' ? fake : fake.url}/openai/v1`,
  }),
  openai: (fake: FakeUpstream) => ({
    OPENAI_API_KEY: 'sk-test-secondary',
    OPENAI_BASE_URL: `${fake.url}/v1`,
  }),
  openrouter: (fake: FakeUpstream) => ({
    OPENROUTER_API_KEY: 'sk-or-test-key',
    OPENROUTER_BASE_URL: `${fake.url}/api/v1`,
  }),
};

/** Replies replaying ../shared/fixtures byte for byte. */
export const replies = {
  groqJson: (): Reply => ({
    status: 200,
    headers: fixtureHeaders('groq/chat_nonstream.response.headers.txt').headers,
    body: fixture('groq/chat_nonstream.response.json'),
  }),
  openaiJson: (): Reply => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: fixture('openai/chat_nonstream.response.json'),
  }),
  ollamaJson: (): Reply => ({ status: 200, body: fixture('ollama/chat_nonstream.response.json') }),
  groq429: (): Reply => ({
    status: 429,
    headers: fixtureHeaders('groq/error_429_rate_limit.headers.txt').headers,
    body: fixture('groq/error_429_rate_limit.json'),
  }),
  openai500: (): Reply => ({ status: 500, body: fixture('openai/error_500_server_error.json') }),
  openai400: (): Reply => ({ status: 400, body: fixture('openai/error_400_invalid_request.json') }),
  ollamaBusy: (): Reply => ({ status: 503, body: fixture('ollama/error_503_server_busy.json') }),
  ollamaTags: (): Reply => ({ status: 200, body: fixture('ollama/tags.response.json') }),
  openaiModels: (): Reply => ({ status: 200, body: fixture('openai/models_list.response.json') }),
  groqStream: (): Reply => ({
    headers: { 'content-type': 'text/event-stream' },
    pieces: sseEvents(fixture('groq/chat_stream_text.response.sse')),
  }),
  openrouterStream: (): Reply => ({
    headers: { 'content-type': 'text/event-stream' },
    pieces: sseEvents(fixture('openrouter/chat_stream.response.sse')),
  }),
  ollamaStream: (): Reply => ({
    headers: { 'content-type': 'application/x-ndjson' },
    pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
  }),
};

export function chatBody(model: string, stream = false): object {
  return { model, stream, messages: [{ role: 'user', content: 'What is the capital of France?' }] };
}

/** Polls until `check` holds (bounded). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
