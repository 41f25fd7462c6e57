import { Logger } from '@nestjs/common';
import { FinishedRequest } from './llm-metrics';

/** The caller's `model` string is logged as given, cut to a sane length. */
const MAX_MODEL_CHARS = 200;

/**
 * One log line per finished request (context `Request`), through Nest's `Logger`: JSON through pino
 * in the standalone service, the host's logger when embedded. It carries ids, models, status,
 * timing, tokens, cache result and fallback attempts — never a body, a header or an error message
 * (upstream messages can quote keys); the error is named by its class. 5xx lines are warnings.
 */
export class RequestLog {
  private readonly logger = new Logger('Request');

  write(e: FinishedRequest): void {
    const requested = e.requestedModel;
    const line = {
      msg: `${e.endpoint} ${e.status}`,
      requestId: e.requestId,
      endpoint: e.endpoint,
      app: e.app,
      model:
        requested && requested.length > MAX_MODEL_CHARS ? requested.slice(0, MAX_MODEL_CHARS) : requested,
      resolved: e.model,
      provider: e.provider,
      status: e.status,
      stream: e.stream,
      durationMs: Math.round(e.durationSeconds * 10_000) / 10,
      promptTokens: e.promptTokens,
      completionTokens: e.completionTokens,
      cache: e.cache,
      attempts: e.attempts && e.attempts.length > 0 ? e.attempts : undefined,
      error: e.error,
    };
    if (e.status >= 500) this.logger.warn(line);
    else this.logger.log(line);
  }
}
