import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createGateway } from './bootstrap';
import { installGracefulShutdown } from './ops/graceful-shutdown';

/** The standalone service. Nothing here runs when the package is imported (see index.ts). */
async function main(): Promise<void> {
  const { app, config } = await createGateway();
  // SIGTERM/SIGINT: readiness 503, drain open requests and streams up to SHUTDOWN_GRACE, exit 0.
  installGracefulShutdown(app, { graceMs: config.shutdownGraceMs, delayMs: config.shutdownDelayMs });
  await app.listen(config.port);
  // The bound port (PORT=0 picks a free one).
  const { port } = app.getHttpServer().address() as AddressInfo;
  new Logger('Bootstrap').log(`mana-llm listening on port ${port}`);
}

main().catch((err: unknown) => {
  // One clear line (or one per bad variable) instead of a stack trace for configuration mistakes.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`mana-llm failed to start: ${message}\n`);
  process.exit(1);
});
