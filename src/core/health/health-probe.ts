import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { isLlmError, LlmError } from '../errors/llm-error';
import { UpstreamAuthError, UpstreamConnectionError, UpstreamTimeoutError } from '../errors/upstream-errors';
import { ResolvedManaLlmOptions } from '../mana-llm.options';
import { ProviderAdapter } from '../providers/provider-adapter';
import { ProviderRegistry } from '../providers/provider-registry';
import { CLOCK, Clock, RESOLVED_OPTIONS } from '../tokens';
import { ProviderHealthCache } from './provider-health.cache';

const INTERVAL_NAME = 'mana-llm:health-probe';
/** Extra time before our own guard gives up on an adapter that ignores its probe timeout. */
const GUARD_MARGIN_MS = 250;

/** What a probe outcome means for the breaker. */
export type ProbeVerdict =
  { kind: 'up' } | { kind: 'down'; error: LlmError } | { kind: 'inconclusive'; error: unknown };

/**
 * The background probe (SPEC §5): every `probe.intervalMs`, every configured provider's cheapest
 * authenticated endpoint (`adapter.probe`) at once, each within `probe.timeoutMs`, feeding the same
 * breaker as traffic. A round still running when the next is due is not doubled (no overlap); a
 * throwing probe is a failed probe, never the end of the loop. The interval lives in Nest's
 * SchedulerRegistry (added from the options at bootstrap, removed at shutdown).
 */
@Injectable()
export class HealthProbe implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('HealthProbe');
  private running: Promise<void> | undefined;
  private intervalName: string | undefined;
  private stopped = false;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedManaLlmOptions,
    @Inject(ProviderRegistry) private readonly providers: Pick<ProviderRegistry, 'configured'>,
    private readonly health: ProviderHealthCache,
    private readonly scheduler: SchedulerRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options.probe.enabled || this.intervalName) return;
    let name = INTERVAL_NAME;
    // Two gateways in one app (or one registry shared with the host) must not collide.
    for (let n = 2; this.scheduler.doesExist('interval', name); n++) name = `${INTERVAL_NAME}:${n}`;
    const timer = setInterval(() => void this.tick(), this.options.probe.intervalMs);
    timer.unref();
    this.scheduler.addInterval(name, timer);
    this.intervalName = name;
  }

  beforeApplicationShutdown(): void {
    this.stop();
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  /**
   * One round over every configured provider. While a round runs, further calls return that same
   * round instead of starting another. Never rejects.
   */
  tick(): Promise<void> {
    if (this.running) return this.running;
    const round = this.round().finally(() => {
      this.running = undefined;
    });
    this.running = round;
    return round;
  }

  private async round(): Promise<void> {
    try {
      await Promise.all(this.providers.configured().map((adapter) => this.probeOne(adapter)));
    } catch (err) {
      this.logger.error(`health probe round failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async probeOne(adapter: ProviderAdapter): Promise<void> {
    const started = this.clock.now();
    const verdict = await this.verdict(adapter);
    if (this.stopped) return;
    if (verdict.kind === 'up') this.health.recordSuccess(adapter.name, this.clock.now() - started);
    else if (verdict.kind === 'down') this.health.recordFailure(adapter.name, verdict.error);
    else {
      const detail = verdict.error instanceof Error ? verdict.error.message : String(verdict.error);
      this.logger.debug(`probe of ${adapter.name} was inconclusive: ${detail}`);
    }
  }

  private async verdict(adapter: ProviderAdapter): Promise<ProbeVerdict> {
    const { timeoutMs } = this.options.probe;
    let guard: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        // `then` turns a synchronous throw into a rejection.
        Promise.resolve().then(() => adapter.probe(timeoutMs)),
        new Promise<never>((_, reject) => {
          guard = setTimeout(
            () =>
              reject(
                new UpstreamTimeoutError(
                  `${adapter.name} probe did not answer in ${timeoutMs} ms`,
                  adapter.name,
                ),
              ),
            timeoutMs + GUARD_MARGIN_MS,
          );
        }),
      ]);
      return { kind: 'up' };
    } catch (err) {
      return classifyProbeError(adapter.name, err);
    } finally {
      clearTimeout(guard);
    }
  }

  private stop(): void {
    this.stopped = true;
    const name = this.intervalName;
    this.intervalName = undefined;
    if (name && this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
  }
}

/**
 * A probe failed. Down: what would fail traffic too — retryable upstream failures (unreachable,
 * timeout, 5xx, 429, broken body), a refused provider key (401/403), or an adapter that threw
 * something untyped. Inconclusive: any other upstream 4xx (e.g. a proxy without `/models`): the
 * server answered, so it proves nothing either way and leaves the breaker alone.
 */
export function classifyProbeError(provider: string, err: unknown): ProbeVerdict {
  if (!isLlmError(err)) {
    const detail = err instanceof Error ? err.message : String(err);
    return {
      kind: 'down',
      error: new UpstreamConnectionError(`${provider} probe failed: ${detail}`, provider),
    };
  }
  if ((err.retryable && err.countsAsProviderFailure) || err instanceof UpstreamAuthError) {
    return { kind: 'down', error: err };
  }
  return { kind: 'inconclusive', error: err };
}
