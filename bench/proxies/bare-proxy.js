'use strict';
const { createServer } = require('node:http');
const { createMinimalHandlers } = require('./minimal-handlers');

/**
 * The bare reference: node:http + undici Pool, nothing else. Run as
 * `UPSTREAM_URL=http://127.0.0.1:PORT node bench/proxies/bare-proxy.js`; prints `BENCH_LISTENING <port>`.
 */
const upstream = process.env.UPSTREAM_URL;
if (!upstream) throw new Error('UPSTREAM_URL is required');
const handlers = createMinimalHandlers(upstream);
const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/v1/chat/completions') return void handlers.chat(req, res);
  if (req.method === 'POST' && req.url === '/v1/embeddings') return void handlers.embeddings(req, res);
  if (req.method === 'GET' && req.url === '/health/live') return handlers.live(req, res);
  if (req.method === 'GET' && req.url === '/lag') return handlers.lag(req, res);
  res.writeHead(404);
  res.end();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`BENCH_LISTENING ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
