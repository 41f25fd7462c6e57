import { DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';

/**
 * ManaLlmModule's own copy of ScheduleModule, for the SchedulerRegistry the health probe adds its
 * interval to. It is not global and its explorer is off (no cron jobs, intervals or timeouts from
 * decorators): a host app that imports `ScheduleModule.forRoot()` itself keeps its registry and
 * its decorated jobs run once, not once per copy.
 */
export function privateScheduleModule(): DynamicModule {
  return { ...ScheduleModule.forRoot({ cronJobs: false, intervals: false, timeouts: false }), global: false };
}

/** What the health part of ManaLlmModule imports: the scheduler above and Terminus (quiet: a 503 is not an error). */
export function healthImports(): DynamicModule[] {
  return [privateScheduleModule(), TerminusModule.forRoot({ logger: false })];
}
