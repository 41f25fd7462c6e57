import { Controller, Inject, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ChatService } from '../../core/chat/chat.service';
import { CHAT_ENDPOINT } from '../../core/context/request-context';
import { LlmMetrics } from '../../core/metrics/llm-metrics';
import { LLM_METRICS } from '../../core/tokens';
import { InFlightTracker } from '../../ops/in-flight.tracker';
import { ApiKeyGuard } from '../shared/auth.guard';
import { acceptRequest, AcceptDeps, writeJsonAnswer } from '../shared/accept-request';
import { HTTP_EDGE_OPTIONS, HttpEdgeOptions } from '../shared/http-options';
import { OpenAiExceptionFilter } from '../shared/openai-exception.filter';
import { SseWriter } from '../shared/sse-writer';

/**
 * `POST /v1/chat/completions`. Writes the response itself (`@Res()`): no interceptor or ETag pass
 * over the body, and SSE needs headers deferred to the first chunk.
 */
@Controller()
@UseFilters(OpenAiExceptionFilter)
@UseGuards(ApiKeyGuard)
export class ChatController {
  private readonly accept: AcceptDeps;

  constructor(
    private readonly chat: ChatService,
    @Inject(HTTP_EDGE_OPTIONS) private readonly options: HttpEdgeOptions,
    @Inject(LLM_METRICS) metrics: LlmMetrics,
    private readonly inFlight: InFlightTracker,
  ) {
    this.accept = { metrics, inFlight, bodyLimitBytes: options.bodyLimitBytes };
  }

  @Post('v1/chat/completions')
  async create(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const { ctx, request } = await acceptRequest(req, res, CHAT_ENDPOINT, this.accept, (body) =>
      this.chat.validate(body),
    );

    if (request.stream === true) {
      // The cache verdict first: its header must be among the SSE response's (deferred) headers.
      const lookup = this.chat.lookupCache(request, ctx);
      const cached = lookup instanceof Promise ? await lookup : lookup;
      const headers: Record<string, string> = { 'x-request-id': ctx.requestId };
      if (cached.status) headers['x-mana-llm-cache'] = cached.status;
      const writer = new SseWriter(res, headers, this.options.keepAliveMs);
      const subscription = this.chat.stream(request, ctx, writer.flow, cached).subscribe({
        next: (chunk) => writer.chunk(chunk),
        error: (err: unknown) => writer.error(err, ctx.requestId),
        complete: () => writer.done(),
      });
      // Past the grace period of a shutdown: abort upstream, end with `data: {"error":{…"shutting_down"}}`.
      this.inFlight.track(res, (reason) => {
        subscription.unsubscribe();
        writer.error(reason, ctx.requestId);
      });
      // The client left: abort the upstream at once (no tokens paid for a reader who is gone).
      ctx.onClientGone(() => {
        writer.abandon();
        subscription.unsubscribe();
      });
      return;
    }

    const result = await this.chat.complete(request, ctx);
    writeJsonAnswer(res, result.completion, result.resolved, result.cache);
  }
}
