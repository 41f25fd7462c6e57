import { Controller, Get, Res, UseFilters } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { HealthReport } from '../../core/health/health-report';
import { OpenAiExceptionFilter } from '../shared/openai-exception.filter';
import { sendJson } from './send-json';

/**
 * `GET /health` (legacy terse shape, always 200) and `GET /v1/health` (every configured provider's
 * breaker state and the cache store's). Both read memory only: no upstream is called.
 */
@Controller()
@UseFilters(OpenAiExceptionFilter)
export class HealthController {
  constructor(private readonly report: HealthReport) {}

  @Get('health')
  legacy(@Res() res: ServerResponse): void {
    sendJson(res, 200, this.report.legacy());
  }

  @Get('v1/health')
  detailed(@Res() res: ServerResponse): void {
    sendJson(res, 200, this.report.detailed());
  }
}
