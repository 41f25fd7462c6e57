import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OpenAiChunkNormalizer } from '../providers/openai-compatible/openai-chunk.normalizer';
import { SseEventParser } from '../streaming/sse-event-parser';
import { ChatCompletionChunk } from './chat-completion.types';
import { literalEnd, RepeatedEventShape } from './repeated-event-shape';
import { setWireJson, spliceModel, wireJson } from './wire-json';

const FIXTURES = resolve(__dirname, '../../../../shared/fixtures');
const LABEL = 'vendor/model';
const LABEL_JSON = JSON.stringify(LABEL);

/** What the normaliser's full path gives for an event that only needs its label: parse, relabel, splice. */
function learnFrom(shape: RepeatedEventShape, data: string): ChatCompletionChunk {
  const chunk = JSON.parse(data) as ChatCompletionChunk;
  const wire = spliceModel(data, chunk.model, LABEL_JSON) as string;
  chunk.model = LABEL;
  setWireJson(chunk, wire);
  shape.learn(data, wire, chunk);
  return chunk;
}

/** The chunk's own fields (its wire text is a symbol key, compared apart). */
const plain = (chunk: ChatCompletionChunk | undefined) => chunk && Object.fromEntries(Object.entries(chunk));

const event = (delta: object, extra: object = {}, model = 'up/model') =>
  JSON.stringify({
    id: 'c-1',
    object: 'chat.completion.chunk',
    created: 100,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
    ...extra,
  });

describe(RepeatedEventShape.name, () => {
  it('should give a repeated event as the kept object with the new token and the label spliced into its text', () => {
    const shape = new RepeatedEventShape();
    learnFrom(shape, event({ content: 'Hello' }));
    const data = event({ content: ' world' });
    const out = shape.match(data, setWireJson);
    expect(plain(out)).toEqual({ ...JSON.parse(data), model: LABEL });
    expect(wireJson(out as ChatCompletionChunk)).toBe(data.replace('"up/model"', LABEL_JSON));
  });

  it('should decode escapes in the token and keep them as sent in the text', () => {
    const shape = new RepeatedEventShape();
    learnFrom(shape, event({ content: 'a' }));
    const data = event({ content: 'say "hi"\n\\ \u00e9 \u2028 \ud83d\ude00' }).replace('\u00e9', '\\u00e9');
    const out = shape.match(data, setWireJson) as ChatCompletionChunk;
    expect(out.choices[0].delta.content).toBe('say "hi"\n\\ \u00e9 \u2028 \ud83d\ude00');
    expect(wireJson(out)).toContain('say \\"hi\\"\\n\\\\ \\u00e9');
  });

  it("should cut OpenAI's padding too, whatever its length, and splice a model that comes after the choices", () => {
    const shape = new RepeatedEventShape();
    const tail = (pad: string) => ({ usage: null, obfuscation: pad });
    // Together's order: "model" after "choices".
    const late = (content: string, pad: string) =>
      `{"id":"c-1","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}],"model":"m","usage":null,"obfuscation":"${pad}"}`;
    learnFrom(shape, late('1', 'bZuWwpMP'));
    const data = late(', 2', 'XjUSo1V9Sx');
    const out = shape.match(data, setWireJson) as ChatCompletionChunk;
    expect(plain(out)).toEqual({ ...JSON.parse(data), model: LABEL });
    expect(wireJson(out)).toBe(data.replace('"model":"m"', `"model":${LABEL_JSON}`));
    // The same with the model first and the padding last (OpenAI's order).
    learnFrom(shape, event({ content: 'x' }, tail('ab')));
    const openai = event({ content: 'y' }, tail('abcdef'));
    expect(plain(shape.match(openai, setWireJson))).toEqual({ ...JSON.parse(openai), model: LABEL });
  });

  it('should give every event its own choices and delta objects', () => {
    const shape = new RepeatedEventShape();
    const kept = learnFrom(shape, event({ content: 'a' }));
    const one = shape.match(event({ content: 'b' }), setWireJson) as ChatCompletionChunk;
    const two = shape.match(event({ content: 'c' }), setWireJson) as ChatCompletionChunk;
    expect(one.choices).not.toBe(two.choices);
    expect(one.choices[0].delta).not.toBe(two.choices[0].delta);
    expect([
      kept.choices[0].delta.content,
      one.choices[0].delta.content,
      two.choices[0].delta.content,
    ]).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['another field changed', event({ content: 'b' }, { system_fingerprint: 'fp_2' })],
    ['a finish reason', event({ content: 'b' }).replace('"finish_reason":null', '"finish_reason":"stop"')],
    ['a control character in the token', event({ content: 'b' }).replace('"b"', '"a\u0001b"')],
    ['a bad escape', event({ content: 'b' }).replace('"b"', '"a\\qb"')],
    ['a short \\u escape', event({ content: 'b' }).replace('"b"', '"a\\u12"')],
    ['a token that is not a string', event({ content: 'b' }).replace('"b"', 'null')],
    ['text after the end', event({ content: 'b' }) + ' '],
    ['a different id', event({ content: 'b' }).replace('"c-1"', '"c-2"')],
  ])('should not match an event with %s', (_why, data) => {
    const shape = new RepeatedEventShape();
    learnFrom(shape, event({ content: 'a' }));
    expect(shape.match(data, setWireJson)).toBeUndefined();
  });

  it('should drop a shape whose cut is not the token: an escaped key with a look-alike elsewhere', () => {
    const shape = new RepeatedEventShape();
    // The delta's key is spelled with an escape; the only plain `"content":"` is a top-level field's,
    // so the cut lands there: the proof parse finds its marker outside the delta and drops the shape.
    const lookAlike = (token: string) =>
      `{"id":"c-1","model":"m","choices":[{"index":0,"delta":{"cont\\u0065nt":"a"},"finish_reason":null}],"content":"${token}"}`;
    learnFrom(shape, lookAlike('x'));
    expect(shape.match(lookAlike('y'), setWireJson)).toBeUndefined();
    // Dropped for good: not even the kept event itself matches any more.
    expect(shape.match(lookAlike('x'), setWireJson)).toBeUndefined();
    // A look-alike inside another string is escaped, so the token search never finds it.
    const inString = (token: string) =>
      `{"id":"c-1","model":"m","choices":[{"index":0,"delta":{"cont\\u0065nt":"${token}"},"finish_reason":null}],"x":"\\"content\\":\\""}`;
    learnFrom(shape, inString('a'));
    expect(shape.match(inString('b'), setWireJson)).toBeUndefined();
  });

  it('should not keep a shape with a duplicate token key, several choices, or nested values beside the cut', () => {
    const shape = new RepeatedEventShape();
    learnFrom(shape, event({ content: 'a' }).replace('"content":"a"', '"content":"a","content":"a"'));
    expect(
      shape.match(
        event({ content: 'b' }).replace('"content":"b"', '"content":"a","content":"b"'),
        setWireJson,
      ),
    ).toBeUndefined();
    learnFrom(shape, event({ content: 'a', tool_calls: [{ index: 0 }] }));
    expect(shape.match(event({ content: 'b', tool_calls: [{ index: 0 }] }), setWireJson)).toBeUndefined();
    const two = (t: string) =>
      `{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"${t}"},"finish_reason":null},{"index":1,"delta":{},"finish_reason":null}]}`;
    learnFrom(shape, two('a'));
    expect(shape.match(two('b'), setWireJson)).toBeUndefined();
  });
});

describe(literalEnd.name, () => {
  it.each([
    ['abc"', 3],
    ['a\\"b"', 4],
    ['\\\\"', 2],
    ['\\u00e9x"', 7],
    ['\\/\\b\\f\\n\\r\\t"', 12],
    ['abc', -1],
    ['a\\x"', -1],
    ['a\\uzzzz"', -1],
    ['a\tb"', -1],
  ])('should find the closing quote of %j at %d', (text, end) => {
    expect(literalEnd(text, 0)).toBe(end);
  });
});

describe(`${RepeatedEventShape.name} over the recorded streams`, () => {
  /**
   * Path, and how many events of it the shape answers without a parse: all but the first of each
   * run of same-shaped token events (Groq's reasoning then content, OpenAI's padded content); none
   * of Together's (its `token_id` and `text` change too) nor of tool-call argument streams.
   */
  const STREAMS: [string, number][] = [
    ['groq/chat_stream_text.response.sse', 46],
    ['groq/chat_stream_tool_call.response.sse', 21],
    ['groq/chat_stream_usage_in_x_groq_only.response.sse', 4],
    ['openai/chat_stream_parallel_tool_calls.response.sse', 0],
    ['openai/chat_stream_tool_call.response.sse', 0],
    ['openai/chat_stream_usage.response.sse', 12],
    ['openrouter/chat_stream.response.sse', 2],
    ['openrouter/chat_stream_comments_interleaved.response.sse', 68],
    ['openrouter/chat_stream_short.response.sse', 1],
    ['openrouter/chat_stream_usage_empty_choices.response.sse', 0],
    ['together/chat_stream.response.sse', 0],
    ['together/chat_stream_chunk_samples_2024.sse', 0],
  ];

  afterEach(() => jest.restoreAllMocks());

  it.each(STREAMS)(
    'should answer an event of %s only with exactly what parsing it gives (%d answered)',
    (path, answered) => {
      const matched: [string, ChatCompletionChunk][] = [];
      const match = RepeatedEventShape.prototype.match;
      jest.spyOn(RepeatedEventShape.prototype, 'match').mockImplementation(function (
        this: RepeatedEventShape,
        data,
        attach,
      ) {
        const out = match.call(this, data, attach);
        if (out) matched.push([data, out]);
        return out;
      });
      const parser = new SseEventParser();
      const normalizer = new OpenAiChunkNormalizer('vendor', LABEL);
      const out: ChatCompletionChunk[] = [];
      for (const e of parser.push(readFileSync(resolve(FIXTURES, path), 'utf8'))) normalizer.event(e, out);
      normalizer.end(out);
      for (const [data, chunk] of matched) {
        const parsed = JSON.parse(data) as ChatCompletionChunk;
        expect(plain(chunk)).toEqual({ ...parsed, model: LABEL });
        expect(wireJson(chunk)).toBe(spliceModel(data, parsed.model, LABEL_JSON));
      }
      expect(matched.length).toBe(answered);
    },
  );
});
