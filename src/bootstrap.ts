import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { DestinationStream } from 'pino';
import { AppModule, GATEWAY_CONFIG_KEY } from './app.module';
import { GatewayConfig } from './config/gateway-config';
import { corsOriginMatcher } from './http/shared/cors';
import { ExpressBornAdapter } from './http/shared/express-born-adapter';
import { OpenAiExceptionFilter } from './http/shared/openai-exception.filter';
import { HotRoute, serveAheadOfExpress } from './http/shared/ahead-of-express';
import { requestIdMiddleware, requestIdOf } from './http/shared/request-id';
import { createPinoLogger, LogLevelName } from './logging/create-pino-logger';
import { gatewaySecrets } from './logging/gateway-secrets';
import { PinoLoggerService } from './logging/pino-logger.service';
import { SecretScrubber } from './logging/secret-scrubber';

/** The per-request routes whose Express routing cost is worth skipping. */
const HOT_ROUTES: HotRoute[] = [
  { method: 'POST', path: '/v1/chat/completions' },
  { method: 'POST', path: '/v1/embeddings' },
];

export interface Gateway {
  app: NestExpressApplication;
  config: GatewayConfig;
  /** The app's logger (JSON lines through pino). */
  logger: PinoLoggerService;
}

/** Builds the standalone service (not listening yet). `env` replaces the process environment. */
export async function createGateway(
  env?: Record<string, string | undefined>,
  options: {
    forceCloseConnections?: boolean;
    /** Where log lines go (tests capture them); default stdout, written asynchronously. */
    logDestination?: DestinationStream;
  } = {},
): Promise<Gateway> {
  const source = env ?? process.env;
  const level = ['debug', 'info', 'warn', 'error'].includes(source.LOG_LEVEL ?? '')
    ? (source.LOG_LEVEL as LogLevelName)
    : 'info';
  const scrubber = new SecretScrubber();
  const logger = new PinoLoggerService(
    createPinoLogger({ level, scrubber, destination: options.logDestination }),
  );
  // Requests and responses are born with Express's prototypes (see ExpressBornAdapter).
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(env),
    new ExpressBornAdapter(),
    {
      bodyParser: false, // chat and embeddings read their own bodies (limit, 413 and 400 in the OpenAI shape)
      logger,
      abortOnError: false,
      forceCloseConnections: options.forceCloseConnections ?? false,
    },
  );
  const config = app.get(ConfigService).getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
  // The validated config (.env included) decides; its keys are scrubbed from every line by value.
  logger.setLevel(config.logLevel);
  scrubber.setSecrets(gatewaySecrets(config));
  app.set('etag', false);
  app.disable('x-powered-by');
  app.use(requestIdMiddleware);
  app.enableCors({
    origin: corsOriginMatcher(config.corsOrigins),
    exposedHeaders: ['X-Request-Id', 'X-Mana-LLM-Resolved', 'X-Mana-LLM-Cache', 'Retry-After'],
  });
  app.useGlobalFilters(new OpenAiExceptionFilter());
  // Chat and embeddings skip Express's router walk: the same Nest handler, guard and filter, called
  // from a listener ahead of Express (docs/performance.md has the measured gain).
  serveAheadOfExpress(app, HOT_ROUTES, (req, res) => void requestIdOf(req, res));
  // No enableShutdownHooks(): main.ts drains on SIGTERM/SIGINT (src/ops/graceful-shutdown.ts), then
  // app.close() runs the shutdown hooks and the process exits 0.
  return { app, config, logger };
}
