import { Observable } from 'rxjs';
import { isLlmError } from '../errors/llm-error';
import { ClientAbortError } from '../errors/request-errors';
import { UpstreamProtocolError, UpstreamTimeoutError } from '../errors/upstream-errors';
import { ChatCompletionChunk } from '../openai/chat-completion.types';
import { StreamFlow } from '../streaming/stream-flow';
import { UpstreamHttp, UpstreamStream } from './upstream-http';

/** Turns upstream body bytes into our chunks; throws a typed error on an upstream error event. */
export interface ChunkDecoder {
  push(bytes: Buffer): ChatCompletionChunk[];
  /** Called once the body ended: the last chunks, or a throw if the stream was truncated. */
  end(): ChatCompletionChunk[];
}

export interface ReadStreamOptions {
  http: UpstreamHttp;
  path: string;
  body: string;
  timeoutMs: number;
  decoder: ChunkDecoder;
  flow?: StreamFlow;
}

/**
 * The one streaming loop both adapters use: a cold Observable over an upstream body. It reads with
 * `for await` (one decode and one batch of `next` calls per read), pauses reads while the consumer's
 * flow is paused, enforces the timeout to the first chunk and between chunks (comments and keep-alives
 * do not count as chunks), and aborts the upstream request on unsubscribe.
 */
export function readUpstreamStream(options: ReadStreamOptions): Observable<ChatCompletionChunk> {
  const { http, timeoutMs, decoder, flow } = options;
  return new Observable<ChatCompletionChunk>((subscriber) => {
    const controller = new AbortController();
    let upstream: UpstreamStream | undefined;
    let watchdog: NodeJS.Timeout | undefined;

    const run = async () => {
      upstream = await http.stream({
        method: 'POST',
        path: options.path,
        body: options.body,
        signal: controller.signal,
        timeoutMs,
      });
      const stream = upstream;
      watchdog = setTimeout(
        () =>
          stream.abort(
            new UpstreamTimeoutError(`${http.provider} sent no chunk for ${timeoutMs} ms`, http.provider),
          ),
        timeoutMs,
      );
      for await (const bytes of stream.body as AsyncIterable<Buffer>) {
        const chunks = decoder.push(bytes);
        if (chunks.length > 0) {
          watchdog.refresh();
          for (let i = 0; i < chunks.length && !subscriber.closed; i++) subscriber.next(chunks[i]);
        }
        if (subscriber.closed) return;
        const paused = flow?.ready();
        if (paused) {
          await paused;
          watchdog.refresh();
        }
      }
      for (const chunk of decoder.end()) subscriber.next(chunk);
      subscriber.complete();
    };

    run()
      .catch((err: unknown) => {
        if (subscriber.closed) return;
        const reason = upstream?.abortReason;
        if (reason) subscriber.error(reason);
        else if (isLlmError(err)) subscriber.error(err);
        else if (upstream) {
          // The body broke after the headers: a reset or a cut connection mid-stream.
          subscriber.error(
            new UpstreamProtocolError(
              `${http.provider} stream broke: ${(err as Error)?.message ?? err}`,
              http.provider,
              {
                cause: err,
              },
            ),
          );
        } else subscriber.error(http.asTyped(err));
      })
      .finally(() => clearTimeout(watchdog));

    return () => {
      clearTimeout(watchdog);
      if (!controller.signal.aborted) controller.abort(new ClientAbortError());
      upstream?.abort(new ClientAbortError());
    };
  });
}
