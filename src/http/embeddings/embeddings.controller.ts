import { Controller, Inject, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EMBEDDINGS_ENDPOINT } from '../../core/context/request-context';
import { EmbeddingsService } from '../../core/embeddings/embeddings.service';
import { isLlmError } from '../../core/errors/llm-error';
import { LlmMetrics } from '../../core/metrics/llm-metrics';
import { errorName } from '../../core/metrics/request-outcome';
import { LLM_METRICS } from '../../core/tokens';
import { InFlightTracker } from '../../ops/in-flight.tracker';
import { ApiKeyGuard } from '../shared/auth.guard';
import { httpContext } from '../shared/http-context';
import { HTTP_EDGE_OPTIONS, HttpEdgeOptions } from '../shared/http-options';
import { readJsonBody } from '../shared/json-body';
import { OpenAiExceptionFilter } from '../shared/openai-exception.filter';

/** `POST /v1/embeddings`, written raw like the chat route (`@Res()`, no interceptor pass over the body). */
@Controller()
@UseFilters(OpenAiExceptionFilter)
@UseGuards(ApiKeyGuard)
export class EmbeddingsController {
  constructor(
    private readonly embeddings: EmbeddingsService,
    @Inject(HTTP_EDGE_OPTIONS) private readonly options: HttpEdgeOptions,
    @Inject(LLM_METRICS) private readonly metrics: LlmMetrics,
    private readonly inFlight: InFlightTracker,
  ) {}

  @Post('v1/embeddings')
  async create(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const ctx = httpContext(req, res);
    // Drained on SIGTERM; past the grace period the upstream is aborted and the caller gets a 503.
    this.inFlight.track(res, () => ctx.abort.abort());
    let request;
    try {
      request = this.embeddings.validate(await readJsonBody(req, this.options.bodyLimitBytes));
    } catch (err) {
      this.metrics.requestFinished({
        endpoint: EMBEDDINGS_ENDPOINT,
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
    const result = await this.embeddings.embed(request, ctx);
    const payload = JSON.stringify(result.response);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      'x-mana-llm-resolved': result.resolved,
      ...(result.cache ? { 'x-mana-llm-cache': result.cache } : undefined),
    });
    res.end(payload);
  }
}
