import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { LlmError } from '../errors/llm-error';
import { ClientAbortError } from '../errors/request-errors';
import {
  UpstreamConnectionError,
  UpstreamProtocolError,
  UpstreamServerError,
  UpstreamTimeoutError,
} from '../errors/upstream-errors';
import { StreamSink, UpstreamHttp } from './upstream-http';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 answering per path. */
async function serve(
  routes: Record<string, Route>,
): Promise<{ url: string; server: Server; closes: string[] }> {
  const closes: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('close', () => closes.push(req.url ?? ''));
    const route = routes[req.url ?? ''];
    if (route) route(req, res);
    else res.writeHead(404).end('{"error":{"message":"no route"}}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, server, closes };
}

/** A sink that records what a streaming exchange delivered. */
function recorder() {
  const got = { data: '', ended: false, error: undefined as LlmError | undefined };
  let settle!: () => void;
  const settled = new Promise<void>((ok) => (settle = ok));
  const sink: StreamSink = {
    data: (chunk) => (got.data += chunk.toString('utf8')),
    end: () => {
      got.ended = true;
      settle();
    },
    fail: (error) => {
      got.error = error;
      settle();
    },
  };
  return { got, sink, settled };
}

describe(UpstreamHttp.name, () => {
  let up: Awaited<ReturnType<typeof serve>>;
  let http: UpstreamHttp;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    up = await serve({
      '/v1/ok': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}'),
      '/v1/pieces': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: 1\n\n');
        setTimeout(() => res.end('data: 2\n\n'), 20);
      },
      '/v1/fail': (_req, res) =>
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":{"message":"boom sk-test-secret-123"}}'),
      '/v1/huge': (_req, res) => {
        res.writeHead(500);
        res.end(Buffer.alloc(2 * 1024 * 1024, 'x'));
      },
      '/v1/cut': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: 1\n\n');
        setTimeout(() => res.socket?.destroy(), 20);
      },
      '/v1/hints': (_req, res) => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"b":2}');
      },
      '/v1/hang': (_req, res) => {
        held.push(res);
      },
    });
    http = new UpstreamHttp({
      provider: 'vendor',
      baseUrl: up.url,
      headers: {},
      secrets: ['sk-test-secret-123'],
    });
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await http.destroy();
    await new Promise((ok) => up.server.close(ok));
  });

  it('should collect a JSON answer with its status and headers', async () => {
    const answer = await http.json({ method: 'GET', path: '/ok', timeoutMs: 2000 });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"a":1}');
    expect(answer.headers['content-type']).toBe('application/json');
  });

  it('should skip an informational 103 answer and take the real one', async () => {
    const answer = await http.json({ method: 'GET', path: '/hints', timeoutMs: 2000 });
    expect([answer.status, answer.text]).toEqual([200, '{"b":2}']);
  });

  it('should turn an error status into the typed error with the key scrubbed', async () => {
    const err = await http
      .json({ method: 'POST', path: '/fail', body: '{}', timeoutMs: 2000 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamServerError);
    expect(err.message).toContain('boom');
    expect(err.message).not.toContain('sk-test-secret-123');
  });

  it('should fail an error body over the limit instead of buffering it', async () => {
    const err = await http.json({ method: 'GET', path: '/huge', timeoutMs: 2000 }).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamProtocolError);
    expect(err.message).toBe('vendor sent a body over 1048576 bytes');
  });

  it('should end a call past its deadline with a typed timeout', async () => {
    const err = await http.json({ method: 'GET', path: '/hang', timeoutMs: 50 }).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamTimeoutError);
    expect(err.message).toBe('vendor did not answer within 50 ms');
  });

  it("should abort with a ClientAbortError when the caller's signal fires, before or during the call", async () => {
    const before = new AbortController();
    before.abort();
    await expect(
      http.json({ method: 'GET', path: '/ok', timeoutMs: 2000, signal: before.signal }),
    ).rejects.toBeInstanceOf(ClientAbortError);
    const during = new AbortController();
    const pending = http.json({ method: 'GET', path: '/hang', timeoutMs: 5000, signal: during.signal });
    setTimeout(() => during.abort(), 30);
    await expect(pending).rejects.toBeInstanceOf(ClientAbortError);
  });

  it('should report an unreachable upstream as a connection error', async () => {
    const nowhere = new UpstreamHttp({ provider: 'gone', baseUrl: 'http://127.0.0.1:1', headers: {} });
    const err = await nowhere.json({ method: 'GET', path: '/x', timeoutMs: 2000 }).catch((e) => e);
    await nowhere.destroy();
    expect(err).toBeInstanceOf(UpstreamConnectionError);
  });

  it('should hand a stream body over chunk by chunk and then its end', async () => {
    const { got, sink, settled } = recorder();
    http.stream({ path: '/pieces', body: '{}', timeoutMs: 2000 }, sink);
    await settled;
    expect(got).toEqual({ data: 'data: 1\n\ndata: 2\n\n', ended: true, error: undefined });
  });

  it('should give a stream an error status as its typed failure, with no data', async () => {
    const { got, sink, settled } = recorder();
    http.stream({ path: '/fail', body: '{}', timeoutMs: 2000 }, sink);
    await settled;
    expect(got.data).toBe('');
    expect(got.error).toBeInstanceOf(UpstreamServerError);
  });

  it('should report a body cut after the headers as a broken stream', async () => {
    const { got, sink, settled } = recorder();
    http.stream({ path: '/cut', body: '{}', timeoutMs: 2000 }, sink);
    await settled;
    expect(got.data).toBe('data: 1\n\n');
    expect(got.error).toBeInstanceOf(UpstreamProtocolError);
    expect(got.error?.message).toMatch(/^vendor stream broke: /);
  });

  it('should end an aborted stream with the abort reason and close the upstream connection', async () => {
    const { got, sink, settled } = recorder();
    const stream = http.stream({ path: '/hang', body: '{}', timeoutMs: 5000 }, sink);
    const reason = new UpstreamTimeoutError('vendor sent no chunk for 10 ms', 'vendor');
    setTimeout(() => stream.abort(reason), 30);
    await settled;
    expect(got.error).toBe(reason);
    await new Promise((ok) => setTimeout(ok, 50));
    expect(up.closes).toContain('/v1/hang');
  });

  it('should hold the body while paused and deliver it after resume', async () => {
    const { got, sink, settled } = recorder();
    const stream = http.stream({ path: '/pieces', body: '{}', timeoutMs: 2000 }, sink);
    stream.pause();
    await new Promise((ok) => setTimeout(ok, 80));
    const whilePaused = got.data;
    stream.resume();
    await settled;
    expect(whilePaused.includes('data: 2')).toBe(false);
    expect(got.data).toBe('data: 1\n\ndata: 2\n\n');
  });
});
