'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { join } = require('node:path');

/**
 * The Portkey gateway (`@portkey-ai/gateway`) as an optional bench target `portkey`. It is never a
 * dependency of the repository: it lives in bench/portkey (its own package.json and lock), installed
 * on demand with INSTALL. See bench/portkey/README.md.
 */
const PORTKEY_DIR = join(__dirname, '..', 'portkey');
const INSTALL = 'npm --prefix bench/portkey ci';

/**
 * start-server.js takes its port as `--port=N` (default 8787; with 0 it would print port 0, not the
 * one bound), so the harness picks a free port and passes it. After `serve()` and a 1 s spinner it
 * prints "Your AI Gateway is running at: http://localhost:N … Ready for connections!" on stdout
 * (with ANSI colours).
 */
const PORTKEY_LISTENING = /localhost:(\d+)[\s\S]*Ready for connections/;

/**
 * Scenarios Portkey cannot serve like the other targets, with the reason printed in the report.
 * @type {Record<string, string>}
 */
const PORTKEY_UNSUPPORTED = {
  'chat-stream-ollama':
    "Portkey's ollama provider calls Ollama's OpenAI-compatible /v1/chat/completions (SSE), never the native /api/chat NDJSON stream this scenario translates; through the fake it would relay the chat-stream-openai stream again",
};

/**
 * The installed gateway in bench/portkey/node_modules, or undefined when it is not installed.
 * @returns {{ version: string, script: string } | undefined}
 */
function locatePortkey() {
  const dir = join(PORTKEY_DIR, 'node_modules', '@portkey-ai', 'gateway');
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const bin = typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin ?? {})[0];
    const script = join(dir, bin ?? 'build/start-server.js');
    return existsSync(script) ? { version: String(pkg.version), script } : undefined;
  } catch {
    return undefined;
  }
}

/** A TCP port free right now on 127.0.0.1 (Portkey cannot report the port it bound). @returns {Promise<number>} */
function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => ok(port));
    });
  });
}

/**
 * The request sent to Portkey for a scenario: the upstream's own path and body (the model name the
 * fake, like the real provider, expects: no `groq/` prefix), plus Portkey's routing headers. Portkey's
 * `openai` provider with a custom host relays the fake's chunks as they are (its `groq` provider would
 * re-serialise every chunk); the key is forwarded as the upstream's bearer token.
 *
 * @param {import('./scenarios').Scenario} s @param {string} upstreamUrl the fake's origin
 * @param {string} [modelSuffix]
 * @returns {import('./scenarios').BenchRequest}
 */
function portkeyRequest(s, upstreamUrl, modelSuffix = '') {
  if (PORTKEY_UNSUPPORTED[s.id])
    throw new Error(`portkey: ${s.id} not measured: ${PORTKEY_UNSUPPORTED[s.id]}`);
  const request = s.direct(s.model + modelSuffix);
  return {
    ...request,
    headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${upstreamUrl}/v1`,
      authorization: 'Bearer bench-openai-key',
    },
  };
}

module.exports = {
  INSTALL,
  PORTKEY_LISTENING,
  PORTKEY_UNSUPPORTED,
  freePort,
  locatePortkey,
  portkeyRequest,
};
