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

/** One open exchange: a link of the tracker's list, also kept on its response (`EXCHANGE`). */
interface Exchange {
  res: ServerResponse;
  stop: StopHook | undefined;
  prev: Exchange | undefined;
  next: Exchange | undefined;
}

const EXCHANGE = Symbol('mana-llm:in-flight-exchange');
type TrackedResponse = ServerResponse & { [EXCHANGE]?: Exchange };

/**
 * The open chat and embeddings exchanges (JSON requests and SSE streams) of this process, so a
 * SIGTERM can let them finish instead of cutting them off. Controllers `track()` each response; it
 * leaves the set by itself when the response closes. Costs one list link and one `close` listener
 * per request.
 *
 * The set is a linked list whose links hang off the responses, not a `Map` keyed by response: a
 * long-lived Map that gains and loses an entry per request made V8 keep every response it had held
 * alive through young-generation collections (~2 MB promoted to the old generation per scavenge,
 * scavenges of ~12 ms instead of ~1 ms, a quarter of the throughput lost; docs/performance.md).
 */
@Injectable()
export class InFlightTracker {
  private readonly logger = new Logger('Shutdown');
  private head: Exchange | undefined;
  private tail: Exchange | undefined;
  private count = 0;
  private idleWaiters: (() => void)[] = [];
  private drainingNow = false;

  /** Exchanges open right now. */
  get size(): number {
    return this.count;
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
    const tracked = res as TrackedResponse;
    const known = tracked[EXCHANGE];
    if (known) {
      known.stop = stop;
      return;
    }
    const exchange: Exchange = { res, stop, prev: this.tail, next: undefined };
    if (this.tail) this.tail.next = exchange;
    else this.head = exchange;
    this.tail = exchange;
    this.count++;
    tracked[EXCHANGE] = exchange;
    res.once('close', () => this.release(exchange));
  }

  /**
   * Marks the process as draining: open exchanges whose headers are still unsent will close their
   * connection after answering (new exchanges are still tracked and served until the deadline).
   */
  beginDraining(): void {
    if (this.drainingNow) return;
    this.drainingNow = true;
    for (const { res } of this.exchanges()) if (!res.headersSent) res.setHeader('connection', 'close');
  }

  /**
   * Waits until nothing is open, or `graceMs` has passed; then ends what remains with
   * `ShuttingDownError` and waits (briefly) for those responses to flush.
   */
  async drain(graceMs: number): Promise<DrainReport> {
    this.beginDraining();
    const openAtStart = this.count;
    if (openAtStart > 0) await this.whenIdle(graceMs);
    const remaining = this.exchanges();
    if (remaining.length === 0) return { openAtStart, stopped: 0 };

    this.logger.warn(`grace period over: ending ${remaining.length} open request(s) with shutting_down`);
    for (const { res, stop } of remaining) this.stop(res, stop);
    await this.whenIdle(FLUSH_MS);
    for (const { res } of this.exchanges()) res.destroy(); // a client that stopped reading
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

  /** The open exchanges, oldest first (a copy: stopping one may release it). */
  private exchanges(): Exchange[] {
    const list: Exchange[] = [];
    for (let at = this.head; at; at = at.next) list.push(at);
    return list;
  }

  private release(exchange: Exchange): void {
    const { prev, next } = exchange;
    if (prev) prev.next = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    exchange.prev = exchange.next = undefined;
    this.count--;
    if (this.count > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private whenIdle(timeoutMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
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
