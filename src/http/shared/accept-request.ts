import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLlmError } from '../../core/errors/llm-error';
import { LlmMetrics } from '../../core/metrics/llm-metrics';
import { wireJson } from '../../core/openai/wire-json';
import { errorName } from '../../core/metrics/request-outcome';
import { InFlightTracker } from '../../ops/in-flight.tracker';
import { HttpRequestContext } from './http-context';
import { readJsonBody } from './json-body';

export interface AcceptDeps {
  metrics: LlmMetrics;
  inFlight: InFlightTracker;
  bodyLimitBytes: number;
}

/**
 * The common start of a body-carrying `/v1` route: the request context, shutdown tracking (past the
 * grace period the upstream is aborted), the JSON body read within the limit and validated. A request
 * rejected here (413, bad JSON, a 400 naming `param`) is counted and logged with model/provider `none`,
 * then rethrown for the exception filter.
 */
export async function acceptRequest<T>(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: string,
  deps: AcceptDeps,
  validate: (body: unknown) => T,
): Promise<{ ctx: HttpRequestContext; request: T }> {
  const ctx = new HttpRequestContext(req, res);
  deps.inFlight.track(res, () => ctx.abort());
  try {
    return { ctx, request: validate(await readJsonBody(req, deps.bodyLimitBytes)) };
  } catch (err) {
    deps.metrics.requestFinished({
      endpoint,
      model: 'none',
      provider: 'none',
      status: isLlmError(err) ? err.status : 500,
      app: ctx.app,
      stream: false,
      durationSeconds: 0,
      requestId: ctx.requestId,
      error: errorName(err),
    });
    throw err;
  }
}

/** A successful JSON answer with the gateway's headers (the adapter's wire text when it has one). */
export function writeJsonAnswer(res: ServerResponse, body: object, resolved: string, cache?: string): void {
  const payload = wireJson(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'x-mana-llm-resolved': resolved,
  };
  if (cache) headers['x-mana-llm-cache'] = cache;
  res.writeHead(200, headers);
  res.end(payload);
}
