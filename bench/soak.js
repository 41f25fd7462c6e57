'use strict';
/**
 * Soak: a long mixed load through the real gateway (bench/soak-gateway.js, a child process with
 * --expose-gc) against fake upstreams replaying ../shared/fixtures, then a check that nothing leaked.
 *
 *   npm run soak                              # 60 s, 32 concurrent clients
 *   node bench/soak.js --duration 600 --concurrency 64 --out /tmp/soak.json
 *
 * The mix: JSON and streamed chat (Ollama NDJSON, Groq SSE), an alias falling back after a 429,
 * embeddings, clients that leave mid-stream and before any answer, unknown aliases (404) and bad
 * bodies (400). Before (after a warm-up) and after the run, with a full GC in the gateway: RSS,
 * heap, active handles, open connections, listeners. Exits 1 when a request had an unexpected
 * outcome, a connection or handle stayed open, the heap grew more than --max-heap-growth MB, or the
 * gateway warned (MaxListenersExceeded, ...).
 */
const { fork } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const http = require('node:http');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const FIXTURES = resolve(__dirname, '../../shared/fixtures');
const MB = 1024 * 1024;

function args() {
  const out = { duration: 60, concurrency: 32, sample: 10, warmup: 5, maxHeapGrowth: 10, out: undefined };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in out)) throw new Error(`unknown option ${argv[i]}`);
    out[key] = key === 'out' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return out;
}

const fixture = (path) => readFileSync(join(FIXTURES, path));

/** Fake Ollama: `slow` streams a line every 10 ms, `hang` never answers, anything else the fixtures. */
function ollamaHandler(req, res, body) {
  const json = { 'content-type': 'application/json' };
  if (req.url === '/api/tags') return res.writeHead(200, json).end(fixture('ollama/tags.response.json'));
  if (req.url === '/api/embed') return res.writeHead(200, json).end(fixture('ollama/embed.response.json'));
  const model = /"model":"([^"]*)"/.exec(body)?.[1];
  if (model === 'hang') return;
  if (/"stream":false/.test(body))
    return res.writeHead(200, json).end(fixture('ollama/chat_nonstream.response.json'));
  const lines = fixture('ollama/chat_stream.response.ndjson')
    .toString()
    .split(/(?<=\n)/);
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  if (model !== 'slow') return res.end(lines.join(''));
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i === lines.length) return res.end();
    res.write(lines[i++]);
    setTimeout(next, 10);
  };
  next();
}

/** Fake Groq: model `limited` answers 429, anything else the SSE or JSON fixture. */
function groqHandler(req, res, body) {
  if (req.url.endsWith('/models')) return res.writeHead(200).end(fixture('openai/models_list.response.json'));
  if (/"model":"limited"/.test(body)) {
    return res
      .writeHead(429, { 'content-type': 'application/json' })
      .end(fixture('groq/error_429_rate_limit.json'));
  }
  if (/"stream":true/.test(body)) {
    return res
      .writeHead(200, { 'content-type': 'text/event-stream' })
      .end(fixture('groq/chat_stream_text.response.sse'));
  }
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(fixture('groq/chat_nonstream.response.json'));
}

function startFake(handler) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function startGateway(env) {
  const child = fork(join(__dirname, 'soak-gateway.js'), [], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, SOAK_GATEWAY_ENV: JSON.stringify(env) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map();
  child.on('message', (msg) => {
    const w = waiting.get(msg.id);
    if (w) {
      waiting.delete(msg.id);
      w(msg);
    }
  });
  return new Promise((ready, fail) => {
    child.once('exit', (code) => fail(new Error(`soak gateway exited with ${code}`)));
    child.once('message', (msg) =>
      ready({
        url: `http://127.0.0.1:${msg.port}`,
        stats: (gc) =>
          new Promise((r) => {
            const id = ++nextId;
            waiting.set(id, r);
            child.send({ cmd: 'stats', gc, id });
          }),
        close: () => new Promise((r) => (child.once('exit', r), child.send({ cmd: 'close' }))),
      }),
    );
  });
}

/** One exchange: its status, or `aborted` when the client left on purpose, or `error: ...`. */
function exchange(agent, url, path, body, abort) {
  return new Promise((done) => {
    const req = http.request(`${url}${path}`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json' },
    });
    let timer;
    let left = false;
    const leave = () => {
      left = true;
      clearTimeout(timer);
      req.destroy();
      done('aborted');
    };
    req.on('error', (err) => {
      clearTimeout(timer);
      done(left ? 'aborted' : `error: ${err.code || err.message}`);
    });
    req.on('response', (res) => {
      if (abort === 'data') return void res.once('data', leave);
      res.resume();
      res.on('end', () => done(String(res.statusCode)));
    });
    if (typeof abort === 'number') timer = setTimeout(leave, abort);
    req.end(JSON.stringify(body));
  });
}

const messages = [{ role: 'user', content: 'What is the capital of France?' }];
/** [name, path, body, expected outcome, abort]. */
const MIX = [
  ['chat ollama json', '/v1/chat/completions', { model: 'ollama/gemma3:4b', stream: false, messages }, '200'],
  [
    'chat ollama stream',
    '/v1/chat/completions',
    { model: 'ollama/gemma3:4b', stream: true, messages },
    '200',
  ],
  [
    'chat groq stream',
    '/v1/chat/completions',
    { model: 'groq/llama-3.1-8b-instant', stream: true, messages },
    '200',
  ],
  [
    'chat groq json',
    '/v1/chat/completions',
    { model: 'groq/llama-3.1-8b-instant', stream: false, messages },
    '200',
  ],
  ['alias fallback after 429', '/v1/chat/completions', { model: 'mana/soak', stream: true, messages }, '200'],
  ['embeddings', '/v1/embeddings', { model: 'ollama/nomic-embed-text', input: 'hello' }, '200'],
  [
    'client leaves mid-stream',
    '/v1/chat/completions',
    { model: 'ollama/slow', stream: true, messages },
    'aborted',
    'data',
  ],
  [
    'client leaves before any answer',
    '/v1/chat/completions',
    { model: 'ollama/hang', stream: true, messages },
    'aborted',
    20,
  ],
  ['unknown alias', '/v1/chat/completions', { model: 'mana/unknown', messages }, '404'],
  ['bad body', '/v1/chat/completions', { model: 'ollama/gemma3:4b', messages: 'nope' }, '400'],
];

async function run(gateway, agent, seconds, concurrency, counts) {
  const end = Date.now() + seconds * 1000;
  let n = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const [name, path, body, expected, abort] = MIX[n++ % MIX.length];
      const outcome = await exchange(agent, gateway.url, path, body, abort);
      const c = (counts[name] ??= { requests: 0, unexpected: {} });
      c.requests++;
      if (outcome !== expected) c.unexpected[outcome] = (c.unexpected[outcome] || 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Waits until the gateway has no connection and no request in flight (clients gone). */
async function quiesce(gateway) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await gateway.stats(false);
    if ((s.connections === 0 && s.inFlight === 0) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const mb = (bytes) => Math.round((bytes / MB) * 10) / 10;

async function main() {
  const o = args();
  const [ollama, groq] = await Promise.all([startFake(ollamaHandler), startFake(groqHandler)]);
  const dir = mkdtempSync(join(tmpdir(), 'mana-llm-soak-'));
  writeFileSync(
    join(dir, 'aliases.yaml'),
    'aliases:\n  mana/soak:\n    chain: [groq/limited, ollama/gemma3:4b]\n',
  );
  const gateway = await startGateway({
    OLLAMA_URL: `http://127.0.0.1:${ollama.address().port}`,
    GROQ_API_KEY: 'gsk_soak_key_0000000000',
    GROQ_BASE_URL: `http://127.0.0.1:${groq.address().port}/openai/v1`,
    ALIASES_PATH: join(dir, 'aliases.yaml'),
    OLLAMA_MAX_CONCURRENCY: String(o.concurrency * 2),
    CIRCUIT_FAILURE_THRESHOLD: '1000000',
    HEALTH_PROBE_INTERVAL: '5',
  });
  const startedAt = new Date().toISOString();
  const warm = {};
  let agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  await run(gateway, agent, o.warmup, o.concurrency, warm);
  agent.destroy();
  await quiesce(gateway);
  const before = await gateway.stats(true);

  const counts = {};
  const samples = [];
  agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const t0 = Date.now();
  const sampler = setInterval(async () => {
    const s = await gateway.stats(false);
    samples.push({
      t: Math.round((Date.now() - t0) / 1000),
      rssMb: mb(s.rss),
      heapMb: mb(s.heapUsed),
      connections: s.connections,
    });
    process.stdout.write(
      `  t=${samples.at(-1).t}s rss=${samples.at(-1).rssMb} MB heap=${samples.at(-1).heapMb} MB open=${s.connections}\n`,
    );
  }, o.sample * 1000);
  await run(gateway, agent, o.duration, o.concurrency, counts);
  const elapsed = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  agent.destroy();
  await quiesce(gateway);
  const after = await gateway.stats(true);
  await gateway.close();
  ollama.close();
  groq.close();
  rmSync(dir, { recursive: true, force: true });

  const requests = Object.values(counts).reduce((n, c) => n + c.requests, 0);
  const unexpected = Object.values(counts).reduce(
    (n, c) => n + Object.values(c.unexpected).reduce((a, b) => a + b, 0),
    0,
  );
  const heapGrowthMb = mb(after.heapUsed - before.heapUsed);
  const handlesGrew = Object.entries(after.resources).filter(
    ([type, n]) => type !== 'Timeout' && n > (before.resources[type] || 0) + 2,
  );
  const report = {
    startedAt,
    node: process.version,
    durationSeconds: Math.round(elapsed),
    concurrency: o.concurrency,
    requests,
    requestsPerSecond: Math.round(requests / elapsed),
    unexpected,
    byKind: counts,
    before: {
      rssMb: mb(before.rss),
      heapUsedMb: mb(before.heapUsed),
      resources: before.resources,
      connections: before.connections,
      processListeners: before.processListeners,
      serverListeners: before.serverListeners,
    },
    after: {
      rssMb: mb(after.rss),
      heapUsedMb: mb(after.heapUsed),
      resources: after.resources,
      connections: after.connections,
      inFlight: after.inFlight,
      processListeners: after.processListeners,
      serverListeners: after.serverListeners,
    },
    peakRssMb: Math.max(mb(before.rss), ...samples.map((s) => s.rssMb)),
    heapGrowthMb,
    warnings: after.warnings,
    samples,
  };
  process.stdout.write(`\n${JSON.stringify(report, null, 2)}\n`);
  if (o.out) writeFileSync(o.out, JSON.stringify(report, null, 2));

  const failures = [];
  if (unexpected > 0) failures.push(`${unexpected} unexpected outcomes`);
  if (after.connections !== 0 || after.inFlight !== 0) failures.push('connections or requests left open');
  if (handlesGrew.length > 0) failures.push(`handles grew: ${JSON.stringify(handlesGrew)}`);
  if (after.processListeners !== before.processListeners || after.serverListeners !== before.serverListeners)
    failures.push('listeners grew');
  if (heapGrowthMb > o.maxHeapGrowth) failures.push(`heap grew ${heapGrowthMb} MB`);
  if (after.warnings.length > 0) failures.push(`warnings: ${after.warnings.join('; ')}`);
  process.stdout.write(failures.length ? `\nSOAK FAILED: ${failures.join(', ')}\n` : '\nSOAK OK\n');
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
