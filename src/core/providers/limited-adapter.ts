import { Observable } from 'rxjs';
import { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../openai/chat-completion.types';
import { EmbeddingRequest } from '../openai/embedding.types';
import { ConcurrencyLimiter } from './concurrency-limiter';
import {
  CallOptions,
  EmbeddingResult,
  ProviderAdapter,
  StreamOptions,
  UpstreamModel,
} from './provider-adapter';

/**
 * An adapter whose chat and embeddings calls go through a `ConcurrencyLimiter`: a JSON call holds
 * its slot until it settles, a stream from subscribe until it completes, fails or is unsubscribed.
 * Model listing and the health probe bypass the limit (they must not queue behind long answers).
 */
export class LimitedAdapter implements ProviderAdapter {
  readonly name: ProviderAdapter['name'];

  constructor(
    private readonly inner: ProviderAdapter,
    readonly limiter: ConcurrencyLimiter,
  ) {
    this.name = inner.name;
  }

  async chat(model: string, request: ChatCompletionRequest, options: CallOptions): Promise<ChatCompletion> {
    const release = await this.limiter.acquire(options.signal);
    try {
      return await this.inner.chat(model, request, options);
    } finally {
      release();
    }
  }

  chatStream(
    model: string,
    request: ChatCompletionRequest,
    options: StreamOptions,
  ): Observable<ChatCompletionChunk> {
    return new Observable<ChatCompletionChunk>((subscriber) => {
      const waiting = new AbortController();
      let release: (() => void) | undefined;
      let inner: { unsubscribe(): void } | undefined;
      let closed = false;
      this.limiter.acquire(waiting.signal).then(
        (slot) => {
          if (closed) return slot();
          release = slot;
          inner = this.inner.chatStream(model, request, options).subscribe({
            next: (chunk) => subscriber.next(chunk),
            error: (err: unknown) => {
              slot();
              subscriber.error(err);
            },
            complete: () => {
              slot();
              subscriber.complete();
            },
          });
        },
        (err: unknown) => {
          if (!closed) subscriber.error(err);
        },
      );
      return () => {
        closed = true;
        waiting.abort();
        inner?.unsubscribe();
        release?.();
      };
    });
  }

  async embed(model: string, request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResult> {
    const release = await this.limiter.acquire(options.signal);
    try {
      return await this.inner.embed(model, request, options);
    } finally {
      release();
    }
  }

  listModels(options: CallOptions & { timeoutMs: number }): Promise<UpstreamModel[]> {
    return this.inner.listModels(options);
  }

  probe(timeoutMs: number): Promise<void> {
    return this.inner.probe(timeoutMs);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The adapter itself without limits, else the adapter behind a limiter of its own. */
export function withConcurrencyLimit(
  adapter: ProviderAdapter,
  limits: ConcurrencyLimiter['limits'] | undefined,
): ProviderAdapter {
  return limits ? new LimitedAdapter(adapter, new ConcurrencyLimiter(adapter.name, limits)) : adapter;
}
