import { Controller, Inject, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EMBEDDINGS_ENDPOINT } from '../../core/context/request-context';
import { EmbeddingsService } from '../../core/embeddings/embeddings.service';
import { LlmMetrics } from '../../core/metrics/llm-metrics';
import { LLM_METRICS } from '../../core/tokens';
import { InFlightTracker } from '../../ops/in-flight.tracker';
import { ApiKeyGuard } from '../shared/auth.guard';
import { acceptRequest, AcceptDeps, writeJsonAnswer } from '../shared/accept-request';
import { HTTP_EDGE_OPTIONS, HttpEdgeOptions } from '../shared/http-options';
import { OpenAiExceptionFilter } from '../shared/openai-exception.filter';

/** `POST /v1/embeddings`, written raw like the chat route (`@Res()`, no interceptor pass over the body). */
@Controller()
@UseFilters(OpenAiExceptionFilter)
@UseGuards(ApiKeyGuard)
export class EmbeddingsController {
  private readonly accept: AcceptDeps;

  constructor(
    private readonly embeddings: EmbeddingsService,
    @Inject(HTTP_EDGE_OPTIONS) options: HttpEdgeOptions,
    @Inject(LLM_METRICS) metrics: LlmMetrics,
    inFlight: InFlightTracker,
  ) {
    this.accept = { metrics, inFlight, bodyLimitBytes: options.bodyLimitBytes };
  }

  @Post('v1/embeddings')
  async create(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const { ctx, request } = await acceptRequest(req, res, EMBEDDINGS_ENDPOINT, this.accept, (body) =>
      this.embeddings.validate(body),
    );
    const result = await this.embeddings.embed(request, ctx);
    writeJsonAnswer(res, result.response, result.resolved, result.cache);
  }
}
