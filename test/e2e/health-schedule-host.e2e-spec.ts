import { Injectable, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule, SchedulerRegistry, Timeout } from '@nestjs/schedule';
import { ProviderHealthCache } from '../../src/core/health/provider-health.cache';
import { ManaLlmModule } from '../../src/mana-llm.module';
import { FakeUpstream } from '../support/fake-upstream';
import { replies, until } from './fallback.harness';

/** A host app's own scheduled job: it must run once, not once per ScheduleModule copy. */
@Injectable()
class HostJobs {
  ticks = 0;
  constructor(readonly registry: SchedulerRegistry) {}

  @Timeout('host-once', 20)
  once(): void {
    this.ticks++;
  }
}

describe('health probe inside a host app', () => {
  let ollama: FakeUpstream;
  let app: INestApplicationContext | undefined;

  beforeEach(async () => {
    ollama = await FakeUpstream.start();
    ollama.on('GET', '/api/tags', replies.ollamaTags());
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await ollama.close();
  });

  const probeOptions = () => ({
    ollama: { baseUrl: ollama.url },
    aliases: { inline: {} },
    probe: { intervalMs: 50, timeoutMs: 500 },
    metrics: false,
  });

  it('should probe on its own interval while the host keeps its ScheduleModule and its jobs run once', async () => {
    @Module({
      imports: [ScheduleModule.forRoot(), ManaLlmModule.forRoot({ ...probeOptions(), controllers: false })],
      providers: [HostJobs],
    })
    class HostModule {}

    app = await NestFactory.createApplicationContext(HostModule, { logger: false });
    await until(() => ollama.calls('/api/tags').length >= 2);
    const jobs = app.get(HostJobs);
    await until(() => jobs.ticks >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(jobs.ticks).toBe(1);
    // The host's registry holds the host's jobs only; the probe's interval lives in mana-llm's own.
    expect(jobs.registry.getTimeouts()).toEqual(['host-once']);
    expect(jobs.registry.getIntervals()).toEqual([]);
    expect(app.get(ProviderHealthCache).snapshot().ollama.last_checked).not.toBeNull();
  });

  it('should probe with forRootAsync options and stop probing when the app closes', async () => {
    @Module({
      imports: [ManaLlmModule.forRootAsync({ useFactory: async () => probeOptions(), controllers: false })],
    })
    class AsyncHostModule {}

    app = await NestFactory.createApplicationContext(AsyncHostModule, { logger: false });
    await until(() => ollama.calls('/api/tags').length >= 2);
    await app.close();
    app = undefined;
    const after = ollama.calls('/api/tags').length;
    await new Promise((r) => setTimeout(r, 200));
    expect(ollama.calls('/api/tags').length).toBe(after);
  });

  it('should not probe when the probe is disabled', async () => {
    @Module({
      imports: [ManaLlmModule.forRoot({ ...probeOptions(), probe: { enabled: false, intervalMs: 50 } })],
    })
    class QuietHostModule {}

    app = await NestFactory.createApplicationContext(QuietHostModule, { logger: false });
    await new Promise((r) => setTimeout(r, 250));
    expect(ollama.calls('/api/tags')).toEqual([]);
  });
});
