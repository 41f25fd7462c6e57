import type { IncomingMessage, ServerResponse } from 'node:http';
import { CancelSignal, CancelSource } from '../../core/context/cancel-signal';
import { RequestContext } from '../../core/context/request-context';
import { appOf, requestIdOf } from './request-id';

/**
 * The core's request context from an HTTP exchange: id, app, cache directives and a signal that
 * fires when the client goes away before the response is complete. The signal is a `CancelSource`,
 * not an `AbortController` (2 µs to make, and its EventTarget listener another microsecond, per
 * request); a stream does not even listen to it (its reader is torn down through `onClientGone`).
 */
export class HttpRequestContext implements RequestContext {
  readonly requestId: string;
  readonly app: string;
  readonly cache: RequestContext['cache'];
  private readonly cancel = new CancelSource();
  private leave: (() => void) | undefined;

  constructor(req: IncomingMessage, res: ServerResponse) {
    this.requestId = requestIdOf(req, res);
    this.app = appOf(req);
    const cacheControl = req.headers['cache-control'];
    if (cacheControl) {
      const noStore = cacheControl.includes('no-store');
      this.cache = { read: !noStore && !cacheControl.includes('no-cache'), write: !noStore };
    }
    res.once('close', () => {
      if (!res.writableFinished) this.clientGone();
    });
  }

  get signal(): CancelSignal {
    return this.cancel;
  }

  /** Runs `leave` once the client is gone before the response completed (at once if it already is). */
  onClientGone(leave: () => void): void {
    if (this.cancel.aborted) leave();
    else this.leave = leave;
  }

  /** Cancels the exchange as if the client had gone (a shutdown past its grace period). */
  abort(): void {
    this.clientGone();
  }

  private clientGone(): void {
    if (this.cancel.aborted) return;
    this.cancel.abort();
    this.leave?.();
  }
}
