/** Ollama's native API, only the fields mana-llm sends or reads (https://github.com/ollama/ollama/blob/main/docs/api.md). */

export interface OllamaToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  images?: string[];
  thinking?: string;
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
}

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: boolean;
  format?: 'json' | Record<string, unknown>;
  options?: Record<string, unknown>;
  tools?: unknown[];
  think?: boolean | string;
  keep_alive?: string | number;
}

/** One NDJSON line of a streamed `/api/chat`, or the whole non-stream answer. */
export interface OllamaChatResponse {
  model?: string;
  created_at?: string;
  message?: { role?: string; content?: string; thinking?: string; tool_calls?: OllamaToolCall[] };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

export interface OllamaEmbedResponse {
  embeddings?: number[][];
  prompt_eval_count?: number;
}

export interface OllamaTagsResponse {
  models?: { name?: string; model?: string; modified_at?: string }[];
}
