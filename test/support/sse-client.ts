import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP call (no client library): exact status, headers and bytes. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | object } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const req = request(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The `data:` payloads of an SSE body, in order (comments dropped). */
export function sseData(body: string): string[] {
  return body
    .split('\n\n')
    .filter((e) => e.length > 0)
    .flatMap((e) =>
      e
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6)),
    );
}

/** The parsed JSON chunks of an SSE body, without `[DONE]`. */
export function sseChunks<T = Record<string, unknown>>(body: string): T[] {
  return sseData(body)
    .filter((d) => d !== '[DONE]')
    .map((d) => JSON.parse(d) as T);
}
