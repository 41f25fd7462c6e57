import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { ClientAbortError, InvalidRequestError } from '../../errors/request-errors';
import { ChatCompletionRequest } from '../../openai/chat-completion.types';
import { ImageFetcher } from './image-fetcher';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const PARAM = 'messages[0].content[1].image_url';

/** An image host on 127.0.0.2 (all of 127/8 is loopback on Linux), so 127.0.0.1 can play "private". */
async function startImageHost(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { server, url: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, paths };
}

function request(url: string): ChatCompletionRequest {
  return {
    model: 'llava',
    messages: [
      { role: 'system', content: 'describe' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'image_url', image_url: { url } },
        ],
      },
    ],
  };
}

describe(ImageFetcher.name, () => {
  let host: Awaited<ReturnType<typeof startImageHost>>;
  let fetcher: ImageFetcher;
  /** Only the test host's address may be reached: 127.0.0.1 (and everything else) is "private". */
  const onlyHost = (address: string) => address !== '127.0.0.2';

  beforeAll(async () => {
    host = await startImageHost((req, res) => {
      const port = (host.server.address() as AddressInfo).port;
      if (req.url === '/cat.png') {
        res.writeHead(200, { 'content-type': 'image/png; charset=binary' });
        res.end(PNG);
      } else if (req.url === '/to-literal') {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/cat.png` });
        res.end();
      } else if (req.url === '/to-name') {
        // A name that resolves to a refused address: caught in the connection's own DNS lookup.
        res.writeHead(307, { location: `http://localhost:${port}/cat.png` });
        res.end();
      } else if (req.url === '/relative') {
        res.writeHead(301, { location: '/cat.png' });
        res.end();
      } else if (req.url?.startsWith('/loop')) {
        res.writeHead(302, { location: `/loop${Number(req.url.slice(5) || 0) + 1}` });
        res.end();
      } else if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(PNG.subarray(0, 4)); // ... and never the rest
      }
    });
    fetcher = new ImageFetcher({ allowPrivate: false, maxBytes: 1024, timeoutMs: 300, isRefused: onlyHost });
  });
  afterAll(async () => {
    await fetcher.close();
    host.server.closeAllConnections();
    await new Promise((resolve) => host.server.close(resolve));
  });
  beforeEach(() => {
    host.paths.length = 0;
  });

  it('should inline an http(s) image as a data: URL and leave data: URLs and other parts alone', async () => {
    const original = request(`${host.url}/cat.png`);
    const inlined = await fetcher.inline(original);
    expect(inlined.messages[0]).toBe(original.messages[0]);
    expect(inlined.messages[1].content).toEqual([
      { type: 'text', text: 'what is this?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}` } },
    ]);
    // The caller's request is not mutated (an alias chain may hand it to a cloud provider next).
    expect((original.messages[1].content as { image_url?: { url: string } }[])[2].image_url?.url).toBe(
      `${host.url}/cat.png`,
    );
  });

  it('should follow a relative redirect', async () => {
    const url = await fetcher.download(`${host.url}/relative`, PARAM);
    expect(url).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(host.paths).toEqual(['/relative', '/cat.png']);
  });

  it('should refuse a redirect to a refused IP literal before connecting', async () => {
    await expect(fetcher.download(`${host.url}/to-literal`, PARAM)).rejects.toMatchObject({
      constructor: InvalidRequestError,
      param: PARAM,
      message: expect.stringContaining('refused address (127.0.0.1)'),
    });
    expect(host.paths).toEqual(['/to-literal']);
  });

  it('should refuse a redirect to a name that resolves to a refused address', async () => {
    await expect(fetcher.download(`${host.url}/to-name`, PARAM)).rejects.toMatchObject({
      param: PARAM,
      message: expect.stringContaining('refused address (127.0.0.1)'),
    });
    expect(host.paths).toEqual(['/to-name']);
  });

  it('should give up after five redirects', async () => {
    await expect(fetcher.download(`${host.url}/loop`, PARAM)).rejects.toMatchObject({
      message: 'Image URL redirected more than 5 times',
      param: PARAM,
    });
    expect(host.paths).toHaveLength(6);
  });

  it('should answer a 400 when the download takes longer than the timeout', async () => {
    await expect(fetcher.download(`${host.url}/slow`, PARAM)).rejects.toMatchObject({
      message: 'Image download timed out after 300 ms',
      param: PARAM,
    });
  });

  it('should answer a ClientAbortError, not a 400, when the caller went away', async () => {
    const controller = new AbortController();
    const pending = fetcher.download(`${host.url}/slow`, PARAM, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBeInstanceOf(ClientAbortError);
  });

  it.each([
    ['ftp://example.com/cat.png', 'Image URL must be a data: or http(s) URL'],
    ['http://user:secret@127.0.0.2/cat.png', 'Image URL must not carry credentials'],
    ['http://[::1]/cat.png', 'Image URL resolves to a refused address (::1)'],
  ])('should refuse %s', async (url, message) => {
    await expect(fetcher.download(url, PARAM)).rejects.toMatchObject({
      message: expect.stringContaining(message),
      param: PARAM,
    });
  });

  it('should refuse loopback with the default policy and fetch it with allowPrivate', async () => {
    const strict = new ImageFetcher({ allowPrivate: false, maxBytes: 1024, timeoutMs: 1000 });
    const open = new ImageFetcher({ allowPrivate: true, maxBytes: 1024, timeoutMs: 1000 });
    try {
      await expect(strict.download(`${host.url}/cat.png`, PARAM)).rejects.toMatchObject({
        message: expect.stringContaining('refused address (127.0.0.2)'),
      });
      await expect(open.download(`${host.url}/relative`, PARAM)).resolves.toBe(
        `data:image/png;base64,${PNG.toString('base64')}`,
      );
    } finally {
      await Promise.all([strict.close(), open.close()]);
    }
  });
});
