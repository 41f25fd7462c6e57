import { ChatCompletionChunk } from './chat-completion.types';

/** Delta fields that carry a stream event's token (one per event). */
const TOKEN_KEYS = ['content', 'reasoning', 'reasoning_content'] as const;
/** A top-level string OpenAI changes on every event (random padding against length analysis). */
const PADDING_KEY = 'obfuscation';
/** Stand-ins for the cut strings in the one parse that proves where the cuts are. */
const MARKERS = ['mana-llm-cut-0', 'mana-llm-cut-1'];

interface Cut {
  /** A delta field (the token) or a top-level field (the padding). */
  inDelta: boolean;
  key: string;
}

/**
 * Most SSE events of a stream are the previous event's text with other strings in one or two places:
 * the token (`delta.content`, `delta.reasoning`) and, at OpenAI, the random `obfuscation` padding.
 * After an event has been parsed, checked and found to pass through unchanged but for the model label
 * (`learn`), its text is kept cut at those strings. A later event that is equal to it byte for byte
 * outside the cuts, with a valid JSON string literal in each cut, is the same JSON document with other
 * strings (`match`): its object is the kept one with those values replaced, and its wire text the kept
 * wire text around the new literals — no `JSON.parse`, no depth walk, and nothing left to check, since
 * everything the normaliser looks at is in the identical text. The first match of a kept shape costs
 * one parse with marker strings in the cuts, which proves the cuts are those fields (a key spelled with
 * escapes, a duplicate key or a look-alike elsewhere fails it, and the shape is dropped).
 *
 * The kept object's other values are primitives only, so events never share a nested object.
 */
export class RepeatedEventShape {
  /** The text between the cuts: `segments[i]` ends with a cut's opening quote, the next starts with its closing one. */
  private segments: string[] | undefined;
  private wireSegments: string[] = [];
  private cuts: Cut[] = [];
  private chunk: ChatCompletionChunk | undefined;
  private proven = false;

  /**
   * Keeps the shape of `data` (a checked event) whose object `chunk` is written as `wire` (the same
   * text with the model label spliced in); forgets the previous shape when this one cannot be kept.
   */
  learn(data: string, wire: string, chunk: ChatCompletionChunk): void {
    this.segments = undefined;
    this.chunk = undefined;
    const choice = chunk.choices.length === 1 ? chunk.choices[0] : undefined;
    const delta = choice?.delta;
    if (!choice || !delta || typeof delta !== 'object') return;
    const tokenKey = TOKEN_KEYS.find((key) => typeof delta[key] === 'string');
    if (tokenKey === undefined) return;
    const cuts: Cut[] = [{ inDelta: true, key: tokenKey }];
    if (typeof chunk[PADDING_KEY] === 'string') cuts.push({ inDelta: false, key: PADDING_KEY });
    if (
      !primitivesBut(chunk, cuts[1]?.key, 'choices') ||
      !primitivesBut(choice, undefined, 'delta') ||
      !primitivesBut(delta, tokenKey, undefined)
    ) {
      return;
    }
    // Where each cut string starts and ends in the text, in text order.
    const spans: { cut: Cut; start: number; end: number }[] = [];
    for (const cut of cuts) {
      const start = onlyLiteralOf(data, cut.key);
      const end = start === -1 ? -1 : literalEnd(data, start);
      if (end === -1) return;
      spans.push({ cut, start, end });
    }
    spans.sort((a, b) => a.start - b.start);
    // The label splice changes the text after the `"model"` key by `shift` characters.
    const model = data.indexOf('"model"');
    const shift = wire.length - data.length;
    const inWire = (at: number) => (at > model ? at + shift : at);
    const segments: string[] = [];
    const wireSegments: string[] = [];
    let from = 0;
    for (const span of spans) {
      segments.push(data.slice(from, span.start));
      wireSegments.push(wire.slice(inWire(from), inWire(span.start)));
      from = span.end;
    }
    segments.push(data.slice(from));
    wireSegments.push(wire.slice(inWire(from)));
    this.segments = segments;
    this.wireSegments = wireSegments;
    this.cuts = spans.map((s) => s.cut);
    this.chunk = chunk;
    this.proven = false;
  }

  /** The object of `data` (its wire text attached by `attach`) when it has the kept shape. */
  match(
    data: string,
    attach: (chunk: ChatCompletionChunk, wire: string) => void,
  ): ChatCompletionChunk | undefined {
    const segments = this.segments;
    if (segments === undefined || !textAt(data, segments[0], 0)) return undefined;
    const cuts = this.cuts;
    // Literal bounds, two per cut (start, end): the cut count is one or two.
    const bounds: number[] = [];
    let at = segments[0].length;
    for (let i = 0; i < cuts.length; i++) {
      const end = literalEnd(data, at);
      const next = segments[i + 1];
      if (end === -1 || !textAt(data, next, end)) return undefined;
      bounds.push(at, end);
      at = end + next.length;
    }
    if (at !== data.length || (!this.proven && !this.prove())) return undefined;

    const template = this.chunk as ChatCompletionChunk;
    const copy: ChatCompletionChunk = { ...template };
    const choice = template.choices[0];
    const delta = { ...choice.delta };
    let wire = this.wireSegments[0];
    for (let i = 0; i < cuts.length; i++) {
      const start = bounds[2 * i];
      const end = bounds[2 * i + 1];
      const raw = data.slice(start, end);
      const value = raw.includes('\\') ? (JSON.parse(data.slice(start - 1, end + 1)) as string) : raw;
      if (cuts[i].inDelta) delta[cuts[i].key] = value;
      else copy[cuts[i].key] = value;
      wire += raw + this.wireSegments[i + 1];
    }
    copy.choices = [{ ...choice, delta }];
    attach(copy, wire);
    return copy;
  }

  /** One parse with markers in the cuts: they must land in exactly the fields the cuts stand for. */
  private prove(): boolean {
    const segments = this.segments as string[];
    let text = segments[0];
    for (let i = 0; i < this.cuts.length; i++) text += MARKERS[i] + segments[i + 1];
    let parsed: ChatCompletionChunk | undefined;
    try {
      parsed = JSON.parse(text) as ChatCompletionChunk;
    } catch {
      parsed = undefined;
    }
    const choices = parsed?.choices;
    const delta = Array.isArray(choices) && choices.length === 1 ? choices[0]?.delta : undefined;
    this.proven =
      parsed !== undefined &&
      delta !== undefined &&
      this.cuts.every((cut, i) => (cut.inDelta ? delta[cut.key] : parsed[cut.key]) === MARKERS[i]);
    if (!this.proven) this.segments = undefined;
    return this.proven;
  }
}

/**
 * Whether `text` holds `part` at `at`: `startsWith(part, at)`, which V8 runs a character at a time
 * (~270 ns for the ~200 characters an event shares with the previous one); a slice and `===` compare
 * in bulk (~70 ns).
 */
function textAt(text: string, part: string, at: number): boolean {
  return text.length - at >= part.length && text.slice(at, at + part.length) === part;
}

/** Whether every own value of `obj` is a primitive or null, except `cut` (a string) and `path`. */
function primitivesBut(obj: object, cut: string | undefined, path: string | undefined): boolean {
  for (const key in obj) {
    if (key === cut || key === path) continue;
    const value = (obj as Record<string, unknown>)[key];
    if (value !== null && typeof value === 'object') return false;
  }
  return true;
}

/**
 * Where the string value of `"key":"` starts (after its opening quote), when the text holds that
 * token exactly once; -1 otherwise (absent, or spaced differently, or twice: the cut would be unsure).
 */
function onlyLiteralOf(text: string, key: string): number {
  const token = `"${key}":"`;
  const at = text.indexOf(token);
  if (at === -1 || text.indexOf(token, at + token.length) !== -1) return -1;
  return at + token.length;
}

/**
 * The index of the closing quote of the JSON string literal whose characters start at `from`, or -1
 * when they are not a valid literal (a control character, a bad escape, no closing quote).
 */
export function literalEnd(text: string, from: number): number {
  const length = text.length;
  for (let i = from; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c < 0x20) return -1;
    if (c !== 0x5c) continue;
    const escaped = text.charCodeAt(++i);
    if (escaped === 0x75 /* u */) {
      for (let h = 1; h <= 4; h++) if (!isHexDigit(text.charCodeAt(i + h))) return -1;
      i += 4;
    } else if (!SIMPLE_ESCAPES.has(escaped)) {
      return -1;
    }
  }
  return -1;
}

/** `" \ / b f n r t` after a backslash. */
const SIMPLE_ESCAPES: ReadonlySet<number> = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
