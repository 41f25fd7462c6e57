import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ReadinessState } from '../core/health/readiness-state';
import { DrainReport, InFlightTracker } from './in-flight.tracker';

export interface DrainSettings {
  /** The whole drain, counted from its start: open exchanges get this long to finish. */
  graceMs: number;
  /** Readiness is 503 at once; the listener closes only after this pause (inside the grace). */
  delayMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The graceful part of a shutdown, before `app.close()`: readiness turns 503 at once (load balancers
 * and Kubernetes stop sending), responses from then on carry `Connection: close`, after `delayMs` the
 * listener stops accepting connections and idle keep-alive sockets close, open JSON requests and SSE
 * streams run to completion until `graceMs`, and what is still open then ends with `shutting_down`.
 * Nest's `enableShutdownHooks()` alone would close the server with the streams cut off.
 */
@Injectable()
export class ShutdownCoordinator {
  private readonly logger = new Logger('Shutdown');

  constructor(
    private readonly readiness: ReadinessState,
    private readonly inFlight: InFlightTracker,
  ) {}

  async drain(server: Server, settings: DrainSettings): Promise<DrainReport> {
    const started = Date.now();
    this.readiness.markShuttingDown();
    this.inFlight.beginDraining();
    // Clients on a kept-alive connection reconnect (to another replica) after their current answer.
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (!res.headersSent) res.setHeader('connection', 'close');
    });
    this.logger.log(
      `draining: ${this.inFlight.size} open request(s), grace ${settings.graceMs / 1000}s, ` +
        `listener closes in ${settings.delayMs / 1000}s`,
    );

    await sleep(Math.min(settings.delayMs, settings.graceMs));
    server.close();
    server.closeIdleConnections();

    const report = await this.inFlight.drain(Math.max(0, settings.graceMs - (Date.now() - started)));
    server.closeIdleConnections();
    this.logger.log(
      `drained in ${((Date.now() - started) / 1000).toFixed(1)}s: ${report.openAtStart} open at the start, ` +
        `${report.stopped} ended by the grace period`,
    );
    return report;
  }
}
