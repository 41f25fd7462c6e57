import { Controller, Get, Res, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { ServerResponse } from 'node:http';
import { ProviderHealthIndicator } from '../../core/health/provider-health.indicator';
import { OpenAiExceptionFilter } from '../shared/openai-exception.filter';
import { sendJson } from './send-json';

/**
 * Kubernetes probes through Terminus, in Terminus's result shape (`{status, info, error, details}`).
 *
 * - `GET /health/live`: 200 whenever the process can answer. It is built with Terminus's indicator
 *   API but not run through `HealthCheckService`, whose shutdown flag would turn it 503 while open
 *   streams drain — and a failing liveness probe makes the kubelet kill the container mid-drain.
 * - `GET /health/ready`: 503 until boot is complete and from the moment shutdown begins; otherwise
 *   200 with each provider's breaker state under `details.providers` (a provider outage never
 *   fails it). Reads memory only.
 */
@Controller('health')
@UseFilters(OpenAiExceptionFilter)
export class KubernetesProbesController {
  constructor(
    private readonly checks: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly providers: ProviderHealthIndicator,
  ) {}

  @Get('live')
  live(@Res() res: ServerResponse): void {
    const result = this.indicators
      .check('process')
      .up({ pid: process.pid, uptime_s: Math.round(process.uptime()) });
    const body: HealthCheckResult = { status: 'ok', info: result, error: {}, details: result };
    sendJson(res, 200, body);
  }

  @Get('ready')
  async ready(@Res() res: ServerResponse): Promise<void> {
    let body: HealthCheckResult;
    try {
      body = await this.checks.check([() => this.providers.gateway(), () => this.providers.providers()]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      return sendJson(res, 503, err.getResponse());
    }
    sendJson(res, 200, body);
  }
}
