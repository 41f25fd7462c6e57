import { Observable, defer, finalize, from, switchMap } from 'rxjs';
import { CancelSignal } from '../../context/cancel-signal';
import { UpstreamProtocolError } from '../../errors/upstream-errors';
import {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
} from '../../openai/chat-completion.types';
import { EmbeddingRequest } from '../../openai/embedding.types';
import { NdjsonLineSplitter } from '../../streaming/ndjson-line-splitter';
import {
  CallOptions,
  EmbeddingResult,
  ProviderAdapter,
  StreamOptions,
  UpstreamModel,
} from '../provider-adapter';
import { ChunkDecoder, readUpstreamStream } from '../read-upstream-stream';
import { UpstreamHttp } from '../upstream-http';
import {
  isHttpImageUrl,
  OllamaMappingDefaults,
  toOllamaChatRequest,
  toOllamaEmbedRequest,
} from './ollama-request.mapper';
import { OllamaStreamMapper, parseOllamaDocument, toChatCompletion } from './ollama-response.mapper';
import { OllamaEmbedResponse, OllamaTagsResponse } from './ollama.wire';

/** Inlines remote (`http(s)`) image URLs as base64, since Ollama takes only base64 images. */
export interface ImageInliner {
  inline(request: ChatCompletionRequest, signal?: CancelSignal): Promise<ChatCompletionRequest>;
  close?(): Promise<void>;
}

export interface OllamaAdapterOptions {
  baseUrl: string;
  timeoutMs: number;
  defaults: OllamaMappingDefaults;
  images?: ImageInliner;
  connections?: number;
}

/** Ollama's native API: `/api/chat` (NDJSON streams), `/api/embed`, `/api/tags`. */
export class OllamaAdapter implements ProviderAdapter {
  readonly name = 'ollama' as const;
  private readonly http: UpstreamHttp;

  constructor(private readonly options: OllamaAdapterOptions) {
    this.http = new UpstreamHttp({
      provider: 'ollama',
      baseUrl: options.baseUrl,
      headers: {},
      connections: options.connections,
    });
  }

  async chat(model: string, request: ChatCompletionRequest, options: CallOptions): Promise<ChatCompletion> {
    const prepared = await this.inlineImages(request, options.signal);
    const body = JSON.stringify(toOllamaChatRequest(model, prepared, false, this.options.defaults));
    const response = await this.http.json({
      method: 'POST',
      path: '/api/chat',
      body,
      signal: options.signal,
      timeoutMs: this.options.timeoutMs,
    });
    return toChatCompletion(parseOllamaDocument(response.text), `ollama/${model}`);
  }

  chatStream(
    model: string,
    request: ChatCompletionRequest,
    options: StreamOptions,
  ): Observable<ChatCompletionChunk> {
    const read = (prepared: ChatCompletionRequest) =>
      readUpstreamStream({
        http: this.http,
        path: '/api/chat',
        body: JSON.stringify(toOllamaChatRequest(model, prepared, true, this.options.defaults)),
        timeoutMs: this.options.timeoutMs,
        decoder: ndjsonDecoder(new OllamaStreamMapper(`ollama/${model}`)),
        flow: options.flow,
      });
    return defer(() => {
      // No remote image, nothing to download: no controller to abort at the end of every stream (an
      // abort builds a DOMException with a stack trace: 3 % of the CPU of a stream, bench/profile.js).
      if (!this.options.images || !hasRemoteImage(request)) return read(request);
      // Unsubscribing also cancels image downloads still in flight.
      const downloads = new AbortController();
      return from(this.inlineImages(request, downloads.signal)).pipe(
        switchMap(read),
        finalize(() => downloads.abort()),
      );
    });
  }

  /** `/api/embed`: the whole batch in one call; `options`/`keep_alive` extensions as for chat. */
  async embed(model: string, request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResult> {
    const body = JSON.stringify(toOllamaEmbedRequest(model, request, this.options.defaults));
    const response = await this.http.json({
      method: 'POST',
      path: '/api/embed',
      body,
      signal: options.signal,
      timeoutMs: this.options.timeoutMs,
    });
    const parsed = parseJson<OllamaEmbedResponse>(response.text);
    const vectors = parsed.embeddings;
    const expected = typeof request.input === 'string' ? 1 : request.input.length;
    if (!Array.isArray(vectors) || vectors.length !== expected || !vectors.every(isNumberArray)) {
      throw new UpstreamProtocolError(
        `ollama /api/embed answered without ${expected} embedding${expected === 1 ? '' : 's'}`,
        'ollama',
      );
    }
    const tokens = parsed.prompt_eval_count;
    return { vectors, promptTokens: typeof tokens === 'number' ? tokens : 0 };
  }

  async listModels(options: CallOptions & { timeoutMs: number }): Promise<UpstreamModel[]> {
    const response = await this.http.json({
      method: 'GET',
      path: '/api/tags',
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    const parsed = parseJson<OllamaTagsResponse>(response.text);
    if (!Array.isArray(parsed.models))
      throw new UpstreamProtocolError('ollama /api/tags has no models', 'ollama');
    const models: UpstreamModel[] = [];
    for (const m of parsed.models) {
      const id = m.name ?? m.model;
      if (typeof id !== 'string') continue;
      const time = m.modified_at ? Date.parse(m.modified_at) : NaN;
      models.push({ id, created: Number.isNaN(time) ? 0 : Math.floor(time / 1000) });
    }
    return models;
  }

  async probe(timeoutMs: number): Promise<void> {
    await this.http.json({ method: 'GET', path: '/api/tags', timeoutMs });
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.options.images?.close?.()]);
  }

  private inlineImages(
    request: ChatCompletionRequest,
    signal?: CancelSignal,
  ): Promise<ChatCompletionRequest> {
    if (!this.options.images || !hasRemoteImage(request)) return Promise.resolve(request);
    return this.options.images.inline(request, signal);
  }
}

/** A vector of numbers (anything else would reach the client as is, or overflow JSON.stringify). */
function isNumberArray(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'number') return false;
  return true;
}

function hasRemoteImage(request: ChatCompletionRequest): boolean {
  for (const message of request.messages) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (
        part.type === 'image_url' &&
        isHttpImageUrl((part as { image_url: { url: string } }).image_url.url)
      ) {
        return true;
      }
    }
  }
  return false;
}

function ndjsonDecoder(mapper: OllamaStreamMapper): ChunkDecoder {
  const lines = new NdjsonLineSplitter();
  return {
    push(bytes, out) {
      for (const line of lines.push(bytes)) mapper.map(line, out);
    },
    end(out) {
      const last = lines.flush();
      if (last) mapper.map(last, out);
      if (!mapper.done) throw new UpstreamProtocolError('ollama stream ended before its done line', 'ollama');
    },
  };
}

function parseJson<T>(text: string): T {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') return parsed as T;
  } catch {
    // reported below
  }
  throw new UpstreamProtocolError('ollama sent a body that is not a JSON object', 'ollama');
}
