import { Agent, request } from 'node:http';
import { ServiceProcess, startServiceProcess } from '../support/service-process';

/** Each rejected request writes one ~400-byte log line: this many overfill a socket's buffer. */
const REQUESTS = 4000;

/** The built service; its stdout is read until it listens, then no more (the test decides). */
function startGateway(): Promise<ServiceProcess> {
  return startServiceProcess({ SHUTDOWN_DELAY: '0' }, 15_000, { holdStdout: true });
}

/** `count` invalid chat requests (each answered 400 and logged), 16 at a time on kept-alive sockets. */
async function rejectedRequests(url: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const statuses: number[] = [];
  const one = () =>
    new Promise<void>((done, fail) => {
      const req = request(
        `${url}/v1/chat/completions`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => {
            statuses.push(res.statusCode ?? 0);
            done();
          });
        },
      );
      req.on('error', fail);
      req.end('{"model":"ollama/x"}');
    });
  for (let sent = 0; sent < count; sent += 16) await Promise.all(Array.from({ length: 16 }, one));
  agent.destroy();
  return statuses;
}

describe('logging to a stdout whose reader stalls or goes away (built service)', () => {
  let gateway: ServiceProcess | undefined;

  afterEach(async () => {
    await gateway?.kill();
    gateway = undefined;
  });

  it('keeps answering while stdout is not read, and writes the held lines once it is', async () => {
    gateway = await startGateway();
    const statuses = await rejectedRequests(gateway.url, REQUESTS);
    expect(statuses).toHaveLength(REQUESTS);
    expect(new Set(statuses)).toEqual(new Set([400]));

    // Reading again: every request's line arrives (held, not lost), then the shutdown's.
    let rest = '';
    gateway.stdout.on('data', (c: Buffer) => (rest += c.toString('utf8')));
    gateway.stdout.resume();
    gateway.signal('SIGTERM');
    const status = await gateway.exited(15_000);
    expect(status).toEqual({ code: 0, signal: null });
    const lines = rest.split('\n').filter((l) => l.includes('"context":"Request"'));
    expect(lines).toHaveLength(REQUESTS);
    expect(rest).toContain('closed; exiting with status 0');
  }, 60_000);

  it('keeps answering after the reader of stdout is gone, and still exits on SIGTERM', async () => {
    gateway = await startGateway();
    // Lines pile up unread, then the reader goes: the held lines can never be written (EPIPE).
    expect(new Set(await rejectedRequests(gateway.url, REQUESTS))).toEqual(new Set([400]));
    gateway.stdout.destroy();
    expect(new Set(await rejectedRequests(gateway.url, 64))).toEqual(new Set([400]));

    const started = Date.now();
    gateway.signal('SIGTERM');
    // pino's own destination (sonic-boom 4) retried the EPIPE forever at exit: the process hung.
    const status = await gateway.exited(15_000);
    expect(status).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 60_000);
});
