import { ChildProcess, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';

/** Whether something at host:port answers a Redis PING with +PONG (within `timeoutMs`). */
export function redisAnswers(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('error', () => done(false));
    socket.on('data', (data: Buffer) => done(data.toString('utf8').startsWith('+PONG')));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A `redis-server` of the test's own, on a free loopback port, without persistence: for tests that
 * stop, pause or restart Redis (never do that to the shared one at 6379).
 */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServer(await freePort());
      try {
        await server.restart();
        return server;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the server on its port and waits until it answers. */
  async restart(): Promise<void> {
    if (this.process) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.process = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`))),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (!(await redisAnswers(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        this.process = undefined;
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${this.port}`);
      }
      await Promise.race([new Promise((r) => setTimeout(r, 50)), exited]);
    }
  }

  /** Kills the server (as a crash would) and waits for its exit. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT'); // a paused server could not die otherwise
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }
}

/**
 * The Redis the cache tests share: 127.0.0.1:6379 when it answers, otherwise a redis-server of
 * this test file's own (so a machine without a running Redis still runs every test; nothing skips).
 */
export async function sharedRedis(): Promise<{ url: string; close(): Promise<void> }> {
  if (await redisAnswers(6379)) return { url: 'redis://127.0.0.1:6379', close: async () => undefined };
  const own = await RedisServer.start();
  return { url: own.url, close: () => own.stop() };
}
