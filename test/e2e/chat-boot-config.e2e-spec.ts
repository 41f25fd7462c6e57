import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve(__dirname, '../../dist/main.js');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built service with only `env` (and PATH), in an empty directory (no .env, no aliases.yaml). */
function boot(env: Record<string, string>, cwd: string): Promise<Exit> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after 15 s; stderr: ${stderr}`));
    }, 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

describe('boot with a bad configuration (node dist/main.js)', () => {
  let cwd: string;
  beforeAll(() => {
    // dist/ is built by the jest global setup (test/global-setup.ts) and by `npm run build` in CI.
    expect(existsSync(MAIN)).toBe(true);
    cwd = mkdtempSync(join(tmpdir(), 'mana-llm-boot-'));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('should exit 1 with one stderr line naming PORT when PORT=abc', async () => {
    const exit = await boot({ PORT: 'abc' }, cwd);
    expect(exit.code).toBe(1);
    const lines = exit.stderr.split('\n').filter((l) => l.length > 0);
    expect(lines.filter((l) => l.includes('PORT'))).toEqual([
      '  PORT: PORT must be an integer number (got "abc")',
    ]);
    expect(lines[0]).toBe('mana-llm failed to start: Invalid configuration:');
    expect(lines).toHaveLength(2);
  });

  it('should name every bad variable on its own line and never echo a secret', async () => {
    const exit = await boot(
      { OLLAMA_TIMEOUT: '-1', IMAGE_URL_ALLOW_PRIVATE: 'maybe', REDIS_URL: 'http://:s3cr3t-pass@redis:6379' },
      cwd,
    );
    expect(exit.code).toBe(1);
    const lines = exit.stderr.split('\n').filter((l) => l.startsWith('  '));
    expect(lines.map((l) => l.trim().split(':')[0]).sort()).toEqual([
      'IMAGE_URL_ALLOW_PRIVATE',
      'OLLAMA_TIMEOUT',
      'REDIS_URL',
    ]);
    expect(exit.stderr + exit.stdout).not.toContain('s3cr3t-pass');
  });
});
