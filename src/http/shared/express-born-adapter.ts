import { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** What an Express 5 application exposes as the prototypes of its requests and responses. */
interface ExpressPrototypes {
  request: object;
  response: object;
}

/**
 * Nest's Express adapter with one change: the HTTP server creates every request and response with
 * Express's prototypes (`app.request`, `app.response`) from birth, instead of Express switching each
 * one over with `Object.setPrototypeOf` when it handles it. That switch made V8 keep the request's
 * and response's objects alive past young-generation collections: with it, the NestJS reference
 * promoted ~2.4 MB to the old generation per scavenge and each scavenge took ~12 ms under load (a
 * bare node:http server: ~60 KB, ~1.3 ms); a node:http server doing only the switch lost a third of
 * its throughput (docs/performance.md). Express's own `setPrototypeOf` (the routes it still serves)
 * then finds the prototype already set, and changes nothing.
 *
 * HTTPS options (unused by the gateway) keep Nest's own server.
 */
export class ExpressBornAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions) return super.initHttpServer(options);
    const express = this.getInstance<ExpressPrototypes>();
    this.httpServer = createServer(
      {
        IncomingMessage: bornWith(express.request, IncomingMessage),
        ServerResponse: bornWith(express.response, ServerResponse),
      },
      express as unknown as Parameters<typeof createServer>[1],
    );
    // What Nest's own initHttpServer does next (a private method of the same adapter; every e2e test
    // boots with forceCloseConnections, so a Nest release without it fails them at once).
    if (options?.forceCloseConnections) {
      (this as unknown as { trackOpenConnections(): void }).trackOpenConnections();
    }
  }
}

/**
 * A constructor Node's HTTP server can use in place of `base` whose instances have `prototype` (which
 * inherits from `base.prototype`) as their prototype from the start. Node's `IncomingMessage` and
 * `ServerResponse` are plain constructor functions, so they initialise `this` when called on it.
 */
function bornWith<T extends typeof IncomingMessage | typeof ServerResponse>(prototype: object, base: T): T {
  if (!Object.prototype.isPrototypeOf.call(base.prototype, prototype)) {
    throw new Error(`Express's prototype does not inherit from ${base.name}`);
  }
  const Born = function (this: object, ...args: [Socket] | [IncomingMessage, object?]) {
    (base as unknown as (...a: unknown[]) => void).apply(this, args);
  } as unknown as T;
  Born.prototype = prototype as T['prototype'];
  return Born;
}
