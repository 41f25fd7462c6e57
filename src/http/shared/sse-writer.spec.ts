import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { ModelNotFoundError } from '../../core/errors/request-errors';
import { AllProvidersFailedError } from '../../core/errors/routing-errors';
import { UpstreamRateLimitError, UpstreamTimeoutError } from '../../core/errors/upstream-errors';
import { ChatCompletionChunk } from '../../core/openai/chat-completion.types';
import { SseWriter } from './sse-writer';

const chunk = (content: string, finish: 'stop' | null = null): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'groq/llama',
  choices: [{ index: 0, delta: { content }, finish_reason: finish }],
});

interface Received {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body so far, as the client read it. */
  body: () => string;
  ended: Promise<string>;
  response: IncomingMessage;
}

/** One real exchange on an ephemeral server: the test drives `res` through an SseWriter. */
class Exchange {
  private constructor(
    readonly server: Server,
    readonly res: ServerResponse,
    readonly received: Promise<Received>,
  ) {}

  static async open(): Promise<Exchange> {
    let resolveRes!: (res: ServerResponse) => void;
    const gotRes = new Promise<ServerResponse>((r) => (resolveRes = r));
    const server = createServer((_req, res) => resolveRes(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const received = new Promise<Received>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST' }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (d: string) => (body += d));
        const ended = new Promise<string>((r) => response.on('end', () => r(body)));
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: () => body,
          ended,
          response,
        });
      });
      req.on('error', reject);
      req.end('{}');
    });
    return new Exchange(server, await gotRes, received);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records every `res.write` (what reaches the socket as one write) and still writes it. */
function captureWrites(res: ServerResponse): string[] {
  const writes: string[] = [];
  const original = res.write.bind(res) as (data: string) => boolean;
  res.write = ((data: string) => {
    writes.push(data);
    return original(data);
  }) as ServerResponse['write'];
  return writes;
}

describe(SseWriter.name, () => {
  let exchange: Exchange;
  beforeEach(async () => {
    exchange = await Exchange.open();
  });
  afterEach(() => exchange.close());

  it('should defer the headers until the first chunk and then send SSE headers with the resolved model', async () => {
    const writer = new SseWriter(exchange.res, { 'x-request-id': 'req-1' }, 10_000);
    await sleep(30);
    expect(exchange.res.headersSent).toBe(false);
    writer.chunk(chunk('Hel'));
    writer.chunk(chunk('lo', 'stop'));
    writer.done();
    const received = await exchange.received;
    expect(received.status).toBe(200);
    expect(received.headers).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      'x-request-id': 'req-1',
      'x-mana-llm-resolved': 'groq/llama',
    });
    expect(await received.ended).toBe(
      `data: ${JSON.stringify(chunk('Hel'))}\n\ndata: ${JSON.stringify(chunk('lo', 'stop'))}\n\ndata: [DONE]\n\n`,
    );
  });

  it('should write the chunks of one loop turn (several upstream reads) in one write, and a large batch at once', async () => {
    const writes = captureWrites(exchange.res);
    const writer = new SseWriter(exchange.res, {}, 10_000);
    // Two reads' worth in one turn, with a microtask between them (as between two socket reads).
    writer.chunk(chunk('a'));
    await Promise.resolve();
    writer.chunk(chunk('b'));
    expect(writes).toEqual([]);
    await sleep(5);
    expect(writes).toEqual([
      `data: ${JSON.stringify(chunk('a'))}\n\ndata: ${JSON.stringify(chunk('b'))}\n\n`,
    ]);
    // Past 16 KiB the batch is written within the call (its write can pause the producer at once).
    const big = chunk('x'.repeat(17 * 1024));
    writer.chunk(big);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe(`data: ${JSON.stringify(big)}\n\n`);
    writer.done();
  });

  it('should batch the chunks of one tick into one socket write', async () => {
    const writes = captureWrites(exchange.res);
    const writer = new SseWriter(exchange.res, {}, 10_000);
    writer.chunk(chunk('a'));
    writer.chunk(chunk('b'));
    writer.chunk(chunk('c'));
    await sleep(5);
    writer.chunk(chunk('d'));
    await sleep(5);
    expect(writes).toEqual([
      [chunk('a'), chunk('b'), chunk('c')].map((c) => `data: ${JSON.stringify(c)}\n\n`).join(''),
      `data: ${JSON.stringify(chunk('d'))}\n\n`,
    ]);
    writer.done();
  });

  it('should answer a JSON error with its status before the first chunk, passing Retry-After on for a 429', async () => {
    const writer = new SseWriter(exchange.res, { 'x-request-id': 'req-2' }, 10_000);
    const error = new UpstreamRateLimitError('slow down', 'groq');
    error.retryAfterSeconds = 7;
    writer.error(error, 'req-2');
    writer.chunk(chunk('ignored'));
    writer.done();
    const received = await exchange.received;
    expect(received.status).toBe(429);
    expect(received.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(received.headers['retry-after']).toBe('7');
    expect(received.headers['x-request-id']).toBe('req-2');
    const body = await received.ended;
    expect(received.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(JSON.parse(body)).toEqual({
      error: { message: 'slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null },
    });
  });

  it('should end a committed stream with an error frame and no [DONE]', async () => {
    const writer = new SseWriter(exchange.res, {}, 10_000);
    writer.chunk(chunk('partial'));
    writer.error(new UpstreamTimeoutError('groq sent no chunk for 300 ms', 'groq'));
    writer.done();
    const body = await (await exchange.received).ended;
    expect(body).toBe(
      `data: ${JSON.stringify(chunk('partial'))}\n\n` +
        'data: {"error":{"message":"groq sent no chunk for 300 ms","type":"timeout_error","code":"upstream_timeout","param":null}}\n\n',
    );
  });

  it('should send headers and keep-alive comments while no chunk comes, then the chunks', async () => {
    const writer = new SseWriter(exchange.res, { 'x-request-id': 'req-3' }, 40);
    const received = await exchange.received;
    expect(received.status).toBe(200);
    expect(received.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(received.headers['x-mana-llm-resolved']).toBeUndefined();
    const deadline = Date.now() + 5000;
    while (!received.body().includes(': keep-alive\n\n: keep-alive\n\n') && Date.now() < deadline)
      await sleep(10);
    writer.chunk(chunk('late', 'stop'));
    writer.done();
    const body = await received.ended;
    const data = `data: ${JSON.stringify(chunk('late', 'stop'))}\n\ndata: [DONE]\n\n`;
    expect(body.endsWith(data)).toBe(true);
    expect(body.slice(0, -data.length)).toMatch(/^(: keep-alive\n\n){2,}$/);
  });

  it('should carry the attempts in the error frame when keep-alive committed the stream and the chain failed', async () => {
    const writer = new SseWriter(exchange.res, {}, 20);
    const received = await exchange.received;
    writer.error(
      new AllProvidersFailedError('mana/fast-text', [
        { model: 'groq/llama', reason: 'UpstreamTimeoutError' },
        { model: 'ollama/gemma3:4b', reason: 'unconfigured' },
      ]),
    );
    const body = await received.ended;
    expect(received.status).toBe(200);
    const frames = body.split('\n\n').filter((f) => f.length > 0);
    expect(frames.slice(0, -1).every((f) => f === ': keep-alive')).toBe(true);
    expect(JSON.parse(frames[frames.length - 1].slice('data: '.length))).toEqual({
      error: {
        message:
          "No provider could answer for 'mana/fast-text': groq/llama (UpstreamTimeoutError), ollama/gemma3:4b (unconfigured)",
        type: 'upstream_error',
        code: 'all_providers_failed',
        param: null,
        attempts: [
          { model: 'groq/llama', reason: 'UpstreamTimeoutError' },
          { model: 'ollama/gemma3:4b', reason: 'unconfigured' },
        ],
      },
    });
  });

  it('should pause the producer while the socket buffer is full and resume it on drain', async () => {
    const writer = new SseWriter(exchange.res, {}, 10_000);
    const received = (async () => {
      const r = await exchange.received;
      r.response.pause();
      return r;
    })();
    const big = chunk('x'.repeat(64 * 1024));
    let writes = 0;
    while (!writer.flow.paused && writes < 2000) {
      writer.chunk(big);
      writes++;
      await sleep(0);
    }
    expect(writer.flow.paused).toBe(true);
    const ready = writer.flow.ready();
    expect(ready).toBeInstanceOf(Promise);
    (await received).response.resume();
    await ready;
    expect(writer.flow.paused).toBe(false);
    writer.done();
    const body = await (await received).ended;
    expect(body.split('\n\n').filter((f) => f.length > 0)).toHaveLength(writes + 1);
  });

  it('should write nothing more and release the producer after abandon', async () => {
    const writer = new SseWriter(exchange.res, {}, 20);
    writer.flow.pause();
    writer.abandon();
    expect(writer.flow.paused).toBe(false);
    await sleep(60);
    writer.chunk(chunk('x'));
    writer.error(new ModelNotFoundError('m'));
    writer.done();
    expect(exchange.res.headersSent).toBe(false);
    exchange.res.end();
  });
});
