import { LoggerService, LogLevel } from '@nestjs/common';
import type { Level, Logger } from 'pino';
import { redactFields } from './redact-fields';

/** Nest levels → pino levels (Nest `log` is pino `info`, `verbose` is `trace`). */
const LEVELS: Record<LogLevel, Level> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};
const BY_VERBOSITY: LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];
const STACK_LINE = /\n\s+at /;

/**
 * Nest's `LoggerService` over pino: every `Logger` of the app (and of mana-llm's core) writes JSON
 * lines. The trailing string argument Nest appends is the context (`{"context":"Request"}`, one
 * cached pino child per context); an object message becomes the line's fields (credentials and
 * contents redacted, see redactFields); an `Error` its `err`. Disabled levels return before any work.
 */
export class PinoLoggerService implements LoggerService {
  private readonly children = new Map<string, Logger>();

  constructor(private readonly root: Logger) {}

  get pino(): Logger {
    return this.root;
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest's way to set levels: the least severe one enabled wins (an empty list silences). */
  setLogLevels(levels: LogLevel[]): void {
    const lowest = BY_VERBOSITY.find((l) => levels.includes(l));
    this.setLevel(lowest ? LEVELS[lowest] : 'silent');
  }

  setLevel(level: Level | 'silent'): void {
    this.root.level = level;
    for (const child of this.children.values()) child.level = level;
  }

  /** Writes what is buffered (the destination is asynchronous). */
  flush(): void {
    this.root.flush();
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.root.isLevelEnabled(level)) return;
    let context: string | undefined;
    let stack: string | undefined;
    let count = params.length;
    const last = params[count - 1];
    if (
      count > 0 &&
      typeof last === 'string' &&
      !(level === 'error' && count === 1 && STACK_LINE.test(last))
    ) {
      context = last;
      count--;
    } else if (count > 0 && last === undefined) count--;
    if (level === 'error' && count > 0 && typeof params[0] === 'string') stack = params[0];
    const logger = context === undefined ? this.root : this.child(context);

    if (message instanceof Error) logger[level]({ err: message }, message.message);
    else if (typeof message === 'object' && message !== null) logger[level](redactFields(message));
    else if (stack !== undefined) logger[level]({ stack }, String(message));
    else logger[level](String(message));
  }

  private child(context: string): Logger {
    let child = this.children.get(context);
    if (!child) {
      child = this.root.child({ context });
      this.children.set(context, child);
    }
    return child;
  }
}
