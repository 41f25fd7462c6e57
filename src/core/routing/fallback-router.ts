import { Inject, Injectable } from '@nestjs/common';
import { Observable, Subscription } from 'rxjs';
import { FallbackAttempt } from '../errors/routing-errors';
import { ProviderHealthCache } from '../health/provider-health.cache';
import { LlmMetrics } from '../metrics/llm-metrics';
import { ChatCompletionChunk } from '../openai/chat-completion.types';
import { ProviderAdapter } from '../providers/provider-adapter';
import { ProviderRegistry } from '../providers/provider-registry';
import { CLOCK, Clock, LLM_METRICS } from '../tokens';
import { ChainWalk } from './chain-walk';
import { ChainEntry } from './model-ref';
import { Route } from './route-resolver';
import { commitsStream } from './stream-commit';

export { commitsStream } from './stream-commit';

/**
 * Chunks held back before a stream commits (role, reasoning, finish, usage). Past it the stream
 * commits anyway: an endless reasoning stream made the gateway buffer without bound.
 */
export const MAX_HELD_CHUNKS = 1024;

export interface Routed<T> {
  value: T;
  entry: ChainEntry;
  attempts: FallbackAttempt[];
}

/**
 * Walks a chain (an alias's, or a direct model's chain of one) for chat — JSON and stream — and
 * embeddings: skips unconfigured and unhealthy providers, moves on after retryable errors (recording
 * breaker failures), returns non-retryable errors at once. Every entry is called at most once.
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
    for (let step = walk.next(); step; step = walk.next()) {
      const started = this.clock.now();
      try {
        const value = await attempt(step.adapter, step.entry);
        walk.succeeded(step.entry, this.clock.now() - started);
        return { value, entry: step.entry, attempts: walk.attempts };
      } catch (err) {
        if (!walk.failed(step.entry, err)) throw err;
      }
    }
    throw walk.exhausted();
  }

  /**
   * The streaming walk. An entry's chunks are held back until one commits the stream (real content
   * or a tool call, see `commitsStream`); a retryable failure before that drops them and moves to the
   * next entry; a failure after it ends the stream with that error. Never two providers' text in one
   * answer. Unsubscribing aborts the current upstream and is no provider failure. `attempts`, when
   * given, receives the skipped and failed entries once the stream commits (for the request log).
   */
  stream(
    route: Route,
    attempt: (adapter: ProviderAdapter, entry: ChainEntry) => Observable<ChatCompletionChunk>,
    attempts?: FallbackAttempt[],
  ): Observable<ChatCompletionChunk> {
    return new Observable<ChatCompletionChunk>((subscriber) => {
      const walk = new ChainWalk(route, this.registry, this.health, this.metrics);
      let inner: Subscription | undefined;
      let generation = 0;

      const tryNext = (): void => {
        const step = walk.next();
        if (!step) {
          subscriber.error(walk.exhausted());
          return;
        }
        const mine = ++generation;
        const { adapter, entry } = step;
        const started = this.clock.now();
        const pending: ChatCompletionChunk[] = [];
        let committed = false;
        const commit = () => {
          committed = true;
          walk.succeeded(entry, this.clock.now() - started);
          if (attempts) attempts.push(...walk.attempts);
          for (let i = 0; i < pending.length; i++) subscriber.next(pending[i]);
          pending.length = 0;
        };
        const fail = (err: unknown) => {
          if (walk.failed(entry, err)) tryNext();
          else subscriber.error(err);
        };
        let source: Observable<ChatCompletionChunk>;
        try {
          source = attempt(adapter, entry);
        } catch (err) {
          return fail(err);
        }
        const sub = source.subscribe({
          next: (chunk) => {
            if (committed) return subscriber.next(chunk);
            pending.push(chunk);
            // Held chunks are memory without backpressure: an upstream that only reasons (or sends
            // role-only chunks) for long is alive and answering, so it commits once the cap is hit.
            if (commitsStream(chunk) || pending.length >= MAX_HELD_CHUNKS) commit();
          },
          error: (err: unknown) => {
            if (!committed) return fail(err);
            walk.failedAfterCommit(entry, err);
            subscriber.error(err);
          },
          complete: () => {
            // A stream that ends without content (an empty answer) is still that entry's answer.
            if (!committed) commit();
            subscriber.complete();
          },
        });
        // A source that failed synchronously has already moved the walk on: keep the newest only.
        if (mine === generation) inner = sub;
      };

      tryNext();
      return () => inner?.unsubscribe();
    });
  }
}
