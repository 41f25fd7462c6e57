import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** `../shared/fixtures` beside the repository (as on CI and in every session). */
export const FIXTURES_DIR = resolve(__dirname, '../../../shared/fixtures');

export function fixture(path: string): string {
  return readFileSync(resolve(FIXTURES_DIR, path), 'utf8');
}

export function fixtureJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(fixture(path)) as T;
}

/** A `*.headers.txt` file: status line, then `name: value` lines. Framing headers are dropped. */
export function fixtureHeaders(path: string): { status: number; headers: Record<string, string> } {
  const [statusLine, ...lines] = fixture(path)
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (['content-length', 'transfer-encoding', 'connection', 'date', 'alt-svc'].includes(name)) continue;
    headers[name] = line.slice(colon + 1).trim();
  }
  return { status, headers };
}

/** Splits an SSE body into its events (each keeps its trailing blank line) for timed replay. */
export function sseEvents(body: string): string[] {
  return body.split(/(?<=\n\n)/).filter((p) => p.length > 0);
}

/** Splits an NDJSON body into lines (each keeps its newline). */
export function ndjsonLines(body: string): string[] {
  return body.split(/(?<=\n)/).filter((p) => p.length > 0);
}
