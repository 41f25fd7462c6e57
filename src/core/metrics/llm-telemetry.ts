import { CacheResult, FinishedRequest, LlmMetrics } from './llm-metrics';
import { RequestLog } from './request-log';

/**
 * What `LLM_METRICS` is bound to when request logging is on: the metrics (Prometheus or no-op) plus
 * the request's log line, both fed by the one `requestFinished` call the services make at the end of
 * every request.
 */
export class LlmTelemetry implements LlmMetrics {
  constructor(
    private readonly metrics: LlmMetrics,
    private readonly log: RequestLog,
  ) {}

  requestFinished(event: FinishedRequest): void {
    this.metrics.requestFinished(event);
    this.log.write(event);
  }

  tokens(provider: string, model: string, app: string, prompt: number, completion: number): void {
    this.metrics.tokens(provider, model, app, prompt, completion);
  }

  timeToFirstToken(provider: string, model: string, seconds: number): void {
    this.metrics.timeToFirstToken(provider, model, seconds);
  }

  cacheResult(endpoint: string, result: CacheResult): void {
    this.metrics.cacheResult(endpoint, result);
  }

  streamOpened(): void {
    this.metrics.streamOpened();
  }

  streamClosed(): void {
    this.metrics.streamClosed();
  }

  aliasResolved(alias: string, target: string): void {
    this.metrics.aliasResolved(alias, target);
  }

  fallback(fromModel: string, toModel: string, reason: string): void {
    this.metrics.fallback(fromModel, toModel, reason);
  }

  providerHealth(provider: string, healthy: boolean): void {
    this.metrics.providerHealth(provider, healthy);
  }
}
