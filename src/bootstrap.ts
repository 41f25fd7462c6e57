import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, GATEWAY_CONFIG_KEY } from './app.module';
import { GatewayConfig } from './config/gateway-config';
import { corsOriginMatcher } from './http/shared/cors';
import { OpenAiExceptionFilter } from './http/shared/openai-exception.filter';
import { requestIdMiddleware } from './http/shared/request-id';

const LEVELS: Record<GatewayConfig['logLevel'], LogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  info: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
};

export interface Gateway {
  app: NestExpressApplication;
  config: GatewayConfig;
}

/** Builds the standalone service (not listening yet). `env` replaces the process environment. */
export async function createGateway(
  env?: Record<string, string | undefined>,
  options: { forceCloseConnections?: boolean } = {},
): Promise<Gateway> {
  const source = env ?? process.env;
  const level = (source.LOG_LEVEL ?? 'info') as GatewayConfig['logLevel'];
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(env), {
    bodyParser: false, // chat and embeddings read their own bodies (limit, 413 and 400 in the OpenAI shape)
    logger: new ConsoleLogger({ json: true, logLevels: LEVELS[level] ?? LEVELS.info }),
    abortOnError: false,
    forceCloseConnections: options.forceCloseConnections ?? false,
  });
  const config = app.get(ConfigService).getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
  app.set('etag', false);
  app.disable('x-powered-by');
  app.use(requestIdMiddleware);
  app.enableCors({
    origin: corsOriginMatcher(config.corsOrigins),
    exposedHeaders: ['X-Request-Id', 'X-Mana-LLM-Resolved', 'X-Mana-LLM-Cache', 'Retry-After'],
  });
  app.useGlobalFilters(new OpenAiExceptionFilter());
  // No enableShutdownHooks(): main.ts drains on SIGTERM/SIGINT (src/ops/graceful-shutdown.ts), then
  // app.close() runs the shutdown hooks and the process exits 0.
  return { app, config };
}
