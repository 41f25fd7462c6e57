import { Module, Provider } from '@nestjs/common';
import { CACHE_HEALTH } from './core/cache/cache-health';
import { ResponseCache } from './core/cache/response-cache';
import { ChatService } from './core/chat/chat.service';
import { EmbeddingsService } from './core/embeddings/embeddings.service';
import { ManaLlmClient } from './core/mana-llm.client';
import { HealthProbe } from './core/health/health-probe';
import { HealthReport } from './core/health/health-report';
import { healthImports } from './core/health/health.imports';
import { ProviderHealthIndicator } from './core/health/provider-health.indicator';
import { ProviderHealthCache } from './core/health/provider-health.cache';
import { ReadinessState } from './core/health/readiness-state';
import { ManaLlmOptions, ResolvedManaLlmOptions } from './core/mana-llm.options';
import { METRICS_REGISTRY } from './core/metrics/metrics-registry';
import { METRICS_PROVIDERS } from './core/metrics/metrics.providers';
import { ModelCatalog } from './core/models/model-catalog';
import { ProviderRegistry } from './core/providers/provider-registry';
import { resolveOptions } from './core/resolve-options';
import { AliasCatalog } from './core/routing/alias-catalog';
import { AliasOverview } from './core/routing/alias-overview';
import { FallbackRouter } from './core/routing/fallback-router';
import { RouteResolver } from './core/routing/route-resolver';
import { CLOCK, LLM_METRICS, RESOLVED_OPTIONS, systemClock } from './core/tokens';
import { ApiKeyGuard } from './http/shared/auth.guard';
import { HTTP_EDGE_OPTIONS, HttpEdgeOptions } from './http/shared/http-options';
import { MANA_LLM_OPTIONS, ManaLlmConfigurableModule } from './mana-llm.module-definition';
import { InFlightTracker } from './ops/in-flight.tracker';
import { ShutdownCoordinator } from './ops/shutdown.coordinator';

/** Every internal provider is a factory over the options token: forRoot and forRootAsync share one path. */
const providers: Provider[] = [
  {
    provide: RESOLVED_OPTIONS,
    inject: [MANA_LLM_OPTIONS],
    useFactory: (o: ManaLlmOptions) => resolveOptions(o),
  },
  {
    provide: HTTP_EDGE_OPTIONS,
    inject: [RESOLVED_OPTIONS],
    useFactory: (o: ResolvedManaLlmOptions): HttpEdgeOptions => ({
      bodyLimitBytes: o.bodyLimitBytes,
      keepAliveMs: o.streamKeepAliveMs,
    }),
  },
  { provide: CLOCK, useValue: systemClock },
  ...METRICS_PROVIDERS,
  ProviderRegistry,
  ProviderHealthCache,
  AliasCatalog,
  AliasOverview,
  RouteResolver,
  FallbackRouter,
  HealthProbe,
  HealthReport,
  ReadinessState,
  ProviderHealthIndicator,
  ResponseCache,
  { provide: CACHE_HEALTH, useExisting: ResponseCache },
  ChatService,
  EmbeddingsService,
  ModelCatalog,
  ManaLlmClient,
  ApiKeyGuard,
  InFlightTracker,
  ShutdownCoordinator,
];

/**
 * mana-llm as a Nest module: `ManaLlmModule.forRoot(options)` / `forRootAsync({...})`.
 * The standalone service boots through this same module, fed from the environment.
 */
@Module({
  imports: healthImports(),
  providers,
  exports: [
    ManaLlmClient,
    ChatService,
    EmbeddingsService,
    ModelCatalog,
    ProviderRegistry,
    ProviderHealthCache,
    AliasCatalog,
    AliasOverview,
    HealthReport,
    ReadinessState,
    RouteResolver,
    RESOLVED_OPTIONS,
    LLM_METRICS,
    METRICS_REGISTRY,
    ResponseCache,
    CACHE_HEALTH,
    InFlightTracker,
    ShutdownCoordinator,
  ],
})
export class ManaLlmModule extends ManaLlmConfigurableModule {}
