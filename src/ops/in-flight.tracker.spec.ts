import { Logger } from '@nestjs/common';
import { createServer, request, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { InFlightTracker } from './in-flight.tracker';
import { ShuttingDownError } from './shutting-down.error';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe(InFlightTracker.name, () => {
  let server: Server;
  let url: string;
  let arrivals: ((res: ServerResponse) => void)[];

  /** Sends a request; resolves with the server-side response once it arrives, and the client's answer. */
  async function open(): Promise<{ res: ServerResponse; answer: Promise<Answer> }> {
    const arrived = new Promise<ServerResponse>((resolve) => arrivals.push(resolve));
    const answer = new Promise<Answer>((resolve, reject) => {
      const req = request(url, { agent: false }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString('utf8')));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
        r.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    return { res: await arrived, answer };
  }

  beforeAll(() => Logger.overrideLogger(false)); // the tracker's warnings are expected here

  beforeEach(async () => {
    arrivals = [];
    server = createServer((_req, res) => arrivals.shift()?.(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('should resolve the drain at once when nothing is open', async () => {
    const tracker = new InFlightTracker();
    await expect(tracker.drain(60_000)).resolves.toEqual({ openAtStart: 0, stopped: 0 });
    expect(tracker.draining).toBe(true);
  });

  it('should forget an exchange when its response closes, finished or abandoned', async () => {
    const tracker = new InFlightTracker();
    const a = await open();
    const b = await open();
    tracker.track(a.res);
    tracker.track(b.res);
    tracker.track(b.res); // again: still one entry
    expect(tracker.size).toBe(2);
    a.res.end('done');
    await a.answer;
    b.res.socket?.destroy();
    await expect(b.answer).rejects.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(tracker.size).toBe(0);
  });

  it('should keep the others when one in the middle closes, and stop the rest with their latest hooks', async () => {
    const tracker = new InFlightTracker();
    const [a, b, c] = [await open(), await open(), await open()];
    const stopped: string[] = [];
    tracker.track(a.res, () => stopped.push('a-first'));
    tracker.track(b.res, () => stopped.push('b'));
    tracker.track(c.res);
    tracker.track(a.res, () => stopped.push('a')); // a stream replaces the hook: still one entry
    expect(tracker.size).toBe(3);
    b.res.end('done');
    await b.answer;
    await new Promise((r) => setImmediate(r));
    expect(tracker.size).toBe(2);
    // b is gone: its hook never runs; a (its second hook) and c (503) are stopped, oldest first.
    await expect(tracker.drain(50)).resolves.toEqual({ openAtStart: 2, stopped: 2 });
    expect(stopped).toEqual(['a']);
    expect((await a.answer).status).toBe(503);
    expect((await c.answer).status).toBe(503);
    expect(tracker.size).toBe(0);
  });

  it('should wait for open exchanges to finish within the grace, without stopping them', async () => {
    const tracker = new InFlightTracker();
    const { res, answer } = await open();
    const stop = jest.fn();
    tracker.track(res, stop);
    const drained = tracker.drain(10_000);
    setTimeout(() => res.end('complete'), 100);
    await expect(drained).resolves.toEqual({ openAtStart: 1, stopped: 0 });
    expect((await answer).body).toBe('complete');
    expect(stop).not.toHaveBeenCalled();
  });

  it('should close the connection after answering once draining began, for answers not yet started', async () => {
    const tracker = new InFlightTracker();
    const { res, answer } = await open();
    tracker.track(res);
    tracker.beginDraining();
    res.end('ok');
    expect((await answer).headers.connection).toBe('close');
  });

  it('should answer 503 shutting_down to an exchange without a stop hook still open at the deadline', async () => {
    const tracker = new InFlightTracker();
    const { res, answer } = await open();
    tracker.track(res);
    await expect(tracker.drain(100)).resolves.toEqual({ openAtStart: 1, stopped: 1 });
    const { status, body } = await answer;
    expect(status).toBe(503);
    expect(JSON.parse(body)).toEqual({
      error: {
        message: 'The gateway is shutting down; retry the request',
        type: 'server_error',
        code: 'shutting_down',
        param: null,
      },
    });
  });

  it('should hand the stop hook a ShuttingDownError and let it end a committed stream its own way', async () => {
    const tracker = new InFlightTracker();
    const { res, answer } = await open();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"n":1}\n\n');
    const reasons: unknown[] = [];
    tracker.track(res, (reason) => {
      reasons.push(reason);
      res.end(`data: ${JSON.stringify({ error: { code: reason.code } })}\n\n`);
    });
    await expect(tracker.drain(100)).resolves.toEqual({ openAtStart: 1, stopped: 1 });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(ShuttingDownError);
    const { status, body } = await answer;
    expect(status).toBe(200);
    expect(body).toBe('data: {"n":1}\n\ndata: {"error":{"code":"shutting_down"}}\n\n');
  });

  it('should end a committed response whose hook left it open, and survive a throwing hook', async () => {
    const tracker = new InFlightTracker();
    const { res, answer } = await open();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    tracker.track(res, () => {
      throw new Error('hook failed');
    });
    await expect(tracker.drain(50)).resolves.toEqual({ openAtStart: 1, stopped: 1 });
    expect(await answer).toMatchObject({ status: 200, body: 'partial' });
  });
});
