import { Inject, Injectable } from '@nestjs/common';
import { Observable, defer, finalize, from, switchMap } from 'rxjs';
import { CachedChat } from '../cache/chat-cache.entry';
import { ChatStreamAssembler } from '../cache/chat-stream.assembler';
import { replayChunks } from '../cache/chat-stream.replay';
import { CACHE_DISABLED, CacheLookup, CacheStatus, ResponseCache } from '../cache/response-cache';
import { CHAT_ENDPOINT, RequestContext } from '../context/request-context';
import { isLlmError } from '../errors/llm-error';
import { FallbackAttempt } from '../errors/routing-errors';
import { ResolvedManaLlmOptions } from '../mana-llm.options';
import { LlmMetrics } from '../metrics/llm-metrics';
import {
  cacheResultOf,
  errorName,
  failedAttempts,
  failedProvider,
  RequestDetails,
} from '../metrics/request-outcome';
import { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../openai/chat-completion.types';
import { validateChatRequest } from '../openai/validate-chat-request';
import { FallbackRouter } from '../routing/fallback-router';
import { RouteResolver } from '../routing/route-resolver';
import { StreamFlow } from '../streaming/stream-flow';
import { CLOCK, Clock, LLM_METRICS, RESOLVED_OPTIONS } from '../tokens';

export interface ChatResult {
  completion: ChatCompletion;
  /** `provider/model` that answered. */
  resolved: string;
  attempts: FallbackAttempt[];
  /** `X-Mana-LLM-Cache`; `undefined` when no cache is configured. */
  cache?: CacheStatus;
}

/** Chat completions: validation, routing with fallback, usage and request metrics. */
@Injectable()
export class ChatService {
  private readonly defaultModel: string;

  constructor(
    private readonly resolver: RouteResolver,
    private readonly router: FallbackRouter,
    @Inject(LLM_METRICS) private readonly metrics: LlmMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RESOLVED_OPTIONS) options: ResolvedManaLlmOptions,
    private readonly cache: ResponseCache,
  ) {
    this.defaultModel = `ollama/${options.ollama.defaultModel}`;
  }

  /** Validates a raw body (400 naming `param`); a missing `model` means the default Ollama model. */
  validate(body: unknown): ChatCompletionRequest {
    return validateChatRequest(body, this.defaultModel);
  }

  /**
   * The response cache's verdict, taken before answering (HTTP sets `X-Mana-LLM-Cache` from it); a
   * plain value, no promise to wait for, when no cache is configured.
   */
  lookupCache(
    request: ChatCompletionRequest,
    ctx: RequestContext,
  ): CacheLookup<CachedChat> | Promise<CacheLookup<CachedChat>> {
    if (!this.cache.enabled) return CACHE_DISABLED as CacheLookup<CachedChat>;
    return this.cache.lookup<CachedChat>(CHAT_ENDPOINT, request, ctx);
  }

  async complete(request: ChatCompletionRequest, ctx: RequestContext): Promise<ChatResult> {
    const started = this.clock.now();
    let model = 'none';
    let provider = 'none';
    let status = 200;
    const details: RequestDetails = { requestId: ctx.requestId, requestedModel: request.model };
    try {
      const route = this.resolver.resolve(request.model);
      const cached = this.cache.enabled ? await this.lookupCache(request, ctx) : CACHE_DISABLED;
      details.cache = cacheResultOf(cached.status);
      if (cached.hit) {
        model = cached.hit.resolved;
        provider = model.slice(0, model.indexOf('/'));
        return { completion: cached.hit.completion, resolved: model, attempts: [], cache: cached.status };
      }
      const routed = await this.router.call(route, (adapter, entry) =>
        adapter.chat(entry.model, request, { signal: ctx.signal }),
      );
      model = routed.entry.label;
      provider = routed.entry.provider;
      details.attempts = routed.attempts;
      const usage = routed.value.usage;
      if (usage) {
        this.metrics.tokens(provider, model, ctx.app, usage.prompt_tokens, usage.completion_tokens);
        details.promptTokens = usage.prompt_tokens;
        details.completionTokens = usage.completion_tokens;
      }
      await this.cache.store(cached, { resolved: model, completion: routed.value });
      return { completion: routed.value, resolved: model, attempts: routed.attempts, cache: cached.status };
    } catch (err) {
      status = isLlmError(err) ? err.status : 500;
      provider = failedProvider(err);
      details.attempts = failedAttempts(err);
      details.error = errorName(err);
      throw err;
    } finally {
      this.finish(ctx, model, provider, status, started, false, details);
    }
  }

  /**
   * A cold stream of chunks, every one labelled with the answering `provider/model`. Usage always
   * feeds the token metrics; the `choices: []` usage chunk reaches the caller only when it asked
   * (`stream_options.include_usage`). A cache hit is replayed as a normal stream; a live stream is
   * stored once it completes. `cached` is the verdict of `lookupCache` when the caller took it first.
   */
  stream(
    request: ChatCompletionRequest,
    ctx: RequestContext,
    flow?: StreamFlow,
    cached?: CacheLookup<CachedChat>,
  ): Observable<ChatCompletionChunk> {
    if (cached === undefined && this.cache.enabled) {
      return defer(() => this.cache.lookup<CachedChat>(CHAT_ENDPOINT, request, ctx)).pipe(
        switchMap((lookup) => this.stream(request, ctx, flow, lookup)),
      );
    }
    const includeUsage = request.stream_options?.include_usage === true;
    // One subscriber does all the per-chunk bookkeeping (first-token time, usage, the cache's
    // assembly, the usage chunk filter, the request's end): a chain of RxJS operators cost a layer
    // of calls per chunk each (docs/performance.md).
    return new Observable<ChatCompletionChunk>((subscriber) => {
      const started = this.clock.now();
      const details: RequestDetails = {
        requestId: ctx.requestId,
        requestedModel: request.model,
        cache: cacheResultOf(cached?.status),
      };
      let route;
      try {
        route = this.resolver.resolve(request.model);
      } catch (err) {
        details.error = errorName(err);
        this.finish(ctx, 'none', 'none', isLlmError(err) ? err.status : 500, started, true, details);
        subscriber.error(err);
        return undefined;
      }
      if (cached?.hit) {
        const resolved = cached.hit.resolved;
        return from(replayChunks(cached.hit.completion, includeUsage))
          .pipe(
            finalize(() =>
              this.finish(
                ctx,
                resolved,
                resolved.slice(0, resolved.indexOf('/')),
                200,
                started,
                true,
                details,
              ),
            ),
          )
          .subscribe(subscriber);
      }
      this.metrics.streamOpened();
      const attempts: FallbackAttempt[] = [];
      details.attempts = attempts;
      // An answer over the entry limit is never stored: the assembler stops gathering it there.
      const assembler = cached?.writeKey ? new ChatStreamAssembler(this.cache.maxEntryBytes) : undefined;
      let model = 'none';
      let provider = 'none';
      let status = 200;
      let first = true;
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        this.metrics.streamClosed();
        this.finish(ctx, model, provider, status, started, true, details);
      };
      const inner = this.router
        .stream(route, (adapter, entry) => adapter.chatStream(entry.model, request, { flow }), attempts)
        .subscribe({
          next: (chunk) => {
            if (first) {
              first = false;
              model = chunk.model;
              provider = model.slice(0, model.indexOf('/'));
              this.metrics.timeToFirstToken(provider, model, (this.clock.now() - started) / 1000);
            }
            const usage = chunk.choices.length === 0 ? chunk.usage : undefined;
            if (usage) {
              this.metrics.tokens(provider, model, ctx.app, usage.prompt_tokens, usage.completion_tokens);
              details.promptTokens = usage.prompt_tokens;
              details.completionTokens = usage.completion_tokens;
            }
            assembler?.add(chunk);
            if (includeUsage || chunk.choices.length > 0) subscriber.next(chunk);
          },
          error: (err: unknown) => {
            details.error = errorName(err);
            if (first) {
              status = isLlmError(err) ? err.status : 500;
              provider = failedProvider(err);
              details.attempts = failedAttempts(err) ?? attempts;
            }
            // The request's end is recorded first: delivering the error runs the teardown below.
            close();
            subscriber.error(err);
          },
          complete: () => {
            // A completed stream with every choice finished is stored before the caller sees the
            // end, so a request sent after `[DONE]` hits. An errored or abandoned one never is.
            const completion = assembler?.result();
            if (!completion || !cached) {
              close();
              subscriber.complete();
              return;
            }
            void this.cache.store(cached, { resolved: completion.model, completion }).then(() => {
              close();
              subscriber.complete();
            });
          },
        });
      return () => {
        inner.unsubscribe();
        if (closed) return;
        // The caller left before the end (a client gone, a shutdown): 499 if nothing came.
        if (first) status = 499;
        close();
      };
    });
  }

  private finish(
    ctx: RequestContext,
    model: string,
    provider: string,
    status: number,
    started: number,
    stream: boolean,
    details: RequestDetails,
  ) {
    this.metrics.requestFinished({
      endpoint: CHAT_ENDPOINT,
      model,
      provider,
      status,
      app: ctx.app,
      stream,
      durationSeconds: (this.clock.now() - started) / 1000,
      ...details,
    });
  }
}
