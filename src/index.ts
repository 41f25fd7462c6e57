/**
 * mana-llm as a library: `import { ManaLlmModule, ManaLlmClient } from 'mana-llm'`.
 * Importing this file starts nothing (the service's entry point is main.ts).
 */
export { ManaLlmModule } from './mana-llm.module';
export { MANA_LLM_OPTIONS } from './mana-llm.module-definition';
export type { ManaLlmModuleExtras } from './mana-llm.module-definition';
export { ManaLlmClient } from './core/mana-llm.client';
export type { ClientCallOptions, ClientChatRequest } from './core/mana-llm.client';
export type {
  ManaLlmOptions,
  CloudProviderOptions,
  AliasDefinition,
  ConcurrencyOptions,
} from './core/mana-llm.options';
export type { CacheOptions } from './core/cache/cache.options';
export { CACHE_HEALTH } from './core/cache/cache-health';
export type { CacheHealth } from './core/cache/cache-health';
export * from './core/openai/chat-completion.types';
export * from './core/openai/embedding.types';
export * from './core/openai/model.types';
export * from './core/errors';
export type { LlmMetrics, FinishedRequest, CacheResult } from './core/metrics/llm-metrics';
export { METRICS_REGISTRY } from './core/metrics/metrics-registry';
export type { MetricsOptions } from './core/metrics/metrics.options';
export { PinoLoggerService } from './logging/pino-logger.service';
export { createPinoLogger } from './logging/create-pino-logger';
export type { PinoLoggerOptions, LogLevelName } from './logging/create-pino-logger';
export { SecretScrubber } from './logging/secret-scrubber';
export { ReadinessState } from './core/health/readiness-state';
export type { ReadinessPhase } from './core/health/readiness-state';
export { HealthReport } from './core/health/health-report';
export type { DetailedHealth, LegacyHealth, OverallStatus } from './core/health/health-report';
export type { ProviderHealthSnapshot } from './core/health/provider-health.cache';
export { AliasOverview } from './core/routing/alias-overview';
export type { AliasView } from './core/routing/alias-overview';
export { PROVIDER_NAMES } from './core/providers/provider-adapter';
export type { ProviderName } from './core/providers/provider-adapter';
