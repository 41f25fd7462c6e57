import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NdjsonLineSplitter } from './ndjson-line-splitter';

const FIXTURES = resolve(__dirname, '../../../../shared/fixtures');

function split(pieces: (Buffer | string)[]): string[] {
  const splitter = new NdjsonLineSplitter();
  const lines: string[] = [];
  for (const piece of pieces) lines.push(...splitter.push(piece));
  const last = splitter.flush();
  if (last) lines.push(last);
  return lines;
}

describe(NdjsonLineSplitter.name, () => {
  it('should return complete lines and hold back a line without its newline', () => {
    const splitter = new NdjsonLineSplitter();
    expect(splitter.push('{"a":1}\n{"b":')).toEqual(['{"a":1}']);
    expect(splitter.push('2}\n')).toEqual(['{"b":2}']);
    expect(splitter.flush()).toBe('');
  });

  it('should give the same lines for every split position of a recorded Ollama stream with multi-byte characters', () => {
    const bytes = readFileSync(resolve(FIXTURES, 'ollama/chat_default_stream.response.ndjson'));
    const whole = split([bytes]);
    expect(whole).toHaveLength(51);
    expect(
      whole.map((l) => (JSON.parse(l) as { message: { content: string } }).message.content).join(''),
    ).toContain('I’m functioning perfectly and ready to help you with whatever you need. 😊 ');
    for (let i = 0; i <= bytes.length; i++) {
      expect(split([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(whole);
    }
    expect(split([...bytes].map((b) => Buffer.from([b])))).toEqual(whole);
  });

  it('should strip CR of CRLF line ends and skip blank lines', () => {
    expect(split(['{"a":1}\r\n\r\n\n{"b":2}\r', '\n'])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('should return a last line without a trailing newline from flush, trimmed', () => {
    const splitter = new NdjsonLineSplitter();
    expect(splitter.push('{"a":1}\n{"done":true} ')).toEqual(['{"a":1}']);
    expect(splitter.flush()).toBe('{"done":true}');
    expect(splitter.flush()).toBe('');
  });

  it('should keep a multi-byte character whole when its bytes arrive in separate reads', () => {
    const bytes = Buffer.from('{"c":"😊"}\n', 'utf8');
    const splitter = new NdjsonLineSplitter();
    const lines = [
      ...splitter.push(bytes.subarray(0, 7)),
      ...splitter.push(bytes.subarray(7, 9)),
      ...splitter.push(bytes.subarray(9)),
    ];
    expect(lines).toEqual(['{"c":"😊"}']);
  });
});
