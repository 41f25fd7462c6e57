import { IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { ExpressBornAdapter } from './express-born-adapter';

interface ExpressApp {
  request: object;
  response: object;
  get(
    path: string,
    handler: (req: IncomingMessage, res: ServerResponse & { json(b: unknown): void }) => void,
  ): void;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe(ExpressBornAdapter.name, () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await new Promise<void>((r) => server?.close(() => r()));
    server = undefined;
  });

  it("creates requests and responses with Express's prototypes before Express sees them", async () => {
    const adapter = new ExpressBornAdapter();
    adapter.initHttpServer({});
    const app = adapter.getInstance<ExpressApp>();
    server = adapter.getHttpServer() as Server;
    const born: boolean[] = [];
    // Ahead of Express (as the hot routes are served): the prototypes are already Express's.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      born.push(Object.getPrototypeOf(req) === app.request, Object.getPrototypeOf(res) === app.response);
    });
    app.get('/probe', (req, res) => {
      res.json({
        ip: typeof (req as IncomingMessage & { ip?: unknown }).ip,
        isNode: req instanceof IncomingMessage,
      });
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // Express's own request API (req.ip, res.json) works, and the objects are still Node's.
    await expect(get(`${url}/probe`)).resolves.toEqual({
      status: 200,
      body: '{"ip":"string","isNode":true}',
    });
    expect((await get(`${url}/nothing-here`)).status).toBe(404);
    expect(born).toEqual([true, true, true, true]);
  });

  it("tracks open connections for forceCloseConnections, as Nest's own adapter does", async () => {
    const adapter = new ExpressBornAdapter();
    adapter.initHttpServer({ forceCloseConnections: true });
    server = adapter.getHttpServer() as Server;
    adapter.getInstance<ExpressApp>().get('/hang', () => undefined);
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const hanging = get(`${url}/hang`);
    await new Promise((r) => setTimeout(r, 50));
    // close() destroys the tracked sockets: the hanging request fails instead of holding the close.
    await adapter.close();
    server = undefined;
    await expect(hanging).rejects.toThrow();
  });
});
