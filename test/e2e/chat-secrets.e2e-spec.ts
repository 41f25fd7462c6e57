import { AddressInfo } from 'node:net';
import { createGateway, Gateway } from '../../src/bootstrap';
import { LogCapture } from '../../src/logging/log-capture';
import {
  gatewayEnv,
  parseStream,
  PROVIDER_KEYS,
  SSE,
  startFakeOllama,
  startFakeVendor,
} from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, sseEvents } from '../support/fixtures';
import { rawRequest } from '../support/sse-client';

const CALLER_KEY = 'caller-secret-0123456789abcdef';
const user = [{ role: 'user', content: 'hi' }];

/** Every secret that must never leave the gateway: the provider keys and the caller's key. */
const SECRETS = [...Object.values(PROVIDER_KEYS), CALLER_KEY];

describe('chat never leaks an API key (answers and logs)', () => {
  let ollama: FakeUpstream;
  let openai: FakeUpstream;
  let together: FakeUpstream;
  let gateway: Gateway;
  let url: string;
  const logs = new LogCapture();
  const post = (body: object) =>
    rawRequest(`${url}/v1/chat/completions`, { body, headers: { authorization: `Bearer ${CALLER_KEY}` } });

  beforeAll(async () => {
    ollama = await startFakeOllama();
    openai = await startFakeVendor('/v1', 'openai/models_list.response.json');
    together = await startFakeVendor('/v1', 'openai/models_list.response.json');
    gateway = await createGateway(
      { ...gatewayEnv({ ollama, openai, together }), LOG_LEVEL: 'debug', ALIASES_PATH: undefined },
      { forceCloseConnections: true, logDestination: logs },
    );
    await gateway.app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(gateway.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await gateway?.app.close();
    await Promise.all([ollama, openai, together].map((f) => f.close()));
  });

  it('should keep the keys out of every answer and log line while upstreams echo them back', async () => {
    // OpenAI echoes the key it was sent in its 401 (masked in reality; here in full, the worst case).
    openai.on('POST', '/v1/chat/completions', {
      status: 401,
      body: {
        error: {
          message: `Incorrect API key provided: ${PROVIDER_KEYS.openai}`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      },
    });
    const auth = await post({ model: 'openai/gpt-4o-mini', messages: user });
    expect(auth.status).toBe(502);

    // A key without a well-known prefix (Together's) echoed in a 400 and in a 500.
    together.on(
      'POST',
      '/v1/chat/completions',
      { status: 400, body: { error: { message: `key ${PROVIDER_KEYS.together} may not use this model` } } },
      { status: 500, body: { error: { message: `internal: ${PROVIDER_KEYS.together}` } } },
    );
    const bad = await post({ model: 'together/meta-llama/x', messages: user });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toBe('key [redacted] may not use this model');
    const server = await post({ model: 'together/meta-llama/x', messages: user });
    expect(server.status).toBe(502);

    // And inside a stream, after content: the error frame.
    const events = sseEvents(fixture('together/chat_stream.response.sse')).slice(0, 3);
    together.on('POST', '/v1/chat/completions', {
      headers: SSE,
      pieces: [
        ...events,
        `data: ${JSON.stringify({ error: { message: `stream failed for ${PROVIDER_KEYS.together}` } })}\n\n`,
      ],
      delayMs: 1,
    });
    const stream = await post({ model: 'together/meta-llama/x', stream: true, messages: user });
    expect(parseStream(stream.body).error?.message).toBe('stream failed for [redacted]');

    for (const res of [auth, bad, server, stream]) {
      const raw = JSON.stringify(res.headers) + res.body;
      for (const secret of SECRETS) expect(raw).not.toContain(secret);
    }
    // The caller's key went nowhere upstream either.
    for (const fake of [openai, together]) {
      for (const sent of fake.requests)
        expect(JSON.stringify(sent.headers) + sent.body).not.toContain(CALLER_KEY);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(logs.raw.length).toBeGreaterThan(0);
    for (const line of logs.raw) for (const secret of SECRETS) expect(line).not.toContain(secret);
  });
});
