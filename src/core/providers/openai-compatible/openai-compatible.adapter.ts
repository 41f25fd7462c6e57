import { Observable } from 'rxjs';
import { UpstreamProtocolError } from '../../errors/upstream-errors';
import {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
} from '../../openai/chat-completion.types';
import { decodeEmbeddingBase64 } from '../../embeddings/embedding-encoding';
import { EmbeddingRequest } from '../../openai/embedding.types';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../openai/request-checks';
import { setWireJson, spliceModel } from '../../openai/wire-json';
import { SseEventParser } from '../../streaming/sse-event-parser';
import {
  CallOptions,
  EmbeddingResult,
  ProviderAdapter,
  StreamOptions,
  UpstreamModel,
} from '../provider-adapter';
import { ChunkDecoder, readUpstreamStream } from '../read-upstream-stream';
import { UpstreamHttp } from '../upstream-http';
import { mapOpenAiFinishReason } from './map-openai-finish-reason';
import { OpenAiChunkNormalizer } from './openai-chunk.normalizer';
import { OpenAiCompatiblePreset } from './openai-compatible.presets';

export interface OpenAiCompatibleAdapterOptions {
  preset: OpenAiCompatiblePreset;
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  connections?: number;
}

/**
 * One adapter for every OpenAI-compatible vendor (OpenAI, OpenRouter, Groq, Together): the caller's
 * body is forwarded with unknown fields intact and `model` rewritten; the provider's key is sent,
 * the caller's never.
 */
export class OpenAiCompatibleAdapter implements ProviderAdapter {
  readonly name: OpenAiCompatiblePreset['name'];
  private readonly http: UpstreamHttp;

  constructor(private readonly options: OpenAiCompatibleAdapterOptions) {
    this.name = options.preset.name;
    this.http = new UpstreamHttp({
      provider: this.name,
      baseUrl: options.baseUrl,
      headers: { ...options.preset.headers, authorization: `Bearer ${options.apiKey}` },
      connections: options.connections,
      secrets: [options.apiKey],
    });
  }

  async chat(model: string, request: ChatCompletionRequest, options: CallOptions): Promise<ChatCompletion> {
    const body: ChatCompletionRequest = { ...withoutOllamaExtensions(request), model, stream: false };
    if (body.stream_options !== undefined) body.stream_options = undefined;
    const response = await this.http.json({
      method: 'POST',
      path: '/chat/completions',
      body: JSON.stringify(body),
      signal: options.signal,
      timeoutMs: this.options.timeoutMs,
    });
    return this.normaliseCompletion(response.text, `${this.name}/${model}`);
  }

  chatStream(
    model: string,
    request: ChatCompletionRequest,
    options: StreamOptions,
  ): Observable<ChatCompletionChunk> {
    // The gateway always asks for usage (token metrics); the client's stream gets it only if it asked.
    const body: ChatCompletionRequest = {
      ...withoutOllamaExtensions(request),
      model,
      stream: true,
      // Other stream options the caller set (e.g. OpenAI's include_obfuscation) are kept.
      stream_options: { ...request.stream_options, include_usage: true },
    };
    return readUpstreamStream({
      http: this.http,
      path: '/chat/completions',
      body: JSON.stringify(body),
      timeoutMs: this.options.timeoutMs,
      decoder: sseDecoder(
        new OpenAiChunkNormalizer(this.name, `${this.name}/${model}`, [this.options.apiKey]),
      ),
      flow: options.flow,
    });
  }

  async embed(model: string, request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResult> {
    // Base64 is a quarter of the bytes and far cheaper to parse than a float array; ask for it where
    // the vendor honours it and the caller asked for it (SDK default), decode it back to floats here.
    const format =
      request.encoding_format === 'base64' && BASE64_EMBEDDING_VENDORS.has(this.name) ? 'base64' : 'float';
    const body = { ...withoutOllamaExtensions(request), model, encoding_format: format };
    const response = await this.http.json({
      method: 'POST',
      path: '/embeddings',
      body: JSON.stringify(body),
      signal: options.signal,
      timeoutMs: this.options.timeoutMs,
    });
    const parsed = parseObject(response.text, this.name) as {
      data?: { index?: unknown; embedding?: unknown }[];
      usage?: { prompt_tokens?: unknown };
    };
    if (!Array.isArray(parsed.data))
      throw new UpstreamProtocolError(`${this.name} embeddings answer has no data`, this.name);
    const vectors: number[][] = new Array(parsed.data.length);
    parsed.data.forEach((item, i) => {
      const index = typeof item?.index === 'number' ? item.index : i;
      const vector = toVector(item?.embedding);
      if (!vector || index < 0 || index >= vectors.length || vectors[index] !== undefined) {
        throw new UpstreamProtocolError(`${this.name} embedding ${i} is malformed`, this.name);
      }
      vectors[index] = vector;
    });
    const tokens = parsed.usage?.prompt_tokens;
    return { vectors, promptTokens: typeof tokens === 'number' ? tokens : 0 };
  }

  async listModels(options: CallOptions & { timeoutMs: number }): Promise<UpstreamModel[]> {
    const response = await this.http.json({
      method: 'GET',
      path: '/models',
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    const parsed = parseObject(response.text, this.name) as { data?: { id?: unknown; created?: unknown }[] };
    if (!Array.isArray(parsed.data))
      throw new UpstreamProtocolError(`${this.name} /models has no data`, this.name);
    return parsed.data
      .filter((m) => typeof m.id === 'string')
      .map((m) => ({ id: m.id as string, created: typeof m.created === 'number' ? m.created : 0 }));
  }

  async probe(timeoutMs: number): Promise<void> {
    await this.http.json({ method: 'GET', path: '/models', timeoutMs });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /**
   * The vendor's answer with `model` = `provider/model` and finish reasons mapped; unknown fields
   * pass through. When nothing but `model` changed, the answer carries its wire text (the vendor's
   * bytes with the label spliced in), so it is not serialised again.
   */
  private normaliseCompletion(text: string, label: string): ChatCompletion {
    const completion = parseObject(text, this.name) as ChatCompletion;
    // Unknown fields pass through to the client; a hostile depth would overflow JSON.stringify (a 500).
    if (nestsDeeperThan(completion, MAX_JSON_DEPTH)) {
      throw new UpstreamProtocolError(`${this.name} sent an answer nested too deeply`, this.name);
    }
    if (!Array.isArray(completion.choices)) {
      throw new UpstreamProtocolError(`${this.name} answer has no choices`, this.name);
    }
    let changed = false;
    for (const choice of completion.choices) {
      if (!choice || typeof choice.message !== 'object' || choice.message === null) {
        throw new UpstreamProtocolError(`${this.name} answer has a choice without a message`, this.name);
      }
      const calls = choice.message.tool_calls;
      const mapped = mapOpenAiFinishReason(choice.finish_reason, Array.isArray(calls) && calls.length > 0);
      if (mapped !== choice.finish_reason) {
        choice.finish_reason = mapped;
        changed = true;
      }
    }
    const upstreamModel = completion.model;
    completion.model = label;
    if (!changed) {
      const wire = spliceModel(text, upstreamModel, JSON.stringify(label));
      if (wire !== undefined) setWireJson(completion, wire);
    }
    return completion;
  }
}

/** Vendors known to honour `encoding_format: "base64"` on `/embeddings`. */
const BASE64_EMBEDDING_VENDORS: ReadonlySet<string> = new Set(['openai']);

/**
 * Ollama-only extension fields (`options`, `keep_alive`, `think`): meaningful on an Ollama entry of a
 * chain, rejected as unknown arguments by the clouds, so they never leave for a cloud.
 */
function withoutOllamaExtensions<T extends Record<string, unknown>>(request: T): T {
  if (request.options === undefined && request.keep_alive === undefined && request.think === undefined) {
    return request;
  }
  const { options: _o, keep_alive: _k, think: _t, ...rest } = request;
  return rest as T;
}

/** A float array, or OpenAI's base64 float32 form decoded. */
function toVector(embedding: unknown): number[] | undefined {
  if (typeof embedding === 'string') return decodeEmbeddingBase64(embedding);
  if (!Array.isArray(embedding)) return undefined;
  for (const value of embedding) if (typeof value !== 'number') return undefined;
  return embedding as number[];
}

function sseDecoder(normalizer: OpenAiChunkNormalizer): ChunkDecoder {
  const parser = new SseEventParser();
  return {
    push(bytes, out) {
      for (const event of parser.push(bytes)) normalizer.event(event, out);
    },
    end(out) {
      // A last event without its blank line still counts (some proxies drop the final "\n\n").
      for (const event of parser.push('\n\n')) normalizer.event(event, out);
      normalizer.end(out);
    },
  };
}

function parseObject(text: string, provider: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UpstreamProtocolError(`${provider} sent a body that is not a JSON object`, provider);
}
