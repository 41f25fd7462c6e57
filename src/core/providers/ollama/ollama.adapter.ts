import { Observable, defer, from, switchMap } from 'rxjs';
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
import { OllamaMappingDefaults, toOllamaChatRequest } from './ollama-request.mapper';
import { OllamaStreamMapper, parseOllamaDocument, toChatCompletion } from './ollama-response.mapper';
import { OllamaEmbedResponse, OllamaTagsResponse } from './ollama.wire';

/** Inlines remote (`http(s)`) image URLs as base64, since Ollama takes only base64 images. */
export interface ImageInliner {
  inline(request: ChatCompletionRequest, signal?: AbortSignal): Promise<ChatCompletionRequest>;
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
    return defer(() => from(this.inlineImages(request))).pipe(
      switchMap((prepared) =>
        readUpstreamStream({
          http: this.http,
          path: '/api/chat',
          body: JSON.stringify(toOllamaChatRequest(model, prepared, true, this.options.defaults)),
          timeoutMs: this.options.timeoutMs,
          decoder: ndjsonDecoder(new OllamaStreamMapper(`ollama/${model}`)),
          flow: options.flow,
        }),
      ),
    );
  }

  async embed(model: string, request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResult> {
    const body: Record<string, unknown> = { model, input: request.input };
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (this.options.defaults.numCtx !== undefined) body.options = { num_ctx: this.options.defaults.numCtx };
    const response = await this.http.json({
      method: 'POST',
      path: '/api/embed',
      body: JSON.stringify(body),
      signal: options.signal,
      timeoutMs: this.options.timeoutMs,
    });
    const parsed = parseJson<OllamaEmbedResponse>(response.text);
    const vectors = parsed.embeddings;
    if (!Array.isArray(vectors) || !vectors.every(Array.isArray)) {
      throw new UpstreamProtocolError('ollama /api/embed answer has no embeddings', 'ollama');
    }
    return { vectors, promptTokens: parsed.prompt_eval_count ?? 0 };
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

  close(): Promise<void> {
    return this.http.close();
  }

  private inlineImages(request: ChatCompletionRequest, signal?: AbortSignal): Promise<ChatCompletionRequest> {
    if (!this.options.images || !hasRemoteImage(request)) return Promise.resolve(request);
    return this.options.images.inline(request, signal);
  }
}

function hasRemoteImage(request: ChatCompletionRequest): boolean {
  for (const message of request.messages) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (
        part.type === 'image_url' &&
        !(part as { image_url: { url: string } }).image_url.url.startsWith('data:')
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
    push(bytes) {
      const out: ChatCompletionChunk[] = [];
      for (const line of lines.push(bytes)) mapper.map(line, out);
      return out;
    },
    end() {
      const out: ChatCompletionChunk[] = [];
      const last = lines.flush();
      if (last) mapper.map(last, out);
      if (!mapper.done) throw new UpstreamProtocolError('ollama stream ended before its done line', 'ollama');
      return out;
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
