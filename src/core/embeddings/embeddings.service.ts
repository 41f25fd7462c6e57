import { Inject, Injectable } from '@nestjs/common';
import { CachedEmbeddings } from '../cache/embeddings-cache.entry';
import { CACHE_DISABLED, CacheLookup, CacheStatus, ResponseCache } from '../cache/response-cache';
import { EMBEDDINGS_ENDPOINT, RequestContext } from '../context/request-context';
import { isLlmError } from '../errors/llm-error';
import { UpstreamProtocolError } from '../errors/upstream-errors';
import { FallbackAttempt } from '../errors/routing-errors';
import { LlmMetrics } from '../metrics/llm-metrics';
import {
  cacheResultOf,
  errorName,
  failedAttempts,
  failedProvider,
  RequestDetails,
} from '../metrics/request-outcome';
import { EmbeddingRequest, EmbeddingResponse } from '../openai/embedding.types';
import { validateEmbeddingRequest } from '../openai/validate-embedding-request';
import { EmbeddingResult } from '../providers/provider-adapter';
import { FallbackRouter } from '../routing/fallback-router';
import { RouteResolver } from '../routing/route-resolver';
import { CLOCK, Clock, LLM_METRICS } from '../tokens';
import { encodeEmbeddingBase64 } from './embedding-encoding';

export interface EmbeddingsResult {
  response: EmbeddingResponse;
  /** `provider/model` that answered. */
  resolved: string;
  attempts: FallbackAttempt[];
  /** `X-Mana-LLM-Cache`; `undefined` when no cache is configured. */
  cache?: CacheStatus;
}

/**
 * OpenAI embeddings: validation, routing with fallback (aliases too), base64 encoding (adapters
 * always return floats), usage and request metrics. `embed` is the single entry point.
 */
@Injectable()
export class EmbeddingsService {
  constructor(
    private readonly resolver: RouteResolver,
    private readonly router: FallbackRouter,
    @Inject(LLM_METRICS) private readonly metrics: LlmMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly cache: ResponseCache,
  ) {}

  /** Validates a raw body (400 naming `param`). */
  validate(body: unknown): EmbeddingRequest {
    return validateEmbeddingRequest(body);
  }

  async embed(request: EmbeddingRequest, ctx: RequestContext): Promise<EmbeddingsResult> {
    const started = this.clock.now();
    let model = 'none';
    let provider = 'none';
    let status = 200;
    const details: RequestDetails = { requestId: ctx.requestId, requestedModel: request.model };
    try {
      const route = this.resolver.resolve(request.model);
      const base64 = request.encoding_format === 'base64';
      const cached = this.cache.enabled
        ? await this.cache.lookup<CachedEmbeddings>(EMBEDDINGS_ENDPOINT, request, ctx)
        : (CACHE_DISABLED as CacheLookup<CachedEmbeddings>);
      details.cache = cacheResultOf(cached.status);
      if (cached.hit) {
        const { resolved, vectors, promptTokens } = cached.hit;
        model = resolved;
        provider = resolved.slice(0, resolved.indexOf('/'));
        const response = toEmbeddingResponse(vectors, promptTokens, resolved, base64);
        return { response, resolved, attempts: [], cache: cached.status };
      }
      const expected = typeof request.input === 'string' ? 1 : request.input.length;
      const routed = await this.router.call(route, async (adapter, entry) =>
        checkCount(
          await adapter.embed(entry.model, request, { signal: ctx.signal }),
          expected,
          entry.provider,
        ),
      );
      model = routed.entry.label;
      provider = routed.entry.provider;
      const { vectors, promptTokens } = routed.value;
      this.metrics.tokens(provider, model, ctx.app, promptTokens, 0);
      details.promptTokens = promptTokens;
      details.attempts = routed.attempts;
      await this.cache.store(cached, { resolved: model, vectors, promptTokens });
      return {
        response: toEmbeddingResponse(vectors, promptTokens, model, base64),
        resolved: model,
        attempts: routed.attempts,
        cache: cached.status,
      };
    } catch (err) {
      status = isLlmError(err) ? err.status : 500;
      provider = failedProvider(err);
      details.attempts = failedAttempts(err);
      details.error = errorName(err);
      throw err;
    } finally {
      this.metrics.requestFinished({
        endpoint: EMBEDDINGS_ENDPOINT,
        model,
        provider,
        status,
        app: ctx.app,
        stream: false,
        durationSeconds: (this.clock.now() - started) / 1000,
        ...details,
      });
    }
  }
}

/** One vector per input, or the upstream answer is broken (retryable: the next entry may do better). */
function checkCount(result: EmbeddingResult, expected: number, provider: string): EmbeddingResult {
  let complete = result.vectors.length === expected;
  for (let i = 0; complete && i < expected; i++) complete = Array.isArray(result.vectors[i]);
  if (!complete) {
    throw new UpstreamProtocolError(
      `${provider} returned ${result.vectors.length} embeddings for ${expected} inputs`,
      provider,
    );
  }
  return result;
}

/** The OpenAI embeddings list; `base64` encodes each vector as little-endian float32. */
export function toEmbeddingResponse(
  vectors: number[][],
  promptTokens: number,
  model: string,
  base64: boolean,
): EmbeddingResponse {
  const data: EmbeddingResponse['data'] = new Array(vectors.length);
  for (let i = 0; i < vectors.length; i++) {
    data[i] = {
      object: 'embedding',
      index: i,
      embedding: base64 ? encodeEmbeddingBase64(vectors[i]) : vectors[i],
    };
  }
  return {
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
