import { StringDecoder } from 'node:string_decoder';

/**
 * Splits an NDJSON byte stream into complete lines (Ollama's streaming format), tolerant of lines and
 * multi-byte characters split across reads, CRLF and blank lines. Lines come back unparsed.
 */
export class NdjsonLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  push(chunk: Buffer | string): string[] {
    const text = this.rest + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines: string[] = [];
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end > start) lines.push(text.slice(start, end));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.rest = start === 0 ? text : text.slice(start);
    return lines;
  }

  /** A last line without a trailing newline, or '' (call at the end of the body). */
  flush(): string {
    const rest = (this.rest + this.decoder.end()).trim();
    this.rest = '';
    return rest;
  }
}
