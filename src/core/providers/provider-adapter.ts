import { Observable } from 'rxjs';
import { CancelSignal } from '../context/cancel-signal';
import { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../openai/chat-completion.types';
import { EmbeddingRequest } from '../openai/embedding.types';
import { StreamFlow } from '../streaming/stream-flow';

export const PROVIDER_NAMES = ['ollama', 'openai', 'openrouter', 'groq', 'together'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export function isProviderName(value: string): value is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(value);
}

export interface CallOptions {
  /** Cancels the upstream call (the client went away). */
  signal?: CancelSignal;
}

export interface StreamOptions {
  /** Backpressure from the consumer: the adapter pauses upstream reads while it is paused. */
  flow?: StreamFlow;
}

/** Embeddings as the adapters return them: always floats; the core encodes base64 when asked. */
export interface EmbeddingResult {
  vectors: number[][];
  promptTokens: number;
}

export interface UpstreamModel {
  /** The upstream's own model id, without our provider prefix. */
  id: string;
  created: number;
}

/**
 * One adapter per upstream API. Takes and returns our OpenAI-shaped types; `model` is the upstream's
 * model name (no provider prefix); answers carry `model` = `<provider>/<model>`.
 */
export interface ProviderAdapter {
  readonly name: ProviderName;
  chat(model: string, request: ChatCompletionRequest, options: CallOptions): Promise<ChatCompletion>;
  /** Cold: nothing is sent before subscribe; unsubscribing aborts the upstream request. */
  chatStream(
    model: string,
    request: ChatCompletionRequest,
    options: StreamOptions,
  ): Observable<ChatCompletionChunk>;
  embed(model: string, request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResult>;
  listModels(options: CallOptions & { timeoutMs: number }): Promise<UpstreamModel[]>;
  /** Resolves when the upstream answers its cheapest authenticated endpoint. */
  probe(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}
