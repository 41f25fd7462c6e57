import { Transform } from 'class-transformer';
import {
  IsBooleanString,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const toNum = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : value;
const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/**
 * The environment of SPEC §7, validated once at boot with class-validator. Every variable is optional;
 * defaults are applied in `loadGatewayConfig`.
 */
export class EnvironmentVariables {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT?: number;
  @IsOptional() @IsIn(['debug', 'info', 'warn', 'error']) LOG_LEVEL?: string;

  @IsOptional() @IsUrl(URL_OPTIONS) OLLAMA_URL?: string;
  @IsOptional() @IsString() @MinLength(1) OLLAMA_DEFAULT_MODEL?: string;
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) OLLAMA_TIMEOUT?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) OLLAMA_NUM_CTX?: number;
  /** Chat/embeddings calls in flight to Ollama at most (0 or unset: unlimited); more wait in a queue. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000) OLLAMA_MAX_CONCURRENCY?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(1_000_000) OLLAMA_QUEUE_SIZE?: number;
  /** Seconds a call waits for a free Ollama slot before it is refused (the next alias entry is tried). */
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) OLLAMA_QUEUE_TIMEOUT?: number;

  @IsOptional() @IsString() OPENAI_API_KEY?: string;
  @IsOptional() @IsString() OPENROUTER_API_KEY?: string;
  @IsOptional() @IsString() GROQ_API_KEY?: string;
  @IsOptional() @IsString() TOGETHER_API_KEY?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) OPENAI_BASE_URL?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) OPENROUTER_BASE_URL?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) GROQ_BASE_URL?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) TOGETHER_BASE_URL?: string;
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) PROVIDER_TIMEOUT?: number;
  /** Defaults of every cloud provider's concurrency limit (0 or unset: unlimited). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000) PROVIDER_MAX_CONCURRENCY?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(1_000_000) PROVIDER_QUEUE_SIZE?: number;
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) PROVIDER_QUEUE_TIMEOUT?: number;
  /** One cloud provider's own limit, over PROVIDER_MAX_CONCURRENCY. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000) OPENAI_MAX_CONCURRENCY?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000) OPENROUTER_MAX_CONCURRENCY?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000) GROQ_MAX_CONCURRENCY?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000) TOGETHER_MAX_CONCURRENCY?: number;

  @IsOptional() @IsString() @MinLength(1) ALIASES_PATH?: string;
  /** Seconds between checks of the aliases file for changes (reloaded when it changed). */
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) ALIASES_WATCH_INTERVAL?: number;
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) HEALTH_PROBE_INTERVAL?: number;
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) HEALTH_PROBE_TIMEOUT?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) CIRCUIT_FAILURE_THRESHOLD?: number;
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) CIRCUIT_COOLDOWN?: number;

  @ValidateIf((env: EnvironmentVariables) => env.REDIS_URL !== undefined || env.CACHE_STORE === 'redis')
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['redis', 'rediss'] },
    { message: 'REDIS_URL must be a redis:// or rediss:// URL (required when CACHE_STORE=redis)' },
  )
  REDIS_URL?: string;
  @IsOptional() @IsIn(['memory', 'redis', 'none', '']) CACHE_STORE?: string;
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) CACHE_TTL?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) CACHE_MAX_ENTRIES?: number;
  @IsOptional()
  @Matches(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, {
    message: 'CACHE_MAX_BYTES must be a size like 64mb, 512kb or 1048576',
  })
  CACHE_MAX_BYTES?: string;
  @IsOptional()
  @Matches(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, {
    message: 'CACHE_MAX_ENTRY_BYTES must be a size like 8mb, 512kb or 1048576',
  })
  CACHE_MAX_ENTRY_BYTES?: string;
  @IsOptional()
  @Matches(/^[A-Za-z0-9:._{}-]{0,128}$/, {
    message: 'CACHE_KEY_PREFIX must be at most 128 characters of A-Z a-z 0-9 : . _ - { }',
  })
  CACHE_KEY_PREFIX?: string;
  /** Seconds one cache operation may take before the request goes on uncached. */
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) CACHE_TIMEOUT?: number;

  @IsOptional() @IsString() CORS_ORIGINS?: string;
  @IsOptional() @IsString() MANA_LLM_API_KEYS?: string;
  @IsOptional()
  @Matches(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, {
    message: 'BODY_LIMIT must be a size like 25mb, 512kb or 1048576',
  })
  BODY_LIMIT?: string;
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0) SHUTDOWN_GRACE?: number;
  /** Seconds between SIGTERM (readiness 503 at once) and closing the listener (default 1). */
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0) SHUTDOWN_DELAY?: number;
  /** Seconds of silence before a stream's headers and `: keep-alive` comments go out (SPEC: 10). */
  @IsOptional() @Transform(toNum) @IsNumber() @Min(0.001) STREAM_KEEPALIVE_INTERVAL?: number;
  @IsOptional() @IsBooleanString() IMAGE_URL_ALLOW_PRIVATE?: string;
}
