/** What the core reports; Prometheus implements it in the HTTP service, a no-op elsewhere. */
export interface LlmMetrics {
  requestFinished(event: {
    endpoint: string;
    model: string;
    provider: string;
    status: number;
    app: string;
    stream: boolean;
    durationSeconds: number;
  }): void;
  tokens(provider: string, model: string, app: string, prompt: number, completion: number): void;
  timeToFirstToken(provider: string, model: string, seconds: number): void;
  cacheResult(endpoint: string, result: 'hit' | 'miss' | 'bypass' | 'error'): void;
  streamOpened(): void;
  streamClosed(): void;
  aliasResolved(alias: string, target: string): void;
  fallback(fromModel: string, toModel: string, reason: string): void;
  providerHealth(provider: string, healthy: boolean): void;
}

export class NoopLlmMetrics implements LlmMetrics {
  requestFinished(): void {}
  tokens(): void {}
  timeToFirstToken(): void {}
  cacheResult(): void {}
  streamOpened(): void {}
  streamClosed(): void {}
  aliasResolved(): void {}
  fallback(): void {}
  providerHealth(): void {}
}
