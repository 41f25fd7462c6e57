import { Provider } from '@nestjs/common';
import { Registry } from 'prom-client';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { ResolvedManaLlmOptions } from '../mana-llm.options';
import { AliasCatalog } from '../routing/alias-catalog';
import { LLM_METRICS, RESOLVED_OPTIONS } from '../tokens';
import { LlmMetrics, NoopLlmMetrics } from './llm-metrics';
import { LlmTelemetry } from './llm-telemetry';
import { createMetricsRegistry, METRICS_REGISTRY } from './metrics-registry';
import { PrometheusLlmMetrics } from './prometheus-llm-metrics';
import { ProviderHealthGauge } from './provider-health.gauge';
import { RequestLog } from './request-log';

/**
 * Metrics and the request log as ManaLlmModule providers, all factories over the options:
 * `METRICS_REGISTRY` (a registry of this module instance's own, or the one passed in; `null` when
 * metrics are off), `LLM_METRICS` (Prometheus or no-op, plus the request log line) and the
 * scrape-time provider health gauge.
 */
export const METRICS_PROVIDERS: Provider[] = [
  {
    provide: METRICS_REGISTRY,
    inject: [RESOLVED_OPTIONS],
    useFactory: ({ metrics }: ResolvedManaLlmOptions): Registry | null => {
      if (!metrics.enabled) return null;
      return createMetricsRegistry(metrics.defaultMetrics, metrics.registry);
    },
  },
  {
    provide: LLM_METRICS,
    inject: [RESOLVED_OPTIONS, METRICS_REGISTRY, AliasCatalog],
    useFactory: (
      options: ResolvedManaLlmOptions,
      registry: Registry | null,
      aliases: AliasCatalog,
    ): LlmMetrics => {
      const metrics = registry
        ? new PrometheusLlmMetrics(registry, (label) =>
            aliases.list().some((alias) => alias.chain.some((entry) => entry.label === label)),
          )
        : new NoopLlmMetrics();
      return options.requestLog ? new LlmTelemetry(metrics, new RequestLog()) : metrics;
    },
  },
  {
    provide: ProviderHealthGauge,
    inject: [METRICS_REGISTRY, ProviderHealthCache],
    useFactory: (registry: Registry | null, health: ProviderHealthCache) =>
      registry ? new ProviderHealthGauge(registry, health) : null,
  },
];
