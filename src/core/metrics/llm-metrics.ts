import { FallbackAttempt } from '../errors/routing-errors';

export type CacheResult = 'hit' | 'miss' | 'bypass' | 'error';

/**
 * One finished request (chat or embeddings), reported once at its end. The first block feeds the
 * metrics; the optional rest feeds the request's log line (and is never needed for a metric).
 */
export interface FinishedRequest {
  endpoint: string;
  /** The `provider/model` that answered, `none` when nothing answered. */
  model: string;
  provider: string;
  status: number;
  app: string;
  stream: boolean;
  durationSeconds: number;

  requestId?: string;
  /** The `model` the caller asked for (an alias, a direct model); never used as a metric label. */
  requestedModel?: string;
  promptTokens?: number;
  completionTokens?: number;
  cache?: CacheResult;
  /** Skipped or failed chain entries, in order. */
  attempts?: readonly FallbackAttempt[];
  /** The error's class name (`UpstreamTimeoutError`, ...) when the request failed. */
  error?: string;
}

/** What the core reports; Prometheus implements it in the HTTP service, a no-op elsewhere. */
export interface LlmMetrics {
  requestFinished(event: FinishedRequest): void;
  tokens(provider: string, model: string, app: string, prompt: number, completion: number): void;
  timeToFirstToken(provider: string, model: string, seconds: number): void;
  cacheResult(endpoint: string, result: CacheResult): void;
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
