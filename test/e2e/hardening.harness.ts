import type { ServerResponse } from 'node:http';
import { createServer, Server, Socket } from 'node:net';
import { FakeUpstream, RecordedRequest } from '../support/fake-upstream';
import { fixture, fixtureJson, ndjsonLines, sseEvents } from '../support/fixtures';

/** Shared pieces of the hardening, fuzz, backpressure and leak e2e tests. */

export const NDJSON = { 'content-type': 'application/x-ndjson' };
export const SSE = { 'content-type': 'text/event-stream' };

/** Every path a fake may see: the fixed API paths of each provider, never one a model id built. */
export const FIXED_PATHS = {
  ollama: new Set(['/api/chat', '/api/embed', '/api/tags']),
  groq: new Set(['/openai/v1/chat/completions', '/openai/v1/embeddings', '/openai/v1/models']),
  openai: new Set(['/v1/chat/completions', '/v1/embeddings', '/v1/models']),
};

function streamRequested(req: RecordedRequest): boolean {
  try {
    return req.json<{ stream?: unknown }>().stream !== false;
  } catch {
    return false;
  }
}

function inputCount(req: RecordedRequest): number {
  try {
    const input = req.json<{ input?: unknown }>().input;
    return Array.isArray(input) ? input.length : 1;
  } catch {
    return 1;
  }
}

function send(res: ServerResponse, headers: Record<string, string>, body: string): void {
  res.writeHead(200, headers);
  res.end(body);
}

/** An Ollama fake answering any chat (NDJSON or JSON, as asked), embed (one vector per input) and tags. */
export async function fixtureOllama(): Promise<FakeUpstream> {
  const fake = await FakeUpstream.start();
  const stream = fixture('ollama/chat_stream.response.ndjson');
  const json = fixture('ollama/chat_nonstream.response.json');
  const embed = fixtureJson<{ embeddings: number[][] }>('ollama/embed.response.json');
  fake.on('POST', '/api/chat', (req, res) =>
    // Ollama streams unless `"stream": false` (fixtures/README.md).
    streamRequested(req)
      ? send(res, NDJSON, stream)
      : send(res, { 'content-type': 'application/json' }, json),
  );
  fake.on('POST', '/api/embed', (req, res) =>
    send(
      res,
      { 'content-type': 'application/json' },
      JSON.stringify({ ...embed, embeddings: Array(inputCount(req)).fill(embed.embeddings[0]) }),
    ),
  );
  fake.on('GET', '/api/tags', { body: fixture('ollama/tags.response.json') });
  return fake;
}

/** An OpenAI-compatible fake under `prefix` answering chat (SSE or JSON), embeddings and models. */
export async function fixtureVendor(prefix: string): Promise<FakeUpstream> {
  const fake = await FakeUpstream.start();
  const stream = fixture('openai/chat_stream_usage.response.sse');
  const json = fixture('openai/chat_nonstream.response.json');
  const embeddings = fixtureJson<{ data: { embedding: number[] }[] }>(
    'openai/embeddings_float.response.json',
  );
  fake.on('POST', `${prefix}/chat/completions`, (req, res) => {
    const asked = (() => {
      try {
        return req.json<{ stream?: unknown }>().stream === true;
      } catch {
        return false;
      }
    })();
    if (asked) send(res, SSE, stream);
    else send(res, { 'content-type': 'application/json' }, json);
  });
  fake.on('POST', `${prefix}/embeddings`, (req, res) => {
    const data = Array.from({ length: inputCount(req) }, (_, index) => ({
      object: 'embedding',
      index,
      embedding: embeddings.data[0].embedding,
    }));
    send(res, { 'content-type': 'application/json' }, JSON.stringify({ ...embeddings, data }));
  });
  fake.on('GET', `${prefix}/models`, { body: fixture('openai/models_list.response.json') });
  return fake;
}

export const replies = {
  ollamaStream: () => ({
    headers: NDJSON,
    pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
  }),
  groqStream: () => ({ headers: SSE, pieces: sseEvents(fixture('groq/chat_stream_text.response.sse')) }),
  groqJson: () => ({ body: fixture('groq/chat_nonstream.response.json') }),
  ollamaJson: () => ({ body: fixture('ollama/chat_nonstream.response.json') }),
};

/** The OpenAI error body of a JSON answer, checked for its exact shape. */
export function openAiError(
  contentType: unknown,
  body: string,
): {
  message: string;
  type: string;
  code: string | null;
  param: string | null;
} {
  if (typeof contentType !== 'string' || !contentType.startsWith('application/json'))
    throw new Error(`error answer with content-type ${String(contentType)}: ${body.slice(0, 200)}`);
  const parsed = JSON.parse(body) as { error?: Record<string, unknown> };
  const keys = Object.keys(parsed);
  if (keys.length !== 1 || keys[0] !== 'error') throw new Error(`error body keys ${keys.join(',')}`);
  const e = parsed.error!;
  if (typeof e.message !== 'string' || e.message.length === 0) throw new Error('error.message');
  if (typeof e.type !== 'string' || e.type.length === 0) throw new Error('error.type');
  if (e.code !== null && typeof e.code !== 'string') throw new Error('error.code');
  if (e.param !== null && typeof e.param !== 'string') throw new Error('error.param');
  return e as ReturnType<typeof openAiError>;
}

/** A raw TCP server (no HTTP) that answers every connection with `bytes`, then closes or holds it. */
export async function rawTcpServer(
  bytes: string,
  then: 'close' | 'hold',
): Promise<{ url: string; connections: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // Answer once the request arrived, as a confused server would.
    socket.once('data', () => {
      if (then === 'close') socket.end(bytes);
      else socket.write(bytes);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A loopback port nothing listens on (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export const MB = 1024 * 1024;

/** Polls until `check` holds (bounded). */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
