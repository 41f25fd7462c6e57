import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ManaLlmOptions } from '../core/mana-llm.options';
import { checkModelId } from '../core/openai/request-checks';
import { EnvironmentVariables } from './env.schema';

/** Everything the standalone service needs, typed; built once from the environment. */
export interface GatewayConfig {
  port: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  corsOrigins: string[];
  apiKeys: string[];
  bodyLimitBytes: number;
  shutdownGraceMs: number;
  /** From SIGTERM to closing the listener (readiness is 503 meanwhile); part of the grace. */
  shutdownDelayMs: number;
  keepAliveMs: number;
  cache: {
    store: 'none' | 'memory' | 'redis';
    redisUrl?: string;
    ttlSeconds: number;
    maxEntries: number;
    maxBytes: number;
    maxEntryBytes: number;
    keyPrefix: string;
    timeoutMs: number;
  };
  manaLlm: ManaLlmOptions;
}

export class ConfigValidationError extends Error {}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
  if (!m) throw new ConfigValidationError(`invalid size '${value}'`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]);
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Constraints that say what kind of value is expected: when one failed, the range checks add nothing. */
const TYPE_CONSTRAINTS = ['isInt', 'isNumber', 'isUrl', 'isIn', 'isBooleanString', 'matches', 'isString'];

/**
 * One line per bad variable, naming it. Secrets are never echoed: API keys are hidden, and a URL's
 * credentials (`redis://:password@host`) are masked.
 */
function problemLine(name: string, constraints: Record<string, string>, value: string | undefined): string {
  const typeFailure = TYPE_CONSTRAINTS.find((c) => constraints[c] !== undefined);
  const reasons = typeFailure ? [constraints[typeFailure]] : Object.values(constraints);
  let shown: string;
  if (value === undefined) shown = 'nothing';
  else if (/KEY/.test(name)) shown = 'a value that is not shown';
  else shown = JSON.stringify(value.replace(/\/\/[^/@\s]*@/, '//***@'));
  return `${name}: ${reasons.join('; ')} (got ${shown})`;
}

/**
 * Validates the environment (SPEC §7) and applies defaults. Throws one error whose message has one
 * line per bad variable, each naming it.
 */
export function loadGatewayConfig(raw: Record<string, string | undefined>): GatewayConfig {
  // Empty strings count as unset (compose files often carry `KEY=`).
  const present: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw))
    if (value !== undefined && value !== '') present[key] = value;
  const env = plainToInstance(EnvironmentVariables, present, { enableImplicitConversion: false });
  const errors = validateSync(env, { skipMissingProperties: false, forbidUnknownValues: false });
  const problems = errors.map((e) => problemLine(e.property, e.constraints ?? {}, present[e.property]));
  // Values class-validator cannot judge: a size of 0 bytes, a default model no request could name.
  if (
    env.BODY_LIMIT !== undefined &&
    !problems.some((p) => p.startsWith('BODY_LIMIT:')) &&
    parseSize(env.BODY_LIMIT) < 1
  )
    problems.push(`BODY_LIMIT: BODY_LIMIT must be at least 1 byte (got ${JSON.stringify(env.BODY_LIMIT)})`);
  const defaultModel = env.OLLAMA_DEFAULT_MODEL;
  if (defaultModel !== undefined && !problems.some((p) => p.startsWith('OLLAMA_DEFAULT_MODEL:'))) {
    try {
      checkModelId(defaultModel, 'OLLAMA_DEFAULT_MODEL');
    } catch (err) {
      problems.push(`OLLAMA_DEFAULT_MODEL: ${(err as Error).message} (got ${JSON.stringify(defaultModel)})`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigValidationError(`Invalid configuration:\n${problems.map((l) => `  ${l}`).join('\n')}`);
  }
  const seconds = (v: number | undefined, d: number) => (v ?? d) * 1000;
  const optionalSeconds = (v: number | undefined) => (v === undefined ? undefined : v * 1000);
  const cloud = (key: string | undefined, baseUrl: string | undefined, maxConcurrent?: number) =>
    key && key.trim()
      ? {
          apiKey: key.trim(),
          baseUrl,
          concurrency: maxConcurrent === undefined ? undefined : { maxConcurrent },
        }
      : undefined;
  const store: GatewayConfig['cache']['store'] =
    env.CACHE_STORE === 'memory' || env.CACHE_STORE === 'none' || env.CACHE_STORE === 'redis'
      ? env.CACHE_STORE
      : env.REDIS_URL
        ? 'redis'
        : 'none';
  const cache: GatewayConfig['cache'] = {
    store,
    redisUrl: env.REDIS_URL,
    ttlSeconds: env.CACHE_TTL ?? 3600,
    maxEntries: env.CACHE_MAX_ENTRIES ?? 1000,
    maxBytes: parseSize(env.CACHE_MAX_BYTES ?? '64mb'),
    maxEntryBytes: parseSize(env.CACHE_MAX_ENTRY_BYTES ?? '8mb'),
    keyPrefix: env.CACHE_KEY_PREFIX ?? 'mana-llm:',
    timeoutMs: seconds(env.CACHE_TIMEOUT, 0.2),
  };
  return {
    port: env.PORT ?? 3025,
    logLevel: (env.LOG_LEVEL ?? 'info') as GatewayConfig['logLevel'],
    corsOrigins: list(env.CORS_ORIGINS ?? 'localhost'),
    apiKeys: list(env.MANA_LLM_API_KEYS),
    bodyLimitBytes: parseSize(env.BODY_LIMIT ?? '25mb'),
    shutdownGraceMs: seconds(env.SHUTDOWN_GRACE, 30),
    shutdownDelayMs: seconds(env.SHUTDOWN_DELAY, 1),
    keepAliveMs: seconds(env.STREAM_KEEPALIVE_INTERVAL, 10),
    cache,
    manaLlm: {
      ollama: {
        baseUrl: env.OLLAMA_URL ?? 'http://localhost:11434',
        defaultModel: env.OLLAMA_DEFAULT_MODEL ?? 'gemma3:4b',
        timeoutMs: seconds(env.OLLAMA_TIMEOUT, 120),
        numCtx: env.OLLAMA_NUM_CTX,
        concurrency: {
          maxConcurrent: env.OLLAMA_MAX_CONCURRENCY,
          queueSize: env.OLLAMA_QUEUE_SIZE,
          queueTimeoutMs: optionalSeconds(env.OLLAMA_QUEUE_TIMEOUT),
        },
      },
      openai: cloud(env.OPENAI_API_KEY, env.OPENAI_BASE_URL, env.OPENAI_MAX_CONCURRENCY),
      openrouter: cloud(env.OPENROUTER_API_KEY, env.OPENROUTER_BASE_URL, env.OPENROUTER_MAX_CONCURRENCY),
      groq: cloud(env.GROQ_API_KEY, env.GROQ_BASE_URL, env.GROQ_MAX_CONCURRENCY),
      together: cloud(env.TOGETHER_API_KEY, env.TOGETHER_BASE_URL, env.TOGETHER_MAX_CONCURRENCY),
      providerTimeoutMs: seconds(env.PROVIDER_TIMEOUT, 60),
      providerConcurrency: {
        maxConcurrent: env.PROVIDER_MAX_CONCURRENCY,
        queueSize: env.PROVIDER_QUEUE_SIZE,
        queueTimeoutMs: optionalSeconds(env.PROVIDER_QUEUE_TIMEOUT),
      },
      aliases: {
        path: env.ALIASES_PATH ?? './aliases.yaml',
        required: env.ALIASES_PATH !== undefined,
        watchIntervalMs: seconds(env.ALIASES_WATCH_INTERVAL, 2),
      },
      breaker: {
        failureThreshold: env.CIRCUIT_FAILURE_THRESHOLD ?? 2,
        cooldownMs: seconds(env.CIRCUIT_COOLDOWN, 60),
      },
      probe: {
        intervalMs: seconds(env.HEALTH_PROBE_INTERVAL, 30),
        timeoutMs: seconds(env.HEALTH_PROBE_TIMEOUT, 3),
      },
      streamKeepAliveMs: seconds(env.STREAM_KEEPALIVE_INTERVAL, 10),
      bodyLimitBytes: parseSize(env.BODY_LIMIT ?? '25mb'),
      apiKeys: list(env.MANA_LLM_API_KEYS),
      cache,
      images: { allowPrivate: env.IMAGE_URL_ALLOW_PRIVATE === 'true' || env.IMAGE_URL_ALLOW_PRIVATE === '1' },
    },
  };
}
