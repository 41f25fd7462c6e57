import pino, { DestinationStream, Logger } from 'pino';
import { REDACTED, SecretScrubber } from './secret-scrubber';

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

/**
 * Fields that must never reach a log, wherever an object is logged: credentials and request
 * contents (never log bodies). The request log line carries none of them in the first place.
 */
const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'apiKey',
  'api_key',
  '*.apiKey',
  '*.api_key',
  'messages',
  'input',
  'prompt',
  'body',
];

export interface PinoLoggerOptions {
  level: LogLevelName;
  scrubber: SecretScrubber;
  /** Where lines go; default stdout through an asynchronous SonicBoom (flushed on exit). */
  destination?: DestinationStream;
}

/**
 * The service's pino instance: one JSON object per line, ISO time, `level` as a name, redaction by
 * path and by value (SecretScrubber on every written line), asynchronous writes to stdout.
 */
export function createPinoLogger(options: PinoLoggerOptions): Logger {
  const scrubber = options.scrubber;
  return pino(
    {
      name: 'mana-llm',
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      hooks: { streamWrite: (line) => scrubber.scrub(line) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
