import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { ChatService } from './chat/chat.service';
import { RequestContext } from './context/request-context';
import { EmbeddingsService } from './embeddings/embeddings.service';
import { AliasOverview, AliasView } from './routing/alias-overview';
import { ModelCatalog } from './models/model-catalog';
import { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from './openai/chat-completion.types';
import { EmbeddingRequest, EmbeddingResponse } from './openai/embedding.types';
import { ModelList } from './openai/model.types';

/** Per-call settings of the in-process client. */
export interface ClientCallOptions {
  /** Cancels the call (and aborts the upstream request). */
  signal?: AbortSignal;
  /** The calling app, for logs and the `app` metric label (`[a-z0-9_-]{1,32}`, else `unknown`). */
  app?: string;
  requestId?: string;
  /** Skip reading (`read: false`) or writing (`write: false`) the response cache. */
  cache?: { read: boolean; write: boolean };
}

/** A chat request for the client: `stream` is chosen by the method, `model` may be omitted. */
export type ClientChatRequest = Omit<ChatCompletionRequest, 'stream' | 'model'> & { model?: string };

const VALID_APP = /^[a-z0-9_-]{1,32}$/;

/**
 * mana-llm in-process: the same validation, routing, fallback, cache and metrics as the HTTP service,
 * without HTTP. Errors are the core's typed errors (`AllProvidersFailedError` with `attempts`,
 * `InvalidRequestError` with `param`, `UpstreamRateLimitError`, ...).
 */
@Injectable()
export class ManaLlmClient {
  constructor(
    private readonly chatService: ChatService,
    private readonly embeddingsService: EmbeddingsService,
    private readonly models: ModelCatalog,
    private readonly aliasOverview: AliasOverview,
  ) {}

  /** A complete chat answer. */
  async chat(request: ClientChatRequest, options: ClientCallOptions = {}): Promise<ChatCompletion> {
    const validated = this.chatService.validate({ ...request, stream: false });
    const result = await this.chatService.complete(validated, this.context(options));
    return result.completion;
  }

  /**
   * A cold Observable of chunks: the request starts on subscribe; unsubscribing aborts the upstream
   * request at once. The usage chunk (`choices: []`) comes last when `stream_options.include_usage`.
   */
  chatStream(request: ClientChatRequest, options: ClientCallOptions = {}): Observable<ChatCompletionChunk> {
    return new Observable<ChatCompletionChunk>((subscriber) => {
      const validated = this.chatService.validate({ ...request, stream: true });
      return this.chatService.stream(validated, this.context(options)).subscribe(subscriber);
    });
  }

  /** Embeddings (`input` a string or strings); `encoding_format: 'base64'` answers base64 strings. */
  async embed(request: EmbeddingRequest, options: ClientCallOptions = {}): Promise<EmbeddingResponse> {
    const validated = this.embeddingsService.validate({ ...request });
    const result = await this.embeddingsService.embed(validated, this.context(options));
    return result.response;
  }

  /** The model catalogue, as `GET /v1/models` answers it. */
  listModels(): Promise<ModelList> {
    return this.models.list();
  }

  /** The `mana/...` aliases with their chains and where each would route right now. */
  aliases(): AliasView[] {
    return this.aliasOverview.list();
  }

  private context(options: ClientCallOptions): RequestContext {
    return {
      requestId: options.requestId ?? randomUUID(),
      app: options.app && VALID_APP.test(options.app) ? options.app : 'unknown',
      signal: options.signal,
      cache: options.cache,
    };
  }
}
