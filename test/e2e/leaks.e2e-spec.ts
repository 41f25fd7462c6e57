import type { ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LimitedAdapter } from '../../src/core/providers/limited-adapter';
import { ProviderRegistry } from '../../src/core/providers/provider-registry';
import { InFlightTracker } from '../../src/ops/in-flight.tracker';
import { FakeUpstream, RecordedRequest } from '../support/fake-upstream';
import { fixture, ndjsonLines } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { Scrape } from '../support/metrics-text';
import { fixtureVendor, MB, NDJSON, until } from './hardening.harness';

/**
 * Thousands of requests, streams, client aborts (mid-stream and before any answer), fallbacks and
 * errors through the gateway, in three rounds. After each round the process settles and a snapshot
 * is taken after a full GC: open sockets, active handles, event listeners and the heap of the
 * second and third rounds must come back to where the first left them, and no
 * MaxListenersExceeded warning may appear. (GC is exposed at run time: no node flag is needed.)
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const LOCAL = 'ollama/gemma3:4b';
const GROQ = 'groq/llama-3.1-8b-instant';
const CONCURRENCY = 16;
const PER_ROUND = 1200;

interface Snapshot {
  heapUsed: number;
  resources: Record<string, number>;
  processListeners: number;
  serverListeners: number;
  serverConnections: number;
  upstreamSockets: number;
}

/** An Ollama fake by model: `slow` streams a line every 5 ms, `hang` never answers, else fixtures. */
function ollamaHandler(req: RecordedRequest, res: ServerResponse): void {
  const body = req.json<{ model: string; stream?: boolean; input?: unknown }>();
  if (req.path === '/api/embed') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(fixture('ollama/embed.response.json'));
    return;
  }
  if (body.model === 'hang') return;
  const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'));
  if (body.stream === false) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(fixture('ollama/chat_nonstream.response.json'));
    return;
  }
  res.writeHead(200, NDJSON);
  if (body.model !== 'slow') return void res.end(lines.join(''));
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i === lines.length) return void res.end();
    res.write(lines[i++]);
    setTimeout(next, 5);
  };
  next();
}

describe('no leaks under thousands of requests, streams and aborts', () => {
  let ollama: FakeUpstream;
  let groq: FakeUpstream;
  let gateway: RunningGateway;
  let dir: string;
  let agent: Agent;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  const tally = new Map<string, number>();

  /** One exchange; `abortAfter`: the client leaves at its first byte ('data') or after `ms`. */
  const exchange = (path: string, body: object, abortAfter?: 'data' | number): Promise<string> =>
    new Promise((resolve) => {
      const req = request(`${gateway.url}${path}`, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json' },
      });
      let timer: NodeJS.Timeout | undefined;
      const done = (outcome: string) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      req.on('error', () => done('aborted'));
      req.on('response', (res) => {
        if (abortAfter === 'data') {
          res.once('data', () => {
            req.destroy();
            done('aborted');
          });
          return;
        }
        res.resume();
        res.on('end', () => done(String(res.statusCode)));
        res.on('error', () => done('aborted'));
      });
      if (typeof abortAfter === 'number')
        timer = setTimeout(() => {
          req.destroy();
          done('aborted');
        }, abortAfter);
      req.end(JSON.stringify(body));
    });

  const messages = [{ role: 'user', content: 'hi' }];
  const operations: (() => Promise<string>)[] = [
    () => exchange('/v1/chat/completions', { model: LOCAL, stream: false, messages }),
    () => exchange('/v1/chat/completions', { model: LOCAL, stream: true, messages }),
    () => exchange('/v1/chat/completions', { model: GROQ, stream: true, messages }),
    () => exchange('/v1/chat/completions', { model: GROQ, stream: false, messages }),
    () => exchange('/v1/chat/completions', { model: 'mana/fallback', stream: true, messages }),
    () => exchange('/v1/chat/completions', { model: 'ollama/slow', stream: true, messages }, 'data'),
    () => exchange('/v1/chat/completions', { model: 'ollama/hang', stream: true, messages }, 15),
    () => exchange('/v1/chat/completions', { model: 'ollama/hang', stream: false, messages }, 15),
    () => exchange('/v1/embeddings', { model: 'ollama/nomic-embed-text', input: 'hi' }),
    () => exchange('/v1/chat/completions', { model: 'mana/unknown', messages }),
    () => exchange('/v1/chat/completions', { model: LOCAL, messages: 'not an array' }),
  ];

  async function round(): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < PER_ROUND) {
        const op = operations[next++ % operations.length];
        const outcome = await op();
        tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  async function settle(): Promise<Snapshot> {
    agent.destroy(); // the clients leave: every server-side socket must close
    agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const server = gateway.app.getHttpServer();
    const connections = () =>
      new Promise<number>((r) => server.getConnections((_e: unknown, n: number) => r(n)));
    const inFlight = gateway.app.get(InFlightTracker);
    await until(() => inFlight.size === 0, 10_000, 'no request in flight');
    const deadline = Date.now() + 10_000;
    while ((await connections()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    // The fakes record every request they saw: that is the test's memory, not the gateway's.
    for (const fake of [ollama, groq]) {
      fake.requests.length = 0;
      fake.aborted.length = 0;
    }
    gc();
    gc();
    const resources: Record<string, number> = {};
    for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
    return {
      heapUsed: process.memoryUsage().heapUsed,
      resources,
      processListeners: process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0),
      serverListeners: server
        .eventNames()
        .reduce((n: number, e: string | symbol) => n + server.listenerCount(e), 0),
      serverConnections: await connections(),
      upstreamSockets: upstreamSockets(),
    };
  }

  /** Sockets the fakes still have open (the gateway's keep-alive pools to them). */
  const upstreamSockets = () =>
    [ollama, groq].reduce((n, f) => n + (f as unknown as { sockets: Set<unknown> }).sockets.size, 0);

  beforeAll(async () => {
    process.on('warning', onWarning);
    ollama = await FakeUpstream.start();
    ollama.on('POST', '/api/chat', ollamaHandler);
    ollama.on('POST', '/api/embed', ollamaHandler);
    groq = await fixtureVendor('/openai/v1');
    groq.on('POST', '/openai/v1/chat/completions', (req, res) => {
      const body = req.json<{ model: string; stream?: boolean }>();
      if (body.model === 'limited') {
        res.writeHead(429, { 'content-type': 'application/json' });
        return void res.end(fixture('groq/error_429_rate_limit.json'));
      }
      res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
      res.end(
        fixture(
          body.stream ? 'openai/chat_stream_usage.response.sse' : 'openai/chat_nonstream.response.json',
        ),
      );
    });
    dir = mkdtempSync(join(tmpdir(), 'mana-llm-leaks-'));
    writeFileSync(
      join(dir, 'aliases.yaml'),
      `aliases:\n  mana/fallback:\n    chain: [groq/limited, ${LOCAL}]\n`,
    );
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_leaks_key_000000',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      ALIASES_PATH: join(dir, 'aliases.yaml'),
      OLLAMA_MAX_CONCURRENCY: '64',
      CIRCUIT_FAILURE_THRESHOLD: '1000000',
      HEALTH_PROBE_INTERVAL: '3600',
    });
    agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  });
  afterAll(async () => {
    agent?.destroy();
    await gateway?.close();
    await Promise.all([ollama?.close(), groq?.close()]);
    rmSync(dir, { recursive: true, force: true });
    process.off('warning', onWarning);
  });

  it('should come back to the same sockets, handles, listeners and heap after every round', async () => {
    await round(); // warm-up: JIT, pools, lazily created metric series
    const first = await settle();
    await round();
    const second = await settle();
    await round();
    const third = await settle();

    // Every kind of exchange happened, thousands of them.
    expect(tally.get('200')).toBeGreaterThan(PER_ROUND);
    expect(tally.get('aborted')).toBeGreaterThan(PER_ROUND / 10);
    expect(tally.get('404')).toBeGreaterThan(100);
    expect(tally.get('400')).toBeGreaterThan(100);
    expect([...tally.keys()].sort()).toEqual(['200', '400', '404', 'aborted']);

    for (const snapshot of [second, third]) {
      expect(snapshot.serverConnections).toBe(0);
      expect(snapshot.serverListeners).toBe(first.serverListeners);
      expect(snapshot.processListeners).toBe(first.processListeners);
      // Keep-alive pools to the fakes may differ by a connection or two, never grow per request.
      expect(snapshot.upstreamSockets).toBeLessThanOrEqual(
        Math.max(first.upstreamSockets, CONCURRENCY * 2) + 4,
      );
      expect(snapshot.resources.TCPSocketWrap ?? 0).toBeLessThanOrEqual(
        (first.resources.TCPSocketWrap ?? 0) + 4,
      );
      expect(snapshot.resources.Timeout ?? 0).toBeLessThanOrEqual((first.resources.Timeout ?? 0) + 4);
    }
    // 1 200 more exchanges per round: a leak of a few KB each would add 4-8 MB here.
    expect((second.heapUsed - first.heapUsed) / MB).toBeLessThan(3);
    expect((third.heapUsed - first.heapUsed) / MB).toBeLessThan(3);

    // The gateway's own books are closed: nothing in flight, no stream open, no slot held.
    const limiter = (gateway.app.get(ProviderRegistry).get('ollama') as LimitedAdapter).limiter;
    expect(limiter.inFlight).toBe(0);
    expect(limiter.waiting).toBe(0);
    expect((await Scrape.of(gateway.url)).value('mana_llm_active_streams')).toBe(0);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  }, 120_000);
});
