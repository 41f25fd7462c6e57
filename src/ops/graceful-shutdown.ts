import { INestApplication, Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { DrainSettings, ShutdownCoordinator } from './shutdown.coordinator';

export interface GracefulShutdownOptions extends DrainSettings {
  /** After the drain: how long `app.close()` (Nest shutdown hooks: probe timer, Redis) may take. */
  closeTimeoutMs?: number;
  /** Ends the process (tests replace it). */
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

/** Idle keep-alive sockets that became idle after the drain get this long before they are cut. */
const LINGER_MS = 1_000;

/**
 * The standalone service's signal handling: on SIGTERM or SIGINT, drain (ShutdownCoordinator), run
 * Nest's shutdown hooks through `app.close()`, exit 0. A second signal during the drain is logged and
 * ignored. Returns a function that removes the listeners. (Nest's `enableShutdownHooks()` would
 * re-raise the signal after closing: exit status 143 instead of 0, and no drain.)
 */
export function installGracefulShutdown(app: INestApplication, options: GracefulShutdownOptions): () => void {
  const logger = new Logger('Shutdown');
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  let started = false;

  const run = async (signal: NodeJS.Signals): Promise<number> => {
    logger.log(`${signal} received: shutting down`);
    const server = app.getHttpServer() as Server;
    await app.get(ShutdownCoordinator).drain(server, options);
    const linger = setTimeout(() => server.closeAllConnections(), LINGER_MS);
    let timeout: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      app.close().then(() => true),
      new Promise<boolean>((resolve) => (timeout = setTimeout(() => resolve(false), closeTimeoutMs))),
    ]);
    clearTimeout(linger);
    clearTimeout(timeout);
    if (!closed) {
      logger.error(`shutdown hooks did not finish within ${closeTimeoutMs / 1000}s; exiting anyway`);
      return 1;
    }
    logger.log('closed; exiting with status 0');
    return 0;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn(`${signal} received again: already shutting down`);
      return;
    }
    started = true;
    run(signal).then(exit, (err: unknown) => {
      logger.error(`shutdown failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      exit(1);
    });
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
