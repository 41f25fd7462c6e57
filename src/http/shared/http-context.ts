import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestContext } from '../../core/context/request-context';
import { appOf, requestIdOf } from './request-id';

/**
 * The core's request context from an HTTP exchange: id, app, cache directives and a signal that
 * fires when the client goes away before the response is complete. The `AbortController` behind
 * the signal is made on first use: a stream never asks for it (its reader is torn down through
 * `onClientGone`), and an AbortController with its listener is a measurable cost per request.
 */
export class HttpRequestContext implements RequestContext {
  readonly requestId: string;
  readonly app: string;
  readonly cache: RequestContext['cache'];
  private controller: AbortController | undefined;
  private gone = false;
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

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.gone) this.controller.abort();
    }
    return this.controller.signal;
  }

  /** Runs `leave` once the client is gone before the response completed (at once if it already is). */
  onClientGone(leave: () => void): void {
    if (this.gone) leave();
    else this.leave = leave;
  }

  /** Cancels the exchange as if the client had gone (a shutdown past its grace period). */
  abort(): void {
    this.clientGone();
  }

  private clientGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.controller?.abort();
    this.leave?.();
  }
}
