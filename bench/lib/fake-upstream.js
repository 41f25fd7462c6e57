'use strict';
const { createServer } = require('node:http');
const { loadUpstreamFixtures } = require('./fixtures');

const STREAM_TRUE = /"stream"\s*:\s*true/;
const STREAM_FALSE = /"stream"\s*:\s*false/;
/**
 * `…hold-3000…` in the model: the events up to the first token at once, the rest spread over 3 000 ms
 * (long-lived streams that are committed and flowing slowly, like a model generating).
 */
const HOLD = /hold-(\d+)/;
/** `…-jitter…` in the model, with `hold`: each stream's events start at a random phase of the step. */
const JITTER = /-jitter/;
/**
 * `…gap-5…` in the model: the events up to the first token (role, reasoning, first content) at once,
 * the rest 5 ms later, so the time to the first token's byte is measured apart from the stream's end.
 */
const GAP = /gap-(\d+)/;

/**
 * A fast fake upstream speaking Groq's OpenAI-compatible API (SSE and JSON), Ollama's native API
 * (NDJSON and JSON) and both embeddings APIs, replaying recorded bodies from ../shared/fixtures.
 * Bodies are prebuilt Buffers; a request body is only searched for `"stream"` and the model's
 * directives, never parsed.
 *
 * @param {{ port?: number }} [options]
 * @returns {Promise<{ url: string, server: import('node:http').Server, close(): Promise<void> }>}
 */
async function startFakeUpstream(options = {}) {
  const f = loadUpstreamFixtures();
  const json = { 'content-type': 'application/json' };
  const ndjson = { 'content-type': 'application/x-ndjson' };

  /**
   * @param {import('node:http').ServerResponse} res
   * @param {Buffer[]} pieces
   * @param {Record<string, string>} headers
   * @param {string} body
   * @param {number} firstToken index of the first piece carrying content
   */
  const stream = (res, pieces, headers, body, firstToken) => {
    res.writeHead(200, headers);
    const hold = HOLD.exec(body);
    const gap = GAP.exec(body);
    if (hold) {
      const step = Number(hold[1]) / (pieces.length - firstToken - 1);
      for (let i = 0; i <= firstToken; i++) res.write(pieces[i]);
      let i = firstToken + 1;
      const next = () => {
        if (res.destroyed) return;
        res.write(pieces[i++]);
        if (i < pieces.length) setTimeout(next, step);
        else res.end();
      };
      // A random phase per stream: real streams' tokens are not in lockstep, while 1 000 streams
      // started in one burst and paced by the same timer would all deliver their events in the same
      // millisecond (a worst case measured apart: docs/performance.md).
      setTimeout(next, step * (JITTER.test(body) ? Math.random() : 1));
      return;
    }
    if (gap) {
      for (let i = 0; i <= firstToken; i++) res.write(pieces[i]);
      setTimeout(() => {
        if (res.destroyed) return;
        for (let i = firstToken + 1; i < pieces.length; i++) res.write(pieces[i]);
        res.end();
      }, Number(gap[1]));
      return;
    }
    for (let i = 0; i < pieces.length; i++) res.write(pieces[i]);
    res.end();
  };

  /** @param {import('node:http').ServerResponse} res @param {Buffer} body */
  const send = (res, body) => {
    res.writeHead(200, { ...json, 'content-length': body.length });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'GET') {
      if (url === '/api/tags') return send(res, f.ollamaTags);
      if (url.endsWith('/models')) return send(res, f.openAiModels);
      res.writeHead(404, json);
      return res.end('{"error":"not found"}');
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (url.endsWith('/chat/completions')) {
        if (STREAM_TRUE.test(body))
          return stream(res, f.groqStreamEvents, f.groqStreamHeaders, body, f.groqFirstContent);
        return send(res, f.groqChat);
      }
      if (url === '/api/chat') {
        // Ollama streams unless told not to.
        if (STREAM_FALSE.test(body)) return send(res, f.ollamaChat);
        return stream(res, f.ollamaStreamLines, ndjson, body, 0);
      }
      if (url.endsWith('/embeddings')) return send(res, f.openAiEmbeddings);
      if (url === '/api/embed') return send(res, f.ollamaEmbed);
      res.writeHead(404, json);
      res.end('{"error":"not found"}');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.maxRequestsPerSocket = 0;
  await new Promise((ok) => server.listen(options.port ?? 0, '127.0.0.1', () => ok(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok(undefined));
      }),
  };
}

module.exports = { startFakeUpstream };

if (require.main === module) {
  startFakeUpstream().then(({ url }) => {
    process.stdout.write(`BENCH_LISTENING ${new URL(url).port}\n`);
  });
}
