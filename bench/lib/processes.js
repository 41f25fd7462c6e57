'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');

/** @returns {boolean} */
function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins every thread of this process to `cpu` (the load generator's core). Best effort. @param {number} cpu */
function pinSelf(cpu) {
  try {
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let clockTicks = 0;
function ticksPerSecond() {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds (user + system, all threads) and resident memory of a process, from /proc.
 * @param {number} pid
 * @returns {{ cpuSeconds: number, rssBytes: number }}
 */
function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) in parentheses: state is field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  return { cpuSeconds: (utime + stime) / ticksPerSecond(), rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
}

/**
 * @typedef {object} ChildService
 * @property {string} name
 * @property {number} pid
 * @property {string} url
 * @property {() => number} lines  stdout lines seen so far (mana-llm: one JSON log line each)
 * @property {() => string} tail   the last few KB of output, for diagnostics
 * @property {() => Promise<void>} stop
 */

/**
 * Starts a Node script as a child process (pinned to `cpu` with taskset when available) and waits
 * for its "listening" line to learn the port. Output is drained (a full pipe would block the child's
 * logging) and only counted.
 *
 * @param {{ name: string, args: string[], env: Record<string, string>, cwd?: string, cpu?: number,
 *   listening: RegExp, startTimeoutMs?: number }} options
 * @returns {Promise<ChildService>}
 */
async function startChild(options) {
  const pin = options.cpu !== undefined && hasTaskset();
  const command = pin ? 'taskset' : process.execPath;
  const args = pin ? ['-c', String(options.cpu), process.execPath, ...options.args] : options.args;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  let lines = 0;
  let port = 0;
  const keep = (/** @type {Buffer} */ chunk) => {
    const text = chunk.toString('utf8');
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
    tail = (tail + text).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  await new Promise((ok, fail) => {
    const timer = setTimeout(
      () =>
        fail(
          new Error(`${options.name} did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${tail}`),
        ),
      options.startTimeoutMs ?? 30_000,
    );
    const check = () => {
      const m = options.listening.exec(tail);
      if (!m) return;
      port = Number(m[1]);
      clearTimeout(timer);
      child.stdout.off('data', check);
      ok(undefined);
    };
    child.stdout.on('data', check);
    void exited.then((status) => {
      clearTimeout(timer);
      fail(new Error(`${options.name} exited (${JSON.stringify(status)}) before listening:\n${tail}`));
    });
  });
  return {
    name: options.name,
    pid: /** @type {number} */ (child.pid),
    url: `http://127.0.0.1:${port}`,
    lines: () => lines,
    tail: () => tail,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

module.exports = { hasTaskset, pinSelf, procStat, startChild };
