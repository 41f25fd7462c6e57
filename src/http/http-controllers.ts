import { Type } from '@nestjs/common';
import { AliasesController } from './aliases/aliases.controller';
import { ChatController } from './chat/chat.controller';
import { EmbeddingsController } from './embeddings/embeddings.controller';
import { HealthController } from './health/health.controller';
import { KubernetesProbesController } from './health/kubernetes-probes.controller';
import { MetricsController } from './metrics/metrics.controller';
import { ModelsController } from './models/models.controller';

/** Every controller `ManaLlmModule` mounts when `controllers` is on. */
export const HTTP_CONTROLLERS: Type<unknown>[] = [
  ChatController,
  EmbeddingsController,
  ModelsController,
  MetricsController,
  AliasesController,
  HealthController,
  KubernetesProbesController,
];
