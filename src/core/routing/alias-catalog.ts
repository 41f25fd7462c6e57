import { readFileSync, Stats, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ResolvedManaLlmOptions } from '../mana-llm.options';
import { RESOLVED_OPTIONS } from '../tokens';
import { Alias, parseAliases, parseAliasesYaml } from './alias-file.parser';

export type { Alias } from './alias-file.parser';
export { parseAliases, parseAliasesYaml } from './alias-file.parser';

export type ReloadTrigger = 'SIGHUP' | 'file change' | 'manual';

/**
 * The `mana/...` aliases, from an inline map or an aliases file. The file is validated at boot (a
 * broken file, or a missing explicitly configured one, stops the boot), then reloaded on SIGHUP and
 * whenever it changes; a reload that fails keeps the last good aliases and logs why.
 *
 * Changes are found by polling `stat` (which follows symlinks) every `watchIntervalMs`: it sees a
 * Kubernetes ConfigMap update — a swap of the `..data` symlink that an `fs.watch` on the file misses
 * — and it compares against the file as it was when the aliases were read, so an edit right after
 * boot is not lost.
 */
@Injectable()
export class AliasCatalog implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AliasCatalog');
  private aliases: ReadonlyMap<string, Alias> = new Map();
  private readonly path: string | undefined;
  private readonly watchIntervalMs: number = 0;
  /** The text of the last good load: a change of metadata alone reloads nothing. */
  private loadedText: string | undefined;
  /** The file's identity (inode, mtime, size) when last looked at, or `missing`. */
  private seen: string | undefined;
  private poll: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly onHup = () => void this.reload('SIGHUP');

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedManaLlmOptions) {
    const config = options.aliases;
    if ('inline' in config) {
      this.aliases = parseAliases({ aliases: config.inline }, 'the aliases option');
      return;
    }
    const path = resolve(config.path ?? './aliases.yaml');
    let text: string;
    try {
      this.seen = identity(statSync(path));
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (missing && !config.required) {
        this.logger.warn(`no aliases file at ${path}: no mana/ aliases are defined`);
        return;
      }
      throw new Error(
        missing
          ? `aliases file ${path} does not exist (ALIASES_PATH)`
          : `cannot read aliases file ${path}: ${(err as Error).message}`,
      );
    }
    this.aliases = parseAliasesYaml(text, `aliases file ${path}`);
    this.loadedText = text;
    this.path = path;
    this.watchIntervalMs = config.watchIntervalMs;
    this.logger.log(`loaded ${this.aliases.size} aliases from ${path}`);
  }

  onModuleInit(): void {
    if (!this.path || this.poll) return;
    process.on('SIGHUP', this.onHup);
    this.poll = setInterval(() => void this.checkFile(), this.watchIntervalMs);
    this.poll.unref(); // never keeps the process alive on its own
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onHup);
    clearInterval(this.poll);
    this.poll = undefined;
  }

  get(id: string): Alias | undefined {
    return this.aliases.get(id);
  }

  /** Every alias, in file order. */
  list(): Alias[] {
    return [...this.aliases.values()];
  }

  /** The file the aliases come from, if any. */
  get file(): string | undefined {
    return this.path;
  }

  /**
   * Re-reads the file; on any problem the previous aliases stay and the reason is logged.
   * Returns whether the file's aliases are the ones in use now.
   */
  reload(trigger: ReloadTrigger = 'manual'): boolean {
    const path = this.path;
    if (!path) return false;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      this.logger.error(
        `alias reload (${trigger}) failed, keeping the previous ${this.aliases.size} aliases: ` +
          `cannot read ${path}: ${(err as Error).message}`,
      );
      return false;
    }
    if (trigger === 'file change' && text === this.loadedText) return true;
    try {
      this.aliases = parseAliasesYaml(text, `aliases file ${path}`);
    } catch (err) {
      this.logger.error(
        `alias reload (${trigger}) failed, keeping the previous ${this.aliases.size} aliases: ${(err as Error).message}`,
      );
      return false;
    }
    this.loadedText = text;
    this.logger.log(`reloaded ${this.aliases.size} aliases from ${path} (${trigger})`);
    return true;
  }

  /** One poll: reload when the file's identity changed since it was last looked at. */
  private async checkFile(): Promise<void> {
    const path = this.path;
    if (!path || this.polling) return;
    this.polling = true;
    try {
      let now: string;
      try {
        now = identity(await stat(path));
      } catch {
        now = 'missing';
      }
      if (now === this.seen || !this.poll) return;
      this.seen = now;
      if (now === 'missing') {
        this.logger.warn(
          `aliases file ${path} disappeared; keeping the current ${this.aliases.size} aliases`,
        );
        return;
      }
      this.reload('file change');
    } finally {
      this.polling = false;
    }
  }
}

function identity(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.mtimeMs}:${stats.size}`;
}
