import type { IncomingMessage } from 'node:http';
import {
  ClientAbortError,
  InvalidRequestError,
  PayloadTooLargeError,
} from '../../core/errors/request-errors';

type MaybeParsed = IncomingMessage & { body?: unknown; _body?: boolean };

/**
 * Reads and parses a JSON body with a byte limit (413 past it, 400 for bad JSON). When a host app's
 * body parser already ran (embedded use: body-parser marks `_body`), its result is taken as is.
 */
export function readJsonBody(req: MaybeParsed, limitBytes: number): Promise<unknown> {
  if (req._body === true) return Promise.resolve(req.body);
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes) {
    req.resume(); // discard, so the 413 can still be written on this connection
    return Promise.reject(new PayloadTooLargeError(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        req.resume();
        reject(new PayloadTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (size === 0)
        return reject(new InvalidRequestError('The request body is empty; send a JSON object', 'body'));
      const text =
        chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(
          new InvalidRequestError(
            `The request body is not valid JSON: ${(err as Error).message}`,
            'body',
            'invalid_json',
          ),
        );
      }
    };
    // The only errors a request stream has are the client's: it went away mid-body (ECONNRESET,
    // "aborted"). That is no server fault to log, and nobody is left to answer.
    const onError = () => {
      cleanup();
      reject(new ClientAbortError());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
