import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID = Symbol('mana-llm:request-id');

const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const VALID_APP = /^[a-z0-9_-]{1,32}$/;

type WithId = IncomingMessage & { [REQUEST_ID]?: string };

/** The request's id: the caller's `X-Request-Id` when sane, else a new UUID; echoed on the response. */
export function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const tagged = req as WithId;
  const existing = tagged[REQUEST_ID];
  if (existing) return existing;
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID();
  tagged[REQUEST_ID] = id;
  if (!res.headersSent) res.setHeader('x-request-id', id);
  return id;
}

/** `X-Mana-App` if it matches `[a-z0-9_-]{1,32}`, else `unknown` (bounded metric label). */
export function appOf(req: IncomingMessage): string {
  const app = req.headers['x-mana-app'];
  return typeof app === 'string' && VALID_APP.test(app) ? app : 'unknown';
}

/** Raw middleware for every route of the standalone service. */
export function requestIdMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  requestIdOf(req, res);
  next();
}
