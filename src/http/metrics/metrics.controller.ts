import { Controller, Get, Inject, NotFoundException, Res, UseFilters } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../../core/metrics/metrics-registry';
import { OpenAiExceptionFilter } from '../shared/openai-exception.filter';

/**
 * `GET /metrics`: the Prometheus text exposition of this module's own registry (SPEC §8). Open even
 * when gateway auth is on. With metrics off (`metrics: false`) it is a 404 like any unknown route.
 * Not `@willsoto/nestjs-prometheus`'s controller: that one always serves prom-client's global
 * registry (see docs/observability.md).
 */
@Controller()
@UseFilters(OpenAiExceptionFilter)
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry | null) {}

  @Get('metrics')
  async scrape(@Res() res: ServerResponse): Promise<void> {
    if (!this.registry) throw new NotFoundException('Cannot GET /metrics');
    const body = await this.registry.metrics();
    res.writeHead(200, {
      'content-type': this.registry.contentType,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  }
}
