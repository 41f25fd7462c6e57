import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, Socket } from 'node:net';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, ndjsonLines, sseEvents } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { MB, NDJSON, SSE, until } from './hardening.harness';

/**
 * A slow reader must not make the gateway buffer without bound: when the client's socket is full,
 * the SSE writer pauses the stream's flow, the adapter stops reading the upstream body, and the
 * upstream's own writes stall. Checked against an upstream that would stream forever, as fast as
 * it is read, and a raw-socket client that stops reading after the response headers.
 */

interface EndlessStream {
  /** Bytes handed to `res.write` so far. */
  bytes: number;
  /** True while the last write returned false and no `drain` came yet. */
  blocked: boolean;
  closed: boolean;
}

/** An endless stream of fixture events, written as fast as the socket takes them. */
function endless(pieces: string[], headers: Record<string, string>, state: EndlessStream) {
  const block = Buffer.from(pieces.join('').repeat(Math.ceil(65_536 / pieces.join('').length)));
  return (_req: unknown, res: ServerResponse) => {
    res.writeHead(200, headers);
    res.on('close', () => (state.closed = true));
    const pump = () => {
      state.blocked = false;
      while (!res.destroyed) {
        state.bytes += block.length;
        if (!res.write(block)) {
          state.blocked = true;
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };
}

/** A raw HTTP/1.1 request on a bare socket; resolves once the response headers are in. */
async function openStream(url: string, body: object): Promise<{ socket: Socket; head: string }> {
  const { hostname, port } = new URL(url);
  const payload = JSON.stringify(body);
  const socket = connect(Number(port), hostname);
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
  );
  let received = '';
  const head = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause(); // from here on the client reads nothing
      resolve(received.slice(0, end));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  return { socket, head };
}

/** Waits until `read()` stops changing for `quietMs` (bounded). */
async function settled(read: () => number, quietMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = read();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return now;
  }
  throw new Error(`still changing after ${timeoutMs} ms (at ${last})`);
}

describe('backpressure from a slow client to the upstream', () => {
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  /** The gateway's ServerResponse of the stream under test: its userland write buffer is visible. */
  let lastResponse: ServerResponse | undefined;
  const capture = (_req: IncomingMessage, res: ServerResponse) => (lastResponse = res);

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    gateway = await startGateway({
      OLLAMA_URL: upstream.url,
      GROQ_API_KEY: 'gsk_backpressure_key_000',
      GROQ_BASE_URL: `${upstream.url}/openai/v1`,
      // Short: a paused client must not count as an upstream stall (the idle clock stops meanwhile).
      OLLAMA_TIMEOUT: '1',
      PROVIDER_TIMEOUT: '1',
      HEALTH_PROBE_INTERVAL: '3600',
    });
    gateway.app.getHttpServer().on('request', capture);
  });
  afterAll(async () => {
    gateway?.app.getHttpServer().off('request', capture);
    await gateway?.close();
    await upstream?.close();
  });

  it.each([
    [
      'an Ollama NDJSON stream',
      'ollama/gemma3:1b',
      '/api/chat',
      ndjsonLines(fixture('ollama/chat_stream.response.ndjson')).slice(0, -1),
      NDJSON,
    ],
    [
      'a Groq SSE stream',
      'groq/llama-3.1-8b-instant',
      '/openai/v1/chat/completions',
      sseEvents(fixture('groq/chat_stream_text.response.sse')).slice(38, -2), // content events
      SSE,
    ],
    [
      // Reasoning never commits a stream by itself: without a cap on the chunks held back before
      // the commit, the gateway buffered this without bound (no write, so no backpressure).
      'a Groq SSE stream of reasoning only',
      'groq/openai/gpt-oss-120b',
      '/openai/v1/chat/completions',
      sseEvents(fixture('groq/chat_stream_text.response.sse')).slice(1, 38), // reasoning events
      SSE,
    ],
  ])(
    'should stall %s at the upstream while the client does not read, with bounded memory',
    async (_name, model, path, pieces, headers) => {
      const state: EndlessStream = { bytes: 0, blocked: false, closed: false };
      upstream.on('POST', path, endless(pieces, headers, state));
      const rssBefore = process.memoryUsage().rss;

      const { socket, head } = await openStream(gateway.url, {
        model,
        stream: true,
        messages: [{ role: 'user', content: 'Count forever' }],
      });
      try {
        expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
        expect(head.toLowerCase()).toContain('content-type: text/event-stream');

        // The upstream writes until every buffer on the way is full, then blocks for good.
        const stalledAt = await settled(() => state.bytes, 1500, 20_000);
        expect(state.blocked).toBe(true);
        expect(state.closed).toBe(false);
        // An endless stream held at a bounded amount: kernel socket buffers plus a few reads.
        expect(stalledAt).toBeGreaterThan(0);
        expect(stalledAt / MB).toBeLessThan(64);
        // What the gateway holds in userland for the client is bounded by its high-water mark.
        expect(lastResponse!.writableLength).toBeLessThan(1 * MB);
        expect((process.memoryUsage().rss - rssBefore) / MB).toBeLessThan(100);

        // Longer than the 1 s idle timeout: a slow reader is no upstream stall, nothing was aborted.
        await new Promise((r) => setTimeout(r, 1200));
        expect(state.bytes).toBe(stalledAt);
        expect(state.closed).toBe(false);

        // The client reads again: the upstream flows again, well past where it had stalled.
        let read = 0;
        socket.on('data', (c: Buffer) => (read += c.length));
        socket.resume();
        await until(() => state.bytes > stalledAt + 8 * MB, 20_000, 'upstream flowing again');
        expect(read).toBeGreaterThan(0);
      } finally {
        socket.destroy();
      }
      // The client left: the upstream request is aborted at once.
      await until(() => state.closed, 5000, 'upstream aborted after the client left');
    },
    60_000,
  );
});
