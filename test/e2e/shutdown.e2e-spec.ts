import { request } from 'node:http';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, ndjsonLines } from '../support/fixtures';
import { startServiceProcess, ServiceProcess } from '../support/service-process';
import { rawRequest, sseChunks, sseData } from '../support/sse-client';

interface Answer {
  status: number;
  body: string;
}

/** A GET on a fresh connection: the status, or the connection error's code (`ECONNREFUSED`). */
function probe(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/** Polls until the answer is no longer 200; returns that first other answer. */
async function firstNot200(url: string, timeoutMs: number): Promise<number | string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const answer = await probe(url);
    if (answer !== 200) return answer;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} stayed 200 for ${timeoutMs} ms`);
}

/** A POST whose answer is collected to its end; `firstBytes` resolves when the first bytes arrive. */
function post(
  url: string,
  body: object,
  headers: Record<string, string> = {},
): { firstBytes: Promise<void>; done: Promise<Answer> } {
  let first!: () => void;
  const firstBytes = new Promise<void>((r) => (first = r));
  const done = new Promise<Answer>((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
          first();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  return { firstBytes, done };
}

/** The machine's Redis (CI starts it): the cache store whose connection the shutdown closes. */
const REDIS = 'redis://127.0.0.1:6379';
const STREAM_TEXT = 'Okay, here we go!\n\n1, 2, 3, 4, 5\n';
const streamRequest = {
  model: 'ollama/gemma3:1b',
  stream: true,
  messages: [{ role: 'user', content: 'Count from 1 to 5' }],
};

describe('graceful shutdown (the built service as a child process)', () => {
  let ollama: FakeUpstream;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    ollama = await FakeUpstream.start();
    ollama.on('GET', '/api/tags', { body: fixture('ollama/tags.response.json') });
  });
  afterEach(async () => {
    await service?.kill();
    service = undefined;
    await ollama.close();
  });

  it('should turn readiness 503 at once, refuse new connections, finish an open stream and exit 0 when SIGTERM arrives mid-stream', async () => {
    const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'));
    // 22 lines, 150 ms apart: the stream outlasts SHUTDOWN_DELAY and ends well inside the grace.
    ollama.on('POST', '/api/chat', {
      headers: { 'content-type': 'application/x-ndjson' },
      pieces: lines,
      delayMs: 150,
    });
    // With the Redis cache on: its connection must close cleanly for the exit to be 0.
    service = await startServiceProcess({
      OLLAMA_URL: ollama.url,
      REDIS_URL: REDIS,
      SHUTDOWN_GRACE: '20',
      SHUTDOWN_DELAY: '1.5',
    });
    expect(await probe(`${service.url}/health/ready`)).toBe(200);

    // no-store: never answered from (or written to) the shared Redis, so the upstream stream is real.
    const stream = post(`${service.url}/v1/chat/completions`, streamRequest, { 'cache-control': 'no-store' });
    await stream.firstBytes;
    let streamEnded = false;
    void stream.done.then(() => (streamEnded = true));
    service.signal('SIGTERM');

    expect(await firstNot200(`${service.url}/health/ready`, 5000)).toBe(503);
    expect(await firstNot200(`${service.url}/health/live`, 10_000)).toBe('ECONNREFUSED');
    expect(streamEnded).toBe(false); // the listener closed while the stream was still running

    const answer = await stream.done;
    expect(answer.status).toBe(200);
    const text = sseChunks<{ choices: { delta: { content?: string } }[] }>(answer.body)
      .map((c) => c.choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toBe(STREAM_TEXT);
    expect(answer.body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(ollama.aborted).toHaveLength(0);

    expect(await service.exited(15_000)).toEqual({ code: 0, signal: null });
    expect(service.output()).toContain('1 open at the start, 0 ended by the grace period');
    expect(service.output()).toContain('closed; exiting with status 0');
  });

  it('should end a stream that outlasts SHUTDOWN_GRACE with a shutting_down error event, answer a pending JSON request 503 and exit 0', async () => {
    const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'));
    ollama.on(
      'POST',
      '/api/chat',
      // The stream: three lines, then the upstream stalls (still inside OLLAMA_TIMEOUT).
      { headers: { 'content-type': 'application/x-ndjson' }, pieces: lines.slice(0, 3), then: 'hang' },
      // The JSON request: no answer at all.
      { hang: true },
    );
    service = await startServiceProcess({
      OLLAMA_URL: ollama.url,
      SHUTDOWN_GRACE: '1.5',
      SHUTDOWN_DELAY: '0.2',
    });

    const stream = post(`${service.url}/v1/chat/completions`, streamRequest);
    await stream.firstBytes;
    const json = post(`${service.url}/v1/chat/completions`, { ...streamRequest, stream: false });
    while (ollama.calls('/api/chat').length < 2) await new Promise((r) => setTimeout(r, 20));
    service.signal('SIGTERM');

    const [streamed, pending] = await Promise.all([stream.done, json.done]);
    expect(streamed.status).toBe(200);
    const events = sseData(streamed.body);
    expect(events).not.toContain('[DONE]');
    const last = JSON.parse(events[events.length - 1]) as { error: Record<string, unknown> };
    expect(last).toEqual({
      error: {
        message: 'The gateway is shutting down; retry the request',
        type: 'server_error',
        code: 'shutting_down',
        param: null,
      },
    });
    const text = events
      .slice(0, -1)
      .map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content)
      .join('');
    expect(text).toBe('Okay, here');

    expect(pending.status).toBe(503);
    expect(JSON.parse(pending.body)).toEqual({
      error: {
        message: 'The gateway is shutting down; retry the request',
        type: 'server_error',
        code: 'shutting_down',
        param: null,
      },
    });

    await ollama.waitForAborts(2); // both upstream requests were cut when the grace ran out
    expect(await service.exited(10_000)).toEqual({ code: 0, signal: null });
    expect(service.output()).toContain('2 open at the start, 2 ended by the grace period');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'should exit 0 at once when %s arrives with nothing open',
    async (signal) => {
      service = await startServiceProcess({
        OLLAMA_URL: ollama.url,
        REDIS_URL: REDIS,
        HEALTH_PROBE_INTERVAL: '0.2',
        SHUTDOWN_GRACE: '30',
        SHUTDOWN_DELAY: '0',
      });
      expect(await probe(`${service.url}/health/live`)).toBe(200);
      // The provider probe is running (a timer the shutdown hooks stop) and Redis is connected.
      while (ollama.calls('/api/tags').length < 2) await new Promise((r) => setTimeout(r, 20));
      let cache: unknown;
      for (let i = 0; i < 100; i++) {
        cache = (JSON.parse((await rawRequest(`${service.url}/v1/health`)).body) as { cache: unknown }).cache;
        if ((cache as { healthy?: boolean }).healthy) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(cache).toEqual({ store: 'redis', healthy: true });
      service.signal(signal);
      // Far below the 30 s grace: an idle process does not wait for it.
      expect(await service.exited(10_000)).toEqual({ code: 0, signal: null });
      expect(service.output()).toContain(`${signal} received: shutting down`);
      expect(service.output()).toContain('closed; exiting with status 0');
    },
  );
});
