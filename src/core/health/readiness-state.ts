import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';

export type ReadinessPhase = 'starting' | 'ready' | 'shutting_down';

/**
 * Whether this replica should get traffic (`GET /health/ready`): `starting` until the application
 * has bootstrapped, `ready` after, `shutting_down` from the moment shutdown begins — the SIGTERM
 * handler calls `markShuttingDown()` before it drains; Nest's own shutdown marks it too. Provider
 * health never enters into it.
 */
@Injectable()
export class ReadinessState implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private current: ReadinessPhase = 'starting';

  get phase(): ReadinessPhase {
    return this.current;
  }

  get ready(): boolean {
    return this.current === 'ready';
  }

  /** Boot is complete. A replica that has begun shutting down never becomes ready again. */
  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  markShuttingDown(): void {
    this.current = 'shutting_down';
  }

  onApplicationBootstrap(): void {
    this.markReady();
  }

  beforeApplicationShutdown(): void {
    this.markShuttingDown();
  }
}
