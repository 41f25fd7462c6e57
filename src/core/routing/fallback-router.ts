import { Inject, Injectable } from '@nestjs/common';
import { Observable, Subscription } from 'rxjs';
import { isLlmError, LlmError } from '../errors/llm-error';
import { ClientAbortError } from '../errors/request-errors';
import { AllProvidersFailedError, FallbackAttempt } from '../errors/routing-errors';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { LlmMetrics } from '../metrics/llm-metrics';
import { ChatCompletionChunk } from '../openai/chat-completion.types';
import { ProviderAdapter } from '../providers/provider-adapter';
import { ProviderRegistry } from '../providers/provider-registry';
import { CLOCK, Clock, LLM_METRICS } from '../tokens';
import { ChainEntry } from './model-ref';
import { Route } from './route-resolver';

export interface Routed<T> {
  value: T;
  entry: ChainEntry;
  attempts: FallbackAttempt[];
}

/** Unknown exceptions are non-retryable: returned at once, never recorded against a provider. */
function asError(err: unknown): LlmError | Error {
  return isLlmError(err) ? err : err instanceof Error ? err : new Error(String(err));
}

/** A chunk that commits a stream: real content, a tool call, reasoning, a finish or usage. */
export function commitsStream(chunk: ChatCompletionChunk): boolean {
  const choices = chunk.choices;
  if (choices.length === 0) return true;
  for (const choice of choices) {
    if (choice.finish_reason) return true;
    const d = choice.delta;
    if (!d) continue;
    if (d.content || d.reasoning_content || d.reasoning || (d.tool_calls && d.tool_calls.length > 0))
      return true;
  }
  return false;
}

/**
 * Walks a chain: skips unconfigured and unhealthy providers, moves on after retryable errors
 * (recording breaker failures), returns non-retryable errors at once. Every entry is tried at most once.
 * A direct model (no alias) gets its own error back; an alias whose chain is exhausted gets a 503
 * listing the attempts.
 */
@Injectable()
export class FallbackRouter {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly health: ProviderHealthCache,
    @Inject(LLM_METRICS) private readonly metrics: LlmMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async call<T>(
    route: Route,
    attempt: (adapter: ProviderAdapter, entry: ChainEntry) => Promise<T>,
  ): Promise<Routed<T>> {
    const walk = new ChainWalk(route, this.registry, this.health, this.metrics);
    for (let entry = walk.next(); entry; entry = walk.next()) {
      const started = this.clock.now();
      try {
        const value = await attempt(entry.adapter, entry.entry);
        this.health.recordSuccess(entry.entry.provider, this.clock.now() - started);
        walk.succeeded(entry.entry);
        return { value, entry: entry.entry, attempts: walk.attempts };
      } catch (err) {
        const error = asError(err);
        if (!walk.failed(entry.entry, error)) throw error;
      }
    }
    throw walk.exhausted();
  }

  /**
   * The streaming walk: an entry's chunks are held back until one commits the stream (a role-only
   * chunk or an upstream comment does not); a retryable failure before that moves to the next entry,
   * a failure after it ends the stream with that error. Never two providers' text in one answer.
   */
  stream(
    route: Route,
    attempt: (adapter: ProviderAdapter, entry: ChainEntry) => Observable<ChatCompletionChunk>,
  ): Observable<ChatCompletionChunk> {
    return new Observable<ChatCompletionChunk>((subscriber) => {
      const walk = new ChainWalk(route, this.registry, this.health, this.metrics);
      let inner: Subscription | undefined;
      let generation = 0;

      const tryNext = (): void => {
        const current = walk.next();
        if (!current) {
          subscriber.error(walk.exhausted());
          return;
        }
        const mine = ++generation;
        const { adapter, entry } = current;
        const started = this.clock.now();
        const pending: ChatCompletionChunk[] = [];
        let committed = false;
        const commit = () => {
          committed = true;
          this.health.recordSuccess(entry.provider, this.clock.now() - started);
          walk.succeeded(entry);
          for (const chunk of pending) subscriber.next(chunk);
          pending.length = 0;
        };
        let source: Observable<ChatCompletionChunk>;
        try {
          source = attempt(adapter, entry);
        } catch (err) {
          if (walk.failed(entry, asError(err))) tryNext();
          else subscriber.error(asError(err));
          return;
        }
        const sub = source.subscribe({
          next: (chunk) => {
            if (committed) return subscriber.next(chunk);
            if (!commitsStream(chunk)) return void pending.push(chunk);
            commit();
            subscriber.next(chunk);
          },
          error: (err: unknown) => {
            const error = asError(err);
            if (committed) {
              walk.failedAfterCommit(entry, error);
              subscriber.error(error);
            } else if (walk.failed(entry, error)) tryNext();
            else subscriber.error(error);
          },
          complete: () => {
            if (!committed) commit();
            subscriber.complete();
          },
        });
        if (mine === generation) inner = sub;
      };

      tryNext();
      return () => inner?.unsubscribe();
    });
  }
}

/** The state of one walk over a chain: which entry is next, what was skipped or failed. */
class ChainWalk {
  readonly attempts: FallbackAttempt[] = [];
  private index = -1;
  private lastError: LlmError | undefined;

  constructor(
    private readonly route: Route,
    private readonly registry: ProviderRegistry,
    private readonly health: ProviderHealthCache,
    private readonly metrics: LlmMetrics,
  ) {}

  /** The next routable entry; records skips on the way. */
  next(): { adapter: ProviderAdapter; entry: ChainEntry } | undefined {
    const chain = this.route.chain;
    while (++this.index < chain.length) {
      const entry = chain[this.index];
      const adapter = this.registry.get(entry.provider);
      if (!adapter) this.skip(entry, 'unconfigured');
      else if (!this.health.isAvailable(entry.provider)) this.skip(entry, 'cache-unhealthy');
      else return { adapter, entry };
    }
    return undefined;
  }

  succeeded(entry: ChainEntry): void {
    if (this.route.alias) this.metrics.aliasResolved(this.route.alias, entry.label);
  }

  /** Records a failure; true when the walk should go on to the next entry. */
  failed(entry: ChainEntry, error: LlmError | Error): boolean {
    if (!isLlmError(error) || !error.retryable || error instanceof ClientAbortError) return false;
    if (error.countsAsProviderFailure) this.health.recordFailure(entry.provider, error);
    this.lastError = error;
    this.skip(entry, error.reason);
    return true;
  }

  failedAfterCommit(entry: ChainEntry, error: LlmError | Error): void {
    if (isLlmError(error) && error.retryable && error.countsAsProviderFailure) {
      this.health.recordFailure(entry.provider, error);
    }
  }

  exhausted(): LlmError {
    // A direct model answers with its own upstream error (SPEC §3); skips and aliases get the 503.
    if (!this.route.alias && this.lastError) return this.lastError;
    return new AllProvidersFailedError(this.route.requested, this.attempts, this.lastError);
  }

  private skip(entry: ChainEntry, reason: string): void {
    this.attempts.push({ model: entry.label, reason });
    const next = this.route.chain[this.index + 1];
    this.metrics.fallback(entry.label, next ? next.label : 'none', reason);
  }
}
