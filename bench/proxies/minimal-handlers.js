'use strict';
const { Pool } = require('undici');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const JSON_HEADERS = { 'content-type': 'application/json' };
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/**
 * The route handlers of the two minimal reference proxies (bare node:http and NestJS + Express): the
 * same code in both, so the difference between them is the framework alone. They do only what any
 * OpenAI-compatible proxy must: read the JSON body, strip the `provider/` prefix from `model`, call
 * the upstream through one undici `Pool`, relay OpenAI-compatible answers byte for byte and turn
 * Ollama's NDJSON into OpenAI SSE. No validation, routing table, metrics, logging or error mapping.
 *
 * @param {string} upstreamUrl origin of the upstream (OpenAI-compatible under /v1, Ollama under /api)
 */
function createMinimalHandlers(upstreamUrl) {
  const pool = new Pool(upstreamUrl, { connections: null, keepAliveTimeout: 30_000 });
  // The same event-loop delay histogram prom-client's default metrics keep in mana-llm
  // (nodejs_eventloop_lag_p99_seconds: 10 ms resolution, reset on every read), for a like-for-like lag.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();

  /** @param {import('node:http').IncomingMessage} req @returns {Promise<any>} */
  const readJson = (req) =>
    new Promise((ok, fail) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        try {
          ok(JSON.parse(body));
        } catch (err) {
          fail(err);
        }
      });
      req.on('error', fail);
    });

  /** @param {import('node:http').ServerResponse} res @param {any} upstream */
  const relay = async (res, upstream) => {
    res.writeHead(upstream.statusCode, {
      'content-type': upstream.headers['content-type'] ?? 'application/json',
    });
    for await (const chunk of upstream.body) res.write(chunk);
    res.end();
  };

  /** @param {import('node:http').ServerResponse} res @param {unknown} err */
  const fail = (res, err) => {
    if (res.headersSent) return void res.end();
    res.writeHead(502, JSON_HEADERS);
    res.end(JSON.stringify({ error: { message: String(err), type: 'upstream_error' } }));
  };

  /** @param {any} request @param {string} label @param {import('node:http').ServerResponse} res */
  const ollamaChat = async (request, label, res) => {
    const upstream = await pool.request({
      method: 'POST',
      path: '/api/chat',
      headers: JSON_HEADERS,
      body: JSON.stringify({
        model: request.model,
        messages: request.messages,
        stream: request.stream === true,
      }),
    });
    const id = 'chatcmpl-minimal';
    const created = Math.floor(Date.now() / 1000);
    if (request.stream !== true) {
      const doc = /** @type {any} */ (await upstream.body.json());
      const payload = JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: label,
        choices: [{ index: 0, message: doc.message, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: doc.prompt_eval_count,
          completion_tokens: doc.eval_count,
          total_tokens: doc.prompt_eval_count + doc.eval_count,
        },
      });
      res.writeHead(200, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(payload) });
      return res.end(payload);
    }
    res.writeHead(200, SSE_HEADERS);
    let rest = '';
    for await (const bytes of upstream.body) {
      const lines = (rest + bytes.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      let out = '';
      for (const line of lines) {
        if (line.length === 0) continue;
        const doc = JSON.parse(line);
        const chunk = {
          id,
          object: 'chat.completion.chunk',
          created,
          model: label,
          choices: [
            {
              index: 0,
              delta: { content: doc.message?.content ?? '' },
              finish_reason: doc.done ? 'stop' : null,
            },
          ],
        };
        out += 'data: ' + JSON.stringify(chunk) + '\n\n';
      }
      if (out.length > 0) res.write(out);
    }
    res.end('data: [DONE]\n\n');
  };

  return {
    /** POST /v1/chat/completions @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
    async chat(req, res) {
      try {
        const request = await readJson(req);
        const label = String(request.model);
        const slash = label.indexOf('/');
        request.model = label.slice(slash + 1);
        if (label.slice(0, slash) === 'ollama') return await ollamaChat(request, label, res);
        const upstream = await pool.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: JSON_HEADERS,
          body: JSON.stringify(request),
        });
        await relay(res, upstream);
      } catch (err) {
        fail(res, err);
      }
    },

    /** POST /v1/embeddings @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
    async embeddings(req, res) {
      try {
        const request = await readJson(req);
        const label = String(request.model);
        request.model = label.slice(label.indexOf('/') + 1);
        const upstream = await pool.request({
          method: 'POST',
          path: '/v1/embeddings',
          headers: JSON_HEADERS,
          body: JSON.stringify(request),
        });
        await relay(res, upstream);
      } catch (err) {
        fail(res, err);
      }
    },

    /** GET /health/live @param {import('node:http').IncomingMessage} _req @param {import('node:http').ServerResponse} res */
    live(_req, res) {
      res.writeHead(200, { ...JSON_HEADERS, 'content-length': 15 });
      res.end('{"status":"ok"}');
    },

    /** GET /lag: `nodejs_eventloop_lag_p99_seconds <p99>` since the last read, then reset. @param {import('node:http').IncomingMessage} _req @param {import('node:http').ServerResponse} res */
    lag(_req, res) {
      const body = `nodejs_eventloop_lag_p99_seconds ${delay.percentile(99) / 1e9}\n`;
      delay.reset();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(body);
    },

    close: () => {
      delay.disable();
      return pool.close();
    },
  };
}

module.exports = { createMinimalHandlers };
