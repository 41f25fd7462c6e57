import { UpstreamProtocolError, UpstreamStreamError } from '../../errors/upstream-errors';
import { scrubSecrets, upstreamErrorMessage } from '../../errors/upstream-error.factory';
import { ChatCompletionChunk, ChunkChoice, Usage } from '../../openai/chat-completion.types';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../openai/request-checks';
import { RepeatedEventShape } from '../../openai/repeated-event-shape';
import { setWireJson, spliceModel } from '../../openai/wire-json';
import { SseEvent } from '../../streaming/sse-event-parser';
import { mapOpenAiFinishReason } from './map-openai-finish-reason';

/**
 * Normalises one OpenAI-compatible SSE stream (OpenAI, OpenRouter, Groq, Together) into our chunk
 * contract: `model` = `provider/model` and one `id` on every chunk, the role on the first chunk,
 * exactly one finish chunk (OpenRouter repeats it), usage taken from wherever the vendor puts it
 * (a `choices: []` chunk, Groq's `x_groq.usage`, Together's finish chunk) and emitted once, last, as a
 * `choices: []` chunk. Error events (Groq `event: error`, OpenRouter's in-band `error`) throw.
 *
 * A chunk whose only change is the `model` label (the usual content chunk) carries its wire text:
 * the upstream's bytes with the label spliced in (`openai/wire-json.ts`), so it is not serialised again.
 * Until a choice finishes, an event that repeats such a chunk's text but for its token (and OpenAI's
 * padding) is not even parsed (`openai/repeated-event-shape.ts`): same text, same checks passed.
 */
export class OpenAiChunkNormalizer {
  private id: string | undefined;
  private created = 0;
  private usage: Usage | undefined;
  private roleSent = false;
  /** Choice indexes that have carried their one finish reason. */
  private readonly finished = new Set<number>();
  /** Choice indexes seen so far (a stream with `n > 1` finishes each choice once). */
  private readonly seen = new Set<number>();
  private sawDone = false;
  private readonly toolCalls = new Set<number>();
  private readonly labelJson: string;
  private readonly shape = new RepeatedEventShape();

  constructor(
    private readonly provider: string,
    private readonly label: string,
    /** Values (the provider key) that must never reach an error message built from an error event. */
    private readonly secrets: readonly string[] = [],
  ) {
    this.labelJson = JSON.stringify(label);
  }

  event(event: SseEvent, out: ChatCompletionChunk[]): void {
    const data = event.data;
    if (event.event === 'error') throw this.streamError(data);
    if (data === '[DONE]') {
      this.sawDone = true;
      return;
    }
    // Only while no choice has finished: after that, repeats are dropped or rewritten (OpenRouter).
    if (this.finished.size === 0) {
      const repeated = this.shape.match(data, setWireJson);
      if (repeated !== undefined) {
        out.push(repeated);
        return;
      }
    }
    let chunk: ChatCompletionChunk & { error?: unknown; x_groq?: { usage?: unknown } };
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new UpstreamProtocolError(`${this.provider} sent an SSE event that is not JSON`, this.provider);
    }
    if (!chunk || typeof chunk !== 'object' || Array.isArray(chunk)) {
      throw new UpstreamProtocolError(
        `${this.provider} sent an SSE event that is not an object`,
        this.provider,
      );
    }
    // Unknown fields pass through to the client: a hostile nesting depth would overflow the stack of
    // the JSON.stringify that writes the chunk (an uncaught throw inside the stream's subscriber).
    if (nestsDeeperThan(chunk, MAX_JSON_DEPTH)) {
      throw new UpstreamProtocolError(`${this.provider} sent an SSE event nested too deeply`, this.provider);
    }
    if (chunk.error !== undefined && chunk.error !== null) {
      throw this.streamError(data);
    }
    // Whether anything but `model` changes: then the chunk is serialised, else its text is reused.
    let changed = false;
    const usage = asUsage(chunk.usage) ?? asUsage(chunk.x_groq?.usage);
    if (usage) this.usage = usage;
    // Usage leaves only in the one usage chunk at the end (and only when the client asked for it).
    // OpenAI's `"usage":null` on every other chunk stays, as OpenAI itself sends it.
    if (chunk.usage !== undefined && chunk.usage !== null) {
      chunk.usage = undefined;
      changed = true;
    }
    if (chunk.x_groq && typeof chunk.x_groq === 'object' && chunk.x_groq.usage !== undefined) {
      chunk.x_groq.usage = undefined;
      changed = true;
    }

    const choices = chunk.choices;
    if (!Array.isArray(choices)) {
      throw new UpstreamProtocolError(`${this.provider} sent a chunk without choices`, this.provider);
    }
    if (this.id === undefined) {
      this.id = typeof chunk.id === 'string' ? chunk.id : 'chatcmpl-mana';
      this.created = typeof chunk.created === 'number' ? chunk.created : Math.floor(Date.now() / 1000);
    }
    if (choices.length === 0) return; // a usage-only chunk: re-emitted by end()
    // `kept` is only allocated when a choice is dropped (rare): the usual chunk keeps its array.
    let kept: ChunkChoice[] | undefined;
    for (let i = 0; i < choices.length; i++) {
      const choice = choices[i];
      if (!choice || typeof choice !== 'object') {
        throw new UpstreamProtocolError(
          `${this.provider} sent a choice that is not an object`,
          this.provider,
        );
      }
      const index = typeof choice.index === 'number' ? choice.index : 0;
      this.seen.add(index);
      if (this.finished.has(index)) {
        // OpenRouter repeats the finish chunk, and its 2025 usage chunk has an empty choice: drop both.
        if (isEmptyChoice(choice)) {
          kept ??= choices.slice(0, i);
          continue;
        }
        if (choice.finish_reason !== null) {
          choice.finish_reason = null;
          changed = true;
        }
      } else if (this.finishChoice(choice, index)) {
        changed = true;
      }
      kept?.push(choice);
    }
    if (kept) {
      if (kept.length === 0) return;
      chunk.choices = kept;
      changed = true;
    }
    if (chunk.id !== this.id || chunk.created !== this.created) {
      chunk.id = this.id;
      chunk.created = this.created;
      changed = true;
    }
    const upstreamModel = chunk.model;
    chunk.model = this.label;
    if (!this.roleSent) {
      this.roleSent = true;
      const first = chunk.choices[0];
      if (first.delta && typeof first.delta === 'object') {
        if (first.delta.role !== 'assistant') {
          first.delta.role = 'assistant';
          changed = true;
        }
      } else {
        first.delta = { role: 'assistant' };
        changed = true;
      }
    }
    if (!changed) {
      const wire = spliceModel(data, upstreamModel, this.labelJson);
      if (wire !== undefined) {
        setWireJson(chunk, wire);
        if (this.finished.size === 0) this.shape.learn(data, wire, chunk);
      }
    }
    out.push(chunk);
  }

  /** The body ended: the usage chunk, or a throw when the stream was cut before it finished. */
  end(out: ChatCompletionChunk[]): void {
    const open = [...this.seen].filter((index) => !this.finished.has(index));
    if (this.finished.size === 0 || open.length > 0) {
      if (!this.sawDone || this.id === undefined) {
        throw new UpstreamProtocolError(`${this.provider} stream ended before it finished`, this.provider);
      }
      // `[DONE]` without a finish reason: close the turn ourselves so clients see exactly one finish.
      const indexes = open.length > 0 ? open : [0];
      const choices = indexes.map((index): ChunkChoice => ({
        index,
        delta: this.roleSent ? {} : { role: 'assistant' },
        finish_reason: this.toolCalls.has(index) ? 'tool_calls' : 'stop',
      }));
      this.roleSent = true;
      for (const index of indexes) this.finished.add(index);
      out.push(this.bare(choices));
    }
    if (this.usage) out.push({ ...this.bare([]), usage: this.usage });
  }

  /** Records a choice's tool calls and its finish; true when `finish_reason` was rewritten. */
  private finishChoice(choice: ChunkChoice, index: number): boolean {
    const delta = choice.delta;
    if (delta && Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) this.toolCalls.add(index);
    const reason = choice.finish_reason as unknown;
    if (reason === null) return false;
    if (reason === undefined || reason === '') {
      choice.finish_reason = null;
      return true;
    }
    if (reason === 'error')
      throw new UpstreamStreamError(`${this.provider} reported an error mid-stream`, this.provider);
    const mapped = mapOpenAiFinishReason(reason, this.toolCalls.has(index));
    this.finished.add(index);
    if (mapped === reason) return false;
    choice.finish_reason = mapped;
    return true;
  }

  private streamError(data: string): UpstreamStreamError {
    return new UpstreamStreamError(
      scrubSecrets(upstreamErrorMessage(data, 200), this.secrets),
      this.provider,
    );
  }

  private bare(choices: ChunkChoice[]): ChatCompletionChunk {
    return {
      id: this.id ?? 'chatcmpl-mana',
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.label,
      choices,
    };
  }
}

function isEmptyChoice(choice: ChunkChoice): boolean {
  const d = choice.delta;
  if (!d) return true;
  return !d.content && !(d.tool_calls && d.tool_calls.length) && !d.reasoning_content && !d.reasoning;
}

function asUsage(value: unknown): Usage | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const u = value as Record<string, unknown>;
  if (typeof u.prompt_tokens !== 'number' || typeof u.completion_tokens !== 'number') return undefined;
  const total = typeof u.total_tokens === 'number' ? u.total_tokens : u.prompt_tokens + u.completion_tokens;
  return {
    ...u,
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: total,
  };
}
