import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The parsed JSON body (throws if it is not JSON). */
  json<T = Record<string, unknown>>(): T;
}

/** How the fake answers one request. */
export type Reply =
  | { status?: number; headers?: Record<string, string>; body: string | object }
  | {
      status?: number;
      headers?: Record<string, string>;
      /** Written one by one, `delayMs` apart (flushing each): SSE events or NDJSON lines. */
      pieces: string[];
      delayMs?: number;
      /** Wait before the status line goes out. */
      headersDelayMs?: number;
      /** After the pieces: 'end' (default), 'hang' (never end) or 'destroy' (reset the connection). */
      then?: 'end' | 'hang' | 'destroy';
    }
  | { hang: true }
  | { destroy: true }
  | ((req: RecordedRequest, res: ServerResponse) => void);

interface Route {
  replies: Reply[];
  /** The last reply repeats once the list is used up. */
  index: number;
}

/**
 * A programmable upstream on 127.0.0.1 (an Ollama or OpenAI-compatible fake). It records every request
 * and knows which ones the gateway abandoned (the connection closed before the answer ended).
 */
export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  /** Requests whose response was cut off by the client (the gateway aborted the upstream). */
  readonly aborted: RecordedRequest[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private abortWaiters: (() => void)[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeUpstream> {
    const server = createServer();
    const fake = new FakeUpstream(server);
    server.on('request', (req, res) => fake.handle(req, res));
    server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Answers `METHOD path` with these replies in order (the last one repeats). */
  on(method: string, path: string, ...replies: Reply[]): this {
    this.routes.set(`${method} ${path}`, { replies, index: 0 });
    return this;
  }

  calls(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves once `count` requests have been abandoned by the gateway. */
  waitForAborts(count = 1, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.aborted.length >= count) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        return false;
      };
      const timer = setTimeout(
        () => reject(new Error(`expected ${count} aborted upstream requests, saw ${this.aborted.length}`)),
        timeoutMs,
      );
      // Waiters are taken off the list on every abort: one that is not satisfied yet waits again.
      const waiter = () => {
        if (!check()) this.abortWaiters.push(waiter);
      };
      if (!check()) this.abortWaiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        json: <T>() => JSON.parse(body) as T,
      };
      this.requests.push(recorded);
      res.on('close', () => {
        if (!res.writableFinished) {
          this.aborted.push(recorded);
          const waiters = this.abortWaiters;
          this.abortWaiters = [];
          for (const w of waiters) w();
        }
      });
      const route = this.routes.get(`${recorded.method} ${recorded.path.split('?')[0]}`);
      if (!route) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `no fake route for ${recorded.method} ${recorded.path}` }));
        return;
      }
      const reply = route.replies[Math.min(route.index++, route.replies.length - 1)];
      this.reply(reply, recorded, res);
    });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private reply(reply: Reply, recorded: RecordedRequest, res: ServerResponse): void {
    if (typeof reply === 'function') return reply(recorded, res);
    if ('hang' in reply) return;
    if ('destroy' in reply) return void res.socket?.destroy();
    if ('body' in reply) {
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(body);
      return;
    }
    const { pieces, delayMs = 0, then = 'end' } = reply;
    const start = () => {
      res.writeHead(reply.status ?? 200, reply.headers ?? {});
      res.flushHeaders();
      let i = 0;
      const step = () => {
        if (res.destroyed) return;
        if (i < pieces.length) {
          res.write(pieces[i++]);
          if (delayMs > 0) this.later(delayMs, step);
          else step();
          return;
        }
        if (then === 'end') res.end();
        else if (then === 'destroy') res.socket?.destroy();
      };
      step();
    };
    if (reply.headersDelayMs) this.later(reply.headersDelayMs, start);
    else start();
  }
}
