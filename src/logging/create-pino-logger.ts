import pino, { DestinationStream, Logger } from 'pino';
import { SecretScrubber } from './secret-scrubber';
import { StdoutDestination } from './stdout-destination';

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

export interface PinoLoggerOptions {
  level: LogLevelName;
  scrubber: SecretScrubber;
  /** Where lines go; default stdout, asynchronously (StdoutDestination: flushed on exit). */
  destination?: DestinationStream;
}

/**
 * The service's pino instance: one JSON object per line, ISO time, `level` as a name, secrets
 * scrubbed by value and shape from every written line, asynchronous writes to stdout that survive a
 * reader going away (StdoutDestination). (No pino `redact` paths: they double the cost of every line;
 * PinoLoggerService redacts fields instead.)
 */
export function createPinoLogger(options: PinoLoggerOptions): Logger {
  const scrubber = options.scrubber;
  return pino(
    {
      name: 'mana-llm',
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (line) => scrubber.scrub(line) },
    },
    options.destination ?? new StdoutDestination({ fd: 1 }),
  );
}
