import { Logger } from '@nestjs/common';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';

/** A route served ahead of Express: exact method and path (a query string goes through Express). */
export interface HotRoute {
  method: 'GET' | 'POST';
  path: string;
}

type NestRouteHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => unknown;

interface ExpressLayer {
  route?: { path?: unknown; methods?: Record<string, boolean>; stack?: { handle?: unknown }[] };
}

/** What an Express 5 application exposes that its `app.handle` uses before the router walk. */
interface ExpressInstance {
  request: object;
  response: object;
  enabled(setting: string): boolean;
  router?: { stack?: ExpressLayer[] };
}

/** The parts of a Nest Express application this needs (NestExpressApplication has them). */
export interface ExpressBackedApp {
  getHttpServer(): unknown;
  getHttpAdapter(): { getInstance(): unknown };
}

/**
 * Serves the hot routes (chat, embeddings) from a plain `request` listener placed ahead of Express:
 * Express's router walk and its middleware chain are the largest fixed cost per request here
 * (docs/performance.md). It is not a second implementation: the handler called is the very one Nest
 * registered with Express for that route, so the same guard (gateway auth), exception filter (the one
 * error mapping), controller method, metrics and logging run, in the same order. What Express would
 * have run first is `prepare` (the request id) and CORS: a request carrying `Origin` (a browser) goes
 * through Express, so CORS stays in one place; without `Origin` the CORS middleware adds nothing.
 * Every other request, and any route that is not found in Express's table, goes to Express as before.
 *
 * Routes are looked up in Express's table at the first request (they exist once the app is
 * initialised, before it listens). What Express's router would add to `req` (`params`, `route`,
 * `baseUrl`, `originalUrl`) is absent on this path: the hot routes take no route parameters and read
 * the raw request only.
 */
export function serveAheadOfExpress(
  app: ExpressBackedApp,
  routes: readonly HotRoute[],
  prepare: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  const server = app.getHttpServer() as Server;
  const previous = server.listeners('request') as RequestListener[];
  if (previous.length !== 1) return; // not the plain Express setup this knows: leave it alone
  const express = previous[0];
  const instance = app.getHttpAdapter().getInstance() as ExpressInstance;
  let handlers: Map<string, NestRouteHandler> | undefined;

  server.removeListener('request', express);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handlers ??= findHandlers(instance, routes);
    const handler = req.headers.origin === undefined ? handlers.get(`${req.method} ${req.url}`) : undefined;
    if (handler === undefined) {
      express(req, res);
      return;
    }
    // What Express's app.handle does before its router walk: Nest's handler sets the status through
    // the Express response API. The prototype switch changes nothing when the server already created
    // them with Express's prototypes (ExpressBornAdapter, the standalone service); done per request
    // it costs young-generation collections dearly (docs/performance.md, fourth round).
    if (instance.enabled('x-powered-by')) res.setHeader('X-Powered-By', 'Express');
    (req as IncomingMessage & { res?: ServerResponse }).res = res;
    Object.setPrototypeOf(req, instance.request);
    Object.setPrototypeOf(res, instance.response);
    const withLocals = res as ServerResponse & { locals?: object };
    withLocals.locals ??= Object.create(null) as object;
    prepare(req, res);
    // Nest's route handler catches its own errors (the exception filter answers); `next` is only
    // called by a handler that declines the request: Express then answers it as before.
    void handler(req, res, () => express(req, res));
  });
}

function findHandlers(instance: ExpressInstance, routes: readonly HotRoute[]): Map<string, NestRouteHandler> {
  const found = new Map<string, NestRouteHandler>();
  const stack = instance.router?.stack ?? [];
  for (const { method, path } of routes) {
    const layer = stack.find((l) => l.route?.path === path && l.route.methods?.[method.toLowerCase()]);
    const handlerLayers = layer?.route?.stack ?? [];
    const handle = handlerLayers.length === 1 ? handlerLayers[0].handle : undefined;
    if (typeof handle === 'function') found.set(`${method} ${path}`, handle as NestRouteHandler);
    else new Logger('Http').warn(`${method} ${path} is served through Express (its handler was not found)`);
  }
  return found;
}
