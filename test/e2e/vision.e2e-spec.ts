import { request as httpRequest, type ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { gatewayEnv, NDJSON, parseStream, textOf } from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, fixtureHeaders, fixtureJson, ndjsonLines } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { rawRequest } from '../support/sse-client';

interface OllamaImagesRequest {
  model: string;
  messages: { role: string; content: string; images: string[] }[];
}

const OLLAMA_REQUEST = fixtureJson<OllamaImagesRequest>('ollama/chat_images.request.json');
/** The PNG of Ollama's documented vision example, as Ollama wants it: bare base64. */
const PNG_BASE64 = OLLAMA_REQUEST.messages[0].images[0];
const PNG = Buffer.from(PNG_BASE64, 'base64');
const QUESTION = OLLAMA_REQUEST.messages[0].content;
const ANSWER = fixtureJson<{ message: { content: string } }>('ollama/chat_images.response.json').message
  .content;
const TEN_MB = 10 * 1024 * 1024;

function visionRequest(url: string, extra: object = {}) {
  return {
    model: 'ollama/llava',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: QUESTION },
          { type: 'image_url', image_url: { url } },
        ],
      },
    ],
    ...extra,
  };
}

function servePng(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
  res.end(PNG);
}

describe('vision (image_url parts)', () => {
  let ollama: FakeUpstream;
  let openai: FakeUpstream;
  let images: FakeUpstream;
  /** IMAGE_URL_ALLOW_PRIVATE=true: the image fake on loopback may be fetched. */
  let open: RunningGateway;
  /** Default settings: loopback and private targets are refused. */
  let strict: RunningGateway;
  const post = (gateway: RunningGateway, body: object) =>
    rawRequest(`${gateway.url}/v1/chat/completions`, { body });

  beforeAll(async () => {
    ollama = await FakeUpstream.start();
    openai = await FakeUpstream.start();
    images = await FakeUpstream.start();
    images.on('GET', '/cat.png', (_req, res) => servePng(res));
    images.on('GET', '/moved', (_req, res) => {
      res.writeHead(302, { location: '/cat.png' });
      res.end();
    });
    images.on('GET', '/page.html', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html>not an image</html>');
    });
    images.on('GET', '/missing.png', (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such image');
    });
    images.on('GET', '/huge-declared.png', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': TEN_MB + 1 });
      res.on('error', () => undefined);
      res.end(Buffer.alloc(TEN_MB + 1));
    });
    images.on('GET', '/huge-chunked.png', (_req, res) => {
      // No content-length: the limit has to hold while the body streams in.
      res.writeHead(200, { 'content-type': 'image/png' });
      res.on('error', () => undefined);
      const mb = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 11 && !res.destroyed; i++) res.write(mb);
      res.end();
    });
    const env = gatewayEnv({ ollama, openai });
    open = await startGateway({ ...env, IMAGE_URL_ALLOW_PRIVATE: 'true' });
    strict = await startGateway(env);
  });
  afterAll(async () => {
    await Promise.all([open.close(), strict.close()]);
    await Promise.all([ollama, openai, images].map((f) => f.close()));
  });
  beforeEach(() => {
    for (const f of [ollama, openai, images]) f.requests.length = 0;
    ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_images.response.json') });
  });

  it('should abort the image download, and never call Ollama, when the client leaves during it', async () => {
    let downloadClosed!: () => void;
    const closed = new Promise<void>((done) => (downloadClosed = done));
    let downloadStarted!: () => void;
    const started = new Promise<void>((done) => (downloadStarted = done));
    images.on('GET', '/slow.png', (_req, res) => {
      // Headers and half the bytes, then nothing: only the gateway's abort ends this exchange.
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
      res.write(PNG.subarray(0, PNG.length >> 1));
      res.on('error', () => undefined);
      res.once('close', downloadClosed);
      downloadStarted();
    });
    const client = httpRequest(`${open.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    client.on('error', () => undefined);
    client.end(JSON.stringify(visionRequest(`${images.url}/slow.png`)));
    await started;
    client.destroy();
    await closed;
    expect(images.calls('/slow.png')).toHaveLength(1);
    expect(ollama.calls('/api/chat')).toHaveLength(0);
  });

  it('should strip a data: URL to the bare base64 Ollama takes', async () => {
    const res = await post(strict, visionRequest(`data:image/png;base64,${PNG_BASE64}`));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).choices[0].message.content).toBe(ANSWER);
    expect(ollama.calls('/api/chat').map((r) => r.json())).toEqual([{ ...OLLAMA_REQUEST, stream: false }]);
  });

  it('should download an http URL and send its bytes to Ollama as bare base64', async () => {
    const client = new OpenAI({ baseURL: `${open.url}/v1`, apiKey: 'caller-key', maxRetries: 0 });
    const answer = await client.chat.completions.create({
      model: 'ollama/llava',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: QUESTION },
            { type: 'image_url', image_url: { url: `${images.url}/cat.png` } },
          ],
        },
      ],
    });
    expect(answer.choices[0].message.content).toBe(ANSWER);
    expect(images.calls('/cat.png')).toHaveLength(1);
    expect(images.calls('/cat.png')[0].headers.accept).toBe('image/*');
    const sent = ollama.calls('/api/chat')[0].json<OllamaImagesRequest>();
    expect(sent.messages[0].images).toEqual([PNG_BASE64]);
    expect(sent).toEqual({ ...OLLAMA_REQUEST, stream: false });
  });

  it('should follow a redirect and inline the image of a streamed request too', async () => {
    ollama.on('POST', '/api/chat', {
      headers: NDJSON,
      pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
    });
    const res = await post(open, visionRequest(`${images.url}/moved`, { stream: true }));
    expect(res.status).toBe(200);
    expect(textOf(parseStream(res.body).chunks)).toBe('Okay, here we go!\n\n1, 2, 3, 4, 5\n');
    expect(images.requests.map((r) => r.path)).toEqual(['/moved', '/cat.png']);
    const sent = ollama.calls('/api/chat')[0].json<OllamaImagesRequest>();
    expect(sent.messages[0].images).toEqual([PNG_BASE64]);
    expect(sent.messages[0].content).toBe(QUESTION);
  });

  it.each([
    ['127.0.0.1', (port: string) => `http://127.0.0.1:${port}/cat.png`],
    ['localhost (refused after DNS resolution)', (port: string) => `http://localhost:${port}/cat.png`],
    ['[::1]', (port: string) => `http://[::1]:${port}/cat.png`],
    ['[::ffff:127.0.0.1]', (port: string) => `http://[::ffff:127.0.0.1]:${port}/cat.png`],
    ['169.254.169.254 (cloud metadata)', () => 'http://169.254.169.254/latest/meta-data/'],
    ['10.1.2.3', () => 'http://10.1.2.3/cat.png'],
  ])('should refuse %s by default with a 400 naming the part', async (_name, url) => {
    const port = new URL(images.url).port;
    const res = await post(strict, visionRequest(url(port)));
    expect(res.status).toBe(400);
    const error = JSON.parse(res.body).error;
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'messages[0].content[1].image_url' });
    expect(error.message).toMatch(/refused address/);
    expect(images.requests).toHaveLength(0);
    expect(ollama.requests).toHaveLength(0);
  });

  it('should refuse a private image URL of a streamed request with a JSON 400, not a stream', async () => {
    const res = await post(strict, visionRequest(`${images.url}/cat.png`, { stream: true }));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body).error.param).toBe('messages[0].content[1].image_url');
  });

  it.each([
    ['/page.html', /did not return an image \(content-type 'text\/html'\)/],
    ['/missing.png', /failed with HTTP 404/],
    ['/huge-declared.png', /larger than the limit of 10485760 bytes/],
    ['/huge-chunked.png', /larger than the limit of 10485760 bytes/],
  ])('should answer 400 for %s and say why', async (path, message) => {
    const res = await post(open, visionRequest(`${images.url}${path}`));
    expect(res.status).toBe(400);
    const error = JSON.parse(res.body).error;
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'messages[0].content[1].image_url' });
    expect(error.message).toMatch(message);
    expect(ollama.requests).toHaveLength(0);
  });

  it('should refuse a data: URL that is not an image', async () => {
    const res = await post(strict, visionRequest('data:text/plain;base64,aGVsbG8='));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.param).toBe('messages[0].content[1].image_url');
  });

  it('should pass image parts to OpenAI-compatible providers exactly as sent', async () => {
    const { headers } = fixtureHeaders('openai/chat_nonstream.response.headers.txt');
    openai.on('POST', '/v1/chat/completions', {
      headers,
      body: fixture('openai/chat_nonstream.response.json'),
    });
    const body = visionRequest(`${images.url}/cat.png`, { model: 'openai/gpt-4o-mini' });
    (body.messages[0].content[1] as { image_url: object }).image_url = {
      url: `${images.url}/cat.png`,
      detail: 'low',
    };
    const res = await post(strict, body);
    expect(res.status).toBe(200);
    const sent = openai.calls('/v1/chat/completions')[0].json<{ messages: unknown }>();
    expect(sent.messages).toEqual(body.messages);
    expect(images.requests).toHaveLength(0);
  });
});
