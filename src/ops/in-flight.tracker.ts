import { Injectable, Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { toErrorResponse } from '../http/shared/error-response';
import { ShuttingDownError } from './shutting-down.error';

/** Ends one exchange when the grace period is over (a stream writes its SSE error frame here). */
export type StopHook = (reason: ShuttingDownError) => void;

export interface DrainReport {
  /** Exchanges open when the wait for them began. */
  openAtStart: number;
  /** Exchanges still open at the deadline, ended with `shutting_down`. */
  stopped: number;
}

/** How long stopped exchanges get to flush their last bytes before their sockets are destroyed. */
const FLUSH_MS = 2_000;

/**
 * The open chat and embeddings exchanges (JSON requests and SSE streams) of this process, so a
 * SIGTERM can let them finish instead of cutting them off. Controllers `track()` each response; it
 * leaves the set by itself when the response closes. Costs one Map entry and one `close` listener
 * per request.
 */
@Injectable()
export class InFlightTracker {
  private readonly logger = new Logger('Shutdown');
  private readonly open = new Map<ServerResponse, StopHook | undefined>();
  private idleWaiters: (() => void)[] = [];
  private drainingNow = false;

  /** Exchanges open right now. */
  get size(): number {
    return this.open.size;
  }

  /** True from the moment a drain began. */
  get draining(): boolean {
    return this.drainingNow;
  }

  /**
   * Registers an open exchange until its response closes. Called again for the same response, it
   * replaces the stop hook (a request that turned out to be a stream). Without a hook, an exchange
   * still open at the deadline gets a 503 `shutting_down` (or just its end, if headers went out).
   */
  track(res: ServerResponse, stop?: StopHook): void {
    if (res.destroyed) return;
    const known = this.open.has(res);
    this.open.set(res, stop);
    if (!known) res.once('close', () => this.release(res));
  }

  /**
   * Marks the process as draining: open exchanges whose headers are still unsent will close their
   * connection after answering (new exchanges are still tracked and served until the deadline).
   */
  beginDraining(): void {
    if (this.drainingNow) return;
    this.drainingNow = true;
    for (const res of this.open.keys()) if (!res.headersSent) res.setHeader('connection', 'close');
  }

  /**
   * Waits until nothing is open, or `graceMs` has passed; then ends what remains with
   * `ShuttingDownError` and waits (briefly) for those responses to flush.
   */
  async drain(graceMs: number): Promise<DrainReport> {
    this.beginDraining();
    const openAtStart = this.open.size;
    if (openAtStart > 0) await this.whenIdle(graceMs);
    const remaining = [...this.open];
    if (remaining.length === 0) return { openAtStart, stopped: 0 };

    this.logger.warn(`grace period over: ending ${remaining.length} open request(s) with shutting_down`);
    for (const [res, stop] of remaining) this.stop(res, stop);
    await this.whenIdle(FLUSH_MS);
    for (const res of this.open.keys()) res.destroy(); // a client that stopped reading
    return { openAtStart, stopped: remaining.length };
  }

  private stop(res: ServerResponse, hook: StopHook | undefined): void {
    const reason = new ShuttingDownError();
    try {
      hook?.(reason);
    } catch (err) {
      this.logger.error(`stopping a request failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (res.writableEnded || res.destroyed) return;
    if (res.headersSent) {
      res.end();
      return;
    }
    const { status, body } = toErrorResponse(reason);
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      connection: 'close',
    });
    res.end(payload);
  }

  private release(res: ServerResponse): void {
    this.open.delete(res);
    if (this.open.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private whenIdle(timeoutMs: number): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }
}
