import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestContext } from '../../core/context/request-context';
import { appOf, requestIdOf } from './request-id';

/**
 * The core's request context from an HTTP exchange: id, app, cache directives and a signal that
 * fires when the client goes away before the response is complete.
 */
export function httpContext(
  req: IncomingMessage,
  res: ServerResponse,
): RequestContext & { abort: AbortController } {
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const cacheControl = req.headers['cache-control'];
  let cache: RequestContext['cache'];
  if (cacheControl) {
    const noStore = cacheControl.includes('no-store');
    cache = { read: !noStore && !cacheControl.includes('no-cache'), write: !noStore };
  }
  return { requestId: requestIdOf(req, res), app: appOf(req), signal: abort.signal, cache, abort };
}
