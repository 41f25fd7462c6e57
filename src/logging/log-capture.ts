import type { DestinationStream } from 'pino';

/** A pino destination that keeps every line (tests, and anyone who wants the lines in memory). */
export class LogCapture implements DestinationStream {
  readonly raw: string[] = [];

  write(line: string): void {
    this.raw.push(line);
  }

  /** Every line parsed as JSON. */
  get lines(): Record<string, unknown>[] {
    return this.raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** The lines of one context (`Request`, `ProviderHealth`, ...). */
  context(name: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.context === name);
  }
}
