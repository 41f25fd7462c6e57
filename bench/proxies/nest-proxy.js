'use strict';
require('reflect-metadata');
const { Controller, Get, Inject, Module, Post, Req, Res } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { createMinimalHandlers } = require('./minimal-handlers');

/**
 * The NestJS reference, the one mana-llm's targets are relative to: NestJS 11 on Express, one
 * controller whose methods write raw (`@Req()`/`@Res()`, no body parser, no interceptors), calling
 * the very same handlers as the bare proxy. Plain JavaScript: decorators are applied as functions.
 * Run as `UPSTREAM_URL=… node bench/proxies/nest-proxy.js`; prints `BENCH_LISTENING <port>`.
 */
const HANDLERS = 'MINIMAL_HANDLERS';

class ProxyController {
  /** @param {ReturnType<typeof createMinimalHandlers>} handlers */
  constructor(handlers) {
    this.handlers = handlers;
  }
  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  chat(req, res) {
    return this.handlers.chat(req, res);
  }
  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  embeddings(req, res) {
    return this.handlers.embeddings(req, res);
  }
  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  live(req, res) {
    return this.handlers.live(req, res);
  }
  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  lag(req, res) {
    return this.handlers.lag(req, res);
  }
}

/** @param {string} name @param {MethodDecorator} route */
function route(name, route) {
  const proto = ProxyController.prototype;
  const descriptor = /** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(proto, name));
  Req()(proto, name, 0);
  Res()(proto, name, 1);
  route(proto, name, descriptor);
}
route('chat', Post('v1/chat/completions'));
route('embeddings', Post('v1/embeddings'));
route('live', Get('health/live'));
route('lag', Get('lag'));
Inject(HANDLERS)(ProxyController, undefined, 0);
Reflect.defineMetadata('design:paramtypes', [Object], ProxyController);
Controller()(ProxyController);

class ProxyModule {}
Module({
  controllers: [ProxyController],
  providers: [
    { provide: HANDLERS, useFactory: () => createMinimalHandlers(String(process.env.UPSTREAM_URL)) },
  ],
})(ProxyModule);

async function main() {
  if (!process.env.UPSTREAM_URL) throw new Error('UPSTREAM_URL is required');
  const app = await NestFactory.create(ProxyModule, { bodyParser: false, logger: false });
  await app.listen(0, '127.0.0.1');
  const address = /** @type {import('node:net').AddressInfo} */ (app.getHttpServer().address());
  app.getHttpServer().keepAliveTimeout = 60_000;
  process.stdout.write(`BENCH_LISTENING ${address.port}\n`);
}
main();
process.on('SIGTERM', () => process.exit(0));
