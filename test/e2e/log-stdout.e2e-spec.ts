import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = join(resolve(__dirname, '../..'), 'dist', 'main.js');
const LISTENING = /mana-llm listening on port (\d+)/;
/** Each rejected request writes one ~400-byte log line: this many overfill a socket's buffer. */
const REQUESTS = 4000;

interface Gateway {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** What stdout carried while it was read. */
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  cwd: string;
}

/** The built service with its stdout read until it listens; reading then stops (the test decides). */
async function startGateway(): Promise<Gateway> {
  const cwd = mkdtempSync(join(tmpdir(), 'mana-llm-stdout-'));
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_DELAY: '0' },
    stdio: 'pipe',
  });
  let out = '';
  const onData = (c: Buffer) => (out += c.toString('utf8'));
  child.stdout.on('data', onData);
  child.stderr.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no start:\n${out}`)), 15_000);
    const check = () => {
      const m = LISTENING.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      ok(Number(m[1]));
    };
    child.stdout.on('data', check);
  });
  // Stop reading: what the gateway writes from now on fills the socket.
  child.stdout.off('data', onData);
  child.stdout.pause();
  return { child, url: `http://127.0.0.1:${port}`, stdout: () => out, exited, cwd };
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
  let gateway: Gateway | undefined;

  afterEach(() => {
    if (gateway && gateway.child.exitCode === null && gateway.child.signalCode === null) {
      gateway.child.kill('SIGKILL');
    }
    if (gateway) rmSync(gateway.cwd, { recursive: true, force: true });
    gateway = undefined;
  });

  it('keeps answering while stdout is not read, and writes the held lines once it is', async () => {
    gateway = await startGateway();
    const statuses = await rejectedRequests(gateway.url, REQUESTS);
    expect(statuses).toHaveLength(REQUESTS);
    expect(new Set(statuses)).toEqual(new Set([400]));

    // Reading again: every request's line arrives (held, not lost), then the shutdown's.
    let rest = '';
    gateway.child.stdout.on('data', (c: Buffer) => (rest += c.toString('utf8')));
    gateway.child.stdout.resume();
    gateway.child.kill('SIGTERM');
    const status = await gateway.exited;
    expect(status).toEqual({ code: 0, signal: null });
    const lines = rest.split('\n').filter((l) => l.includes('"context":"Request"'));
    expect(lines).toHaveLength(REQUESTS);
    expect(rest).toContain('closed; exiting with status 0');
  }, 60_000);

  it('keeps answering after the reader of stdout is gone, and still exits on SIGTERM', async () => {
    gateway = await startGateway();
    // Lines pile up unread, then the reader goes: the held lines can never be written (EPIPE).
    expect(new Set(await rejectedRequests(gateway.url, REQUESTS))).toEqual(new Set([400]));
    gateway.child.stdout.destroy();
    expect(new Set(await rejectedRequests(gateway.url, 64))).toEqual(new Set([400]));

    const started = Date.now();
    gateway.child.kill('SIGTERM');
    // pino's own destination (sonic-boom 4) retried the EPIPE forever at exit: the process hung.
    let timer: NodeJS.Timeout | undefined;
    const status = await Promise.race([
      gateway.exited,
      new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 15_000))),
    ]);
    clearTimeout(timer);
    expect(status).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 60_000);
});
