import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'dist', 'main.js');
const LISTENING = /mana-llm listening on port (\d+)/;

export interface ServiceProcess {
  url: string;
  pid: number;
  /** Everything the process wrote so far (stdout and stderr; with `holdStdout`, stdout up to listening). */
  output(): string;
  /** The process's stdout (with `holdStdout`: paused and unread once it listens; the test reads it). */
  stdout: Readable;
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit status (or rejects after `timeoutMs`). */
  exited(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; removes the working directory. */
  kill(): Promise<void>;
}

/**
 * The real built service (`node dist/main.js`, built by test/global-setup.ts) as a child process,
 * configured only by `env` (PORT=0: the bound port is read from its log line). It runs in an empty
 * temporary directory, so no `.env` or `./aliases.yaml` of the checkout is read.
 */
export async function startServiceProcess(
  env: Record<string, string>,
  startTimeoutMs = 15_000,
  options: { holdStdout?: boolean } = {},
): Promise<ServiceProcess> {
  const cwd = mkdtempSync(join(tmpdir(), 'mana-llm-proc-'));
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: 'pipe',
  });
  let output = '';
  const collect = (c: Buffer) => (output += c.toString('utf8'));
  child.stdout.on('data', collect);
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );

  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`service did not start:\n${output}`)), startTimeoutMs);
    const check = () => {
      const m = LISTENING.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      if (options.holdStdout) {
        child.stdout.off('data', collect);
        child.stdout.pause();
      }
      ok(Number(m[1]));
    };
    child.stdout.on('data', check);
    void exit.then(({ code }) => {
      clearTimeout(timer);
      fail(new Error(`service exited (${code}) before listening:\n${output}`));
    });
  });

  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    output: () => output,
    stdout: child.stdout,
    signal: (signal) => void child.kill(signal),
    exited: (timeoutMs) =>
      new Promise((ok, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`no exit within ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
        void exit.then((status) => {
          clearTimeout(timer);
          ok(status);
        });
      }),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exit;
      }
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
