import { createServer, IncomingMessage, request, Server } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import {
  ClientAbortError,
  InvalidRequestError,
  PayloadTooLargeError,
} from '../../core/errors/request-errors';
import { readJsonBody } from './json-body';

const LIMIT = 64;

/** A real server whose handler reads the body and reports the outcome; `settled` records each one. */
async function startServer(): Promise<{ server: Server; url: string; settled: Promise<unknown>[] }> {
  const settled: Promise<unknown>[] = [];
  const server = createServer((req, res) => {
    const outcome = readJsonBody(req, LIMIT);
    settled.push(outcome.catch((err: unknown) => err));
    outcome.then(
      (value) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ value }));
      },
      (err: InvalidRequestError | PayloadTooLargeError) => {
        if (res.destroyed) return;
        res.writeHead(err.status ?? 500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            name: err.name,
            param: err.param ?? null,
            code: err.code ?? null,
            message: err.message,
          }),
        );
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, settled };
}

function send(
  url: string,
  body: string | Buffer[],
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
      );
    });
    req.on('error', reject);
    if (typeof body === 'string') req.end(body);
    else {
      for (const piece of body) req.write(piece);
      req.end();
    }
  });
}

describe(readJsonBody.name, () => {
  let server: Server;
  let url: string;
  let settled: Promise<unknown>[];

  beforeEach(async () => {
    ({ server, url, settled } = await startServer());
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('should parse a JSON body sent with a content-length', async () => {
    const res = await send(url, '{"model":"m","messages":[]}', { 'content-type': 'application/json' });
    expect(res).toEqual({ status: 200, json: { value: { model: 'm', messages: [] } } });
  });

  it('should parse a chunked body whose multi-byte characters are split across chunks', async () => {
    const bytes = Buffer.from('{"t":"😊 Grüße"}', 'utf8');
    const res = await send(url, [bytes.subarray(0, 8), bytes.subarray(8, 9), bytes.subarray(9)]);
    expect(res).toEqual({ status: 200, json: { value: { t: '😊 Grüße' } } });
  });

  it('should reject bad JSON with a 400 naming body and code invalid_json', async () => {
    const res = await send(url, '{"model":');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ name: 'InvalidRequestError', param: 'body', code: 'invalid_json' });
    expect(res.json.message).toMatch(/^The request body is not valid JSON: /);
  });

  it('should reject an empty body with a 400 naming body', async () => {
    const res = await send(url, '');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      param: 'body',
      message: 'The request body is empty; send a JSON object',
    });
  });

  it('should answer 413 from the declared content-length without reading the body, on a connection that still works', async () => {
    const res = await send(url, JSON.stringify({ pad: 'x'.repeat(LIMIT) }));
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({
      name: 'PayloadTooLargeError',
      code: 'request_too_large',
      message: `Request body exceeds the limit of ${LIMIT} bytes`,
    });
  });

  it('should answer 413 for a chunked body once it passes the limit', async () => {
    const res = await send(url, [Buffer.from('{"pad":"'), Buffer.from('x'.repeat(LIMIT)), Buffer.from('"}')]);
    expect(res.status).toBe(413);
  });

  it('should accept a body of exactly the limit', async () => {
    const body = JSON.stringify({ p: 'x'.repeat(LIMIT - 8) });
    expect(Buffer.byteLength(body)).toBe(LIMIT);
    expect((await send(url, body)).status).toBe(200);
  });

  it('should settle with a ClientAbortError when the client goes away in the middle of the body', async () => {
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(
      'POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{"a":',
    );
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toHaveLength(1);
    await expect(settled[0]).resolves.toBeInstanceOf(ClientAbortError);
  });

  it('should take the body of a host body parser as is', async () => {
    const req = { _body: true, body: { already: 'parsed' }, headers: {} } as unknown as IncomingMessage;
    await expect(readJsonBody(req, LIMIT)).resolves.toEqual({ already: 'parsed' });
  });
});
