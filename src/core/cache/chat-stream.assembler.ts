import {
  AssistantMessage,
  ChatChoice,
  ChatCompletion,
  ChatCompletionChunk,
  FinishReason,
  ToolCall,
  Usage,
} from '../openai/chat-completion.types';

interface ChoiceState {
  content: string;
  reasoningContent: string;
  reasoning: string;
  refusal: string;
  toolCalls: Map<number, ToolCall>;
  finish: FinishReason | null;
}

/**
 * Folds the chunks of one stream back into the `chat.completion` a non-streamed request would have
 * received (per choice: text, reasoning, refusal, tool calls by index with their arguments
 * concatenated, the finish reason; the usage), so a streamed answer can be cached once and served
 * to streamed and non-streamed askers alike. `result()` is `undefined` unless every choice finished.
 */
export class ChatStreamAssembler {
  /** Characters of text gathered so far; past `maxChars` the answer is dropped (never stored). */
  private size = 0;
  private tooLarge = false;
  private id: string | undefined;
  private created = 0;
  private model = '';
  private usage: Usage | undefined;
  private readonly choices = new Map<number, ChoiceState>();

  /**
   * @param maxChars answers longer than this (text, reasoning, tool arguments) are not assembled:
   * an endless stream would otherwise grow the assembled text without bound.
   */
  constructor(private readonly maxChars = Number.POSITIVE_INFINITY) {}

  add(chunk: ChatCompletionChunk): void {
    if (this.tooLarge) return;
    if (this.id === undefined) {
      this.id = chunk.id;
      this.created = chunk.created;
      this.model = chunk.model;
    }
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices) {
      let state = this.choices.get(choice.index);
      if (!state) {
        state = {
          content: '',
          reasoningContent: '',
          reasoning: '',
          refusal: '',
          toolCalls: new Map(),
          finish: null,
        };
        this.choices.set(choice.index, state);
      }
      const d = choice.delta;
      if (d) {
        this.size += deltaChars(d);
        if (this.size > this.maxChars) {
          this.tooLarge = true;
          this.choices.clear();
          return;
        }
        if (typeof d.content === 'string') state.content += d.content;
        if (typeof d.reasoning_content === 'string') state.reasoningContent += d.reasoning_content;
        if (typeof d.reasoning === 'string') state.reasoning += d.reasoning;
        if (typeof d.refusal === 'string') state.refusal += d.refusal;
        if (d.tool_calls) {
          for (const part of d.tool_calls) {
            let call = state.toolCalls.get(part.index);
            if (!call) {
              call = { id: '', type: 'function', function: { name: '', arguments: '' } };
              state.toolCalls.set(part.index, call);
            }
            if (part.id) call.id = part.id;
            if (part.function?.name) call.function.name = part.function.name;
            if (part.function?.arguments) call.function.arguments += part.function.arguments;
          }
        }
      }
      if (choice.finish_reason) state.finish = choice.finish_reason;
    }
  }

  /** The whole answer, or `undefined` when the stream did not finish every choice. */
  result(): ChatCompletion | undefined {
    if (this.tooLarge || this.id === undefined || this.choices.size === 0) return undefined;
    const choices: ChatChoice[] = [];
    for (const index of [...this.choices.keys()].sort((a, b) => a - b)) {
      const state = this.choices.get(index) as ChoiceState;
      if (state.finish === null) return undefined;
      const toolCalls = [...state.toolCalls.entries()].sort((a, b) => a[0] - b[0]).map(([, call]) => call);
      const message: AssistantMessage = {
        role: 'assistant',
        content: state.content === '' && toolCalls.length > 0 ? null : state.content,
      };
      if (toolCalls.length > 0) message.tool_calls = toolCalls;
      if (state.reasoningContent) message.reasoning_content = state.reasoningContent;
      if (state.reasoning) message.reasoning = state.reasoning;
      if (state.refusal) message.refusal = state.refusal;
      choices.push({ index, message, finish_reason: state.finish });
    }
    const completion: ChatCompletion = {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices,
    };
    if (this.usage) completion.usage = this.usage;
    return completion;
  }
}

/** The characters a delta adds to the assembled answer. */
function deltaChars(d: NonNullable<ChatCompletionChunk['choices'][number]['delta']>): number {
  let n = 0;
  if (typeof d.content === 'string') n += d.content.length;
  if (typeof d.reasoning_content === 'string') n += d.reasoning_content.length;
  if (typeof d.reasoning === 'string') n += d.reasoning.length;
  if (typeof d.refusal === 'string') n += d.refusal.length;
  if (d.tool_calls) for (const part of d.tool_calls) n += part.function?.arguments?.length ?? 0;
  return n;
}
