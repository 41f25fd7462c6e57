import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SseEvent, SseEventParser } from './sse-event-parser';

const FIXTURES = resolve(__dirname, '../../../../shared/fixtures');

function parseAll(pieces: (Buffer | string)[]): SseEvent[] {
  const parser = new SseEventParser();
  const events: SseEvent[] = [];
  for (const piece of pieces) events.push(...parser.push(piece));
  return events;
}

/** Every way of cutting `bytes` in two, plus one byte at a time. */
function allSplits(bytes: Buffer): Buffer[][] {
  const splits: Buffer[][] = [];
  for (let i = 0; i <= bytes.length; i++) splits.push([bytes.subarray(0, i), bytes.subarray(i)]);
  splits.push([...bytes].map((b) => Buffer.from([b])));
  return splits;
}

describe(SseEventParser.name, () => {
  it('should return the events of a whole body in order when it arrives in one read', () => {
    const events = parseAll(['data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n']);
    expect(events).toEqual([
      { event: undefined, data: '{"a":1}' },
      { event: undefined, data: '{"b":2}' },
      { event: undefined, data: '[DONE]' },
    ]);
  });

  it('should give the same events for every split position and byte by byte when lines end in LF, CRLF or CR', () => {
    const body = 'data: {"t":"Grüße 😊 ’"}\n\n: comment\n\nevent: error\ndata: {"e":1}\n\ndata: [DONE]\n\n';
    const expected = [
      { event: undefined, data: '{"t":"Grüße 😊 ’"}' },
      { event: 'error', data: '{"e":1}' },
      { event: undefined, data: '[DONE]' },
    ];
    for (const ending of ['\n', '\r\n', '\r']) {
      const bytes = Buffer.from(body.replace(/\n/g, ending), 'utf8');
      for (const pieces of allSplits(bytes)) expect(parseAll(pieces)).toEqual(expected);
    }
  });

  it('should parse every recorded OpenRouter stream identically for every split position', () => {
    const bytes = readFileSync(
      resolve(FIXTURES, 'openrouter/chat_stream_keepalive_midstream_error.response.sse'),
    );
    const whole = parseAll([bytes]);
    expect(whole).toHaveLength(5);
    expect(whole.every((e) => !e.data.includes('OPENROUTER'))).toBe(true);
    expect(whole[4].data).toBe('[DONE]');
    for (const pieces of allSplits(bytes)) expect(parseAll(pieces)).toEqual(whole);
  });

  it('should drop comment lines, including ones between the lines of an event', () => {
    expect(parseAll([': OPENROUTER PROCESSING\n\ndata: a\n: ping\ndata: b\n\n:\n\n'])).toEqual([
      { event: undefined, data: 'a\nb' },
    ]);
  });

  it('should join multi-line data with LF when an event has several data lines', () => {
    expect(parseAll(['data: line 1\ndata: line 2\ndata:\ndata: line 4\n\n'])).toEqual([
      { event: undefined, data: 'line 1\nline 2\n\nline 4' },
    ]);
  });

  it('should strip exactly one space after the colon when a value is read', () => {
    expect(parseAll(['data:x\n\ndata:  y\n\n'])).toEqual([
      { event: undefined, data: 'x' },
      { event: undefined, data: ' y' },
    ]);
  });

  it('should treat a lone CR as a line end when it is followed by more text in the same read', () => {
    expect(parseAll(['data: a\r\rdata: b\r\r'])).toEqual([
      { event: undefined, data: 'a' },
      { event: undefined, data: 'b' },
    ]);
  });

  it('should not take an LF after an empty read as a second line end when a CR ended the read before', () => {
    const parser = new SseEventParser();
    expect(parser.push('data: a\r')).toEqual([]);
    expect(parser.push(Buffer.alloc(0))).toEqual([]);
    expect(parser.push('\ndata: b\r\n\r\n')).toEqual([{ event: undefined, data: 'a\nb' }]);
  });

  it('should keep a multi-byte character whole when its bytes are split across three reads', () => {
    const bytes = Buffer.from('data: 😊\n\n', 'utf8');
    const parser = new SseEventParser();
    const events = [
      ...parser.push(bytes.subarray(0, 7)),
      ...parser.push(bytes.subarray(7, 8)),
      ...parser.push(bytes.subarray(8, 9)),
      ...parser.push(bytes.subarray(9)),
    ];
    expect(events).toEqual([{ event: undefined, data: '😊' }]);
  });

  it('should reset the event name after each event and ignore id, retry and unknown fields', () => {
    expect(parseAll(['event: error\nid: 7\nretry: 10\nfoo: bar\ndata: x\n\ndata: y\n\n'])).toEqual([
      { event: 'error', data: 'x' },
      { event: undefined, data: 'y' },
    ]);
  });

  it('should not dispatch an event whose data is empty or which has no data line', () => {
    expect(parseAll(['data\n\nevent: ping\n\ndata:\n\ndata: z\n\n'])).toEqual([
      { event: undefined, data: 'z' },
    ]);
  });

  it('should ignore a UTF-8 byte order mark at the start of the stream', () => {
    expect(parseAll([Buffer.from([0xef, 0xbb]), Buffer.from([0xbf]), 'data: a\n\n'])).toEqual([
      { event: undefined, data: 'a' },
    ]);
  });

  it('should report a partial event when the body stops in the middle of one', () => {
    const parser = new SseEventParser();
    parser.push('data: {"a":1}\n\ndata: {"b"');
    expect(parser.hasPartialEvent).toBe(true);
    const complete = new SseEventParser();
    complete.push('data: {"a":1}\n\n');
    expect(complete.hasPartialEvent).toBe(false);
  });
});
