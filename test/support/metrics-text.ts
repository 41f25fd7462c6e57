import { rawRequest } from './sse-client';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample line of a Prometheus text exposition. */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The metric names an exposition declares (`# TYPE`), with `_bucket`/`_sum`/`_count` of histograms and summaries. */
export function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
    if (m[2] === 'summary') for (const s of ['_sum', '_count']) names.add(m[1] + s);
  }
  for (const s of parseSamples(text)) names.add(s.name);
  return names;
}

/** A scrape of `/metrics`, with lookups by name and exact labels. */
export class Scrape {
  readonly samples: Sample[];

  constructor(readonly text: string) {
    this.samples = parseSamples(text);
  }

  static async of(baseUrl: string): Promise<Scrape> {
    const res = await rawRequest(`${baseUrl}/metrics`);
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${res.body}`);
    return new Scrape(res.body);
  }

  /** Samples of `name` whose labels include `labels`. */
  find(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  }

  /** The sum of the matching samples; 0 when no series matches (a counter not yet incremented). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.find(name, labels).reduce((sum, s) => sum + s.value, 0);
  }
}
