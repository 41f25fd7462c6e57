import { MonoTypeOperatorFunction, Observable } from 'rxjs';
import { ChatCompletionChunk } from '../openai/chat-completion.types';
import { CachedChat } from './chat-cache.entry';
import { ChatStreamAssembler } from './chat-stream.assembler';
import { CacheLookup, ResponseCache } from './response-cache';

/**
 * Passes a live stream through unchanged and, when it completes with every choice finished, stores
 * the assembled `chat.completion` before completing (so a request sent after `[DONE]` hits). An
 * errored or abandoned stream is never stored. Nothing happens when the lookup allows no write.
 */
export function storeCompletedStream(
  cache: ResponseCache,
  lookup: CacheLookup<CachedChat> | undefined,
): MonoTypeOperatorFunction<ChatCompletionChunk> {
  return (source) => {
    if (!lookup?.writeKey) return source;
    return new Observable<ChatCompletionChunk>((subscriber) => {
      // An answer over the entry limit is never stored: stop gathering it there (bounded memory).
      const assembler = new ChatStreamAssembler(cache.maxEntryBytes);
      const subscription = source.subscribe({
        next: (chunk) => {
          assembler.add(chunk);
          subscriber.next(chunk);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          const completion = assembler.result();
          if (!completion) return subscriber.complete();
          void cache
            .store(lookup, { resolved: completion.model, completion })
            .then(() => subscriber.complete());
        },
      });
      return () => subscription.unsubscribe();
    });
  };
}
