import { resolveCacheOptions } from './cache/cache.options';
import {
  AliasDefinition,
  ConcurrencyOptions,
  ManaLlmOptions,
  ResolvedConcurrency,
  ResolvedManaLlmOptions,
} from './mana-llm.options';
import { resolveMetricsOptions, resolveRequestLog } from './metrics/metrics.options';
import { OPENAI_COMPATIBLE_PRESETS } from './providers/openai-compatible/openai-compatible.presets';

const CLOUD = ['openai', 'openrouter', 'groq', 'together'] as const;

/**
 * Applies defaults and validates module options once, reporting every bad setting in one error
 * (one line each), as the environment validation does for the standalone service.
 */
export function resolveOptions(options: ManaLlmOptions): ResolvedManaLlmOptions {
  const problems: string[] = [];
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      problems.push(`${name} must be a positive number`);
      return fallback;
    }
    return value;
  };
  const url = (name: string, value: string | undefined, fallback: string): string => {
    const candidate = value ?? fallback;
    try {
      const parsed = new URL(candidate);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    } catch {
      problems.push(`${name} must be an http(s) URL`);
    }
    return candidate;
  };

  const providerTimeoutMs = positive('providerTimeoutMs', options.providerTimeoutMs, 60_000);
  const cloud: ResolvedManaLlmOptions['cloud'] = {};
  for (const name of CLOUD) {
    const p = options[name];
    if (!p) continue;
    if (typeof p.apiKey !== 'string' || p.apiKey.trim() === '') {
      problems.push(`${name}.apiKey must be a non-empty string`);
      continue;
    }
    cloud[name] = {
      apiKey: p.apiKey.trim(),
      baseUrl: url(`${name}.baseUrl`, p.baseUrl, OPENAI_COMPATIBLE_PRESETS[name].defaultBaseUrl),
      timeoutMs: positive(`${name}.timeoutMs`, p.timeoutMs, providerTimeoutMs),
      concurrency: resolveConcurrency(
        `${name}.concurrency`,
        { ...options.providerConcurrency, ...definedOnly(p.concurrency) },
        problems,
      ),
    };
  }

  const numCtx = options.ollama?.numCtx;
  if (numCtx !== undefined && (!Number.isInteger(numCtx) || numCtx <= 0))
    problems.push('ollama.numCtx must be a positive integer');
  const defaultModel = options.ollama?.defaultModel ?? 'gemma3:4b';
  if (typeof defaultModel !== 'string' || defaultModel.trim() === '')
    problems.push('ollama.defaultModel must be a non-empty string');

  let aliases: ResolvedManaLlmOptions['aliases'];
  const a = options.aliases;
  if (a && 'inline' in a) {
    if (!a.inline || typeof a.inline !== 'object') problems.push('aliases.inline must be an object');
    aliases = { inline: (a.inline ?? {}) as Record<string, AliasDefinition> };
  } else {
    aliases = {
      path: a?.path,
      required: a?.required ?? false,
      watchIntervalMs: positive('aliases.watchIntervalMs', a?.watchIntervalMs, 2_000),
    };
  }

  const resolved: ResolvedManaLlmOptions = {
    ollama: {
      baseUrl: url('ollama.baseUrl', options.ollama?.baseUrl, 'http://localhost:11434'),
      defaultModel,
      timeoutMs: positive('ollama.timeoutMs', options.ollama?.timeoutMs, 120_000),
      numCtx,
      concurrency: resolveConcurrency('ollama.concurrency', options.ollama?.concurrency, problems),
    },
    cloud,
    aliases,
    breaker: {
      failureThreshold: positive('breaker.failureThreshold', options.breaker?.failureThreshold, 2),
      cooldownMs: positive('breaker.cooldownMs', options.breaker?.cooldownMs, 60_000),
    },
    probe: {
      enabled: options.probe?.enabled ?? true,
      intervalMs: positive('probe.intervalMs', options.probe?.intervalMs, 30_000),
      timeoutMs: positive('probe.timeoutMs', options.probe?.timeoutMs, 3_000),
    },
    images: {
      allowPrivate: options.images?.allowPrivate ?? false,
      maxBytes: positive('images.maxBytes', options.images?.maxBytes, 10 * 1024 * 1024),
      timeoutMs: positive('images.timeoutMs', options.images?.timeoutMs, 10_000),
    },
    streamKeepAliveMs: positive('streamKeepAliveMs', options.streamKeepAliveMs, 10_000),
    bodyLimitBytes: positive('bodyLimitBytes', options.bodyLimitBytes, 25 * 1024 * 1024),
    apiKeys: resolveApiKeys(options.apiKeys, problems),
    cache: resolveCacheOptions(options.cache, problems),
    metrics: resolveMetricsOptions(options.metrics, problems),
    requestLog: resolveRequestLog(options.requestLog, problems),
  };
  if (problems.length > 0)
    throw new Error(`Invalid mana-llm options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return resolved;
}

function resolveApiKeys(keys: string[] | undefined, problems: string[]): string[] {
  if (keys === undefined) return [];
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || k.trim() === '')) {
    problems.push('apiKeys must be an array of non-empty strings');
    return [];
  }
  return keys.map((k) => k.trim());
}

/** The fields of `o` that are set, so a spread over defaults keeps the defaults for the others. */
function definedOnly(o: ConcurrencyOptions | undefined): ConcurrencyOptions {
  const out: ConcurrencyOptions = {};
  if (o?.maxConcurrent !== undefined) out.maxConcurrent = o.maxConcurrent;
  if (o?.queueSize !== undefined) out.queueSize = o.queueSize;
  if (o?.queueTimeoutMs !== undefined) out.queueTimeoutMs = o.queueTimeoutMs;
  return out;
}

/** A concurrency limit, or undefined (unlimited) when `maxConcurrent` is unset or 0. */
function resolveConcurrency(
  name: string,
  o: ConcurrencyOptions | undefined,
  problems: string[],
): ResolvedConcurrency | undefined {
  const count = (field: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < 0) {
      problems.push(`${name}.${field} must be a whole number >= 0`);
      return fallback;
    }
    return value;
  };
  const maxConcurrent = count('maxConcurrent', o?.maxConcurrent, 0);
  const queueSize = count('queueSize', o?.queueSize, 100);
  let queueTimeoutMs = o?.queueTimeoutMs ?? 10_000;
  if (typeof queueTimeoutMs !== 'number' || !Number.isFinite(queueTimeoutMs) || queueTimeoutMs <= 0) {
    problems.push(`${name}.queueTimeoutMs must be a positive number`);
    queueTimeoutMs = 10_000;
  }
  return maxConcurrent > 0 ? { maxConcurrent, queueSize, queueTimeoutMs } : undefined;
}
