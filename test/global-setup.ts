import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

/**
 * Builds `dist/` once before any test file runs (when a source is newer than the build): the tests
 * that spawn the real service (`node dist/main.js`) or load the package from its build output need
 * it, and building once here keeps parallel test files from compiling over each other.
 */
export default function globalSetup(): void {
  const root = resolve(__dirname, '..');
  const marker = join(root, 'dist', 'index.js');
  if (existsSync(marker) && statSync(marker).mtimeMs >= newestMtime(join(root, 'src'))) return;
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'pipe',
      timeout: 180_000,
    });
  } catch (err) {
    // tsc still emits on type errors; the tests that use dist/ fail on their own if it is unusable,
    // and `npm run build` / lint in CI catch the type errors.
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? String(err);
    process.stderr.write(
      `\nglobal-setup: tsc reported errors (dist/ emitted anyway):\n${out.slice(0, 2000)}\n`,
    );
  }
}
