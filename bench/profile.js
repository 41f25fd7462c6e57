'use strict';
/**
 * CPU profile of the real built service under load: `npm run bench:profile -- [options]`.
 *
 *   node bench/profile.js [--scenario chat-json|chat-stream-openai|chat-stream-ollama|embeddings]
 *                         [--duration S] [--connections N] [--top N] [--streams N --hold MS]
 *                         [--callers REGEX] [--inclusive REGEX] [--main path/to/main.js]
 *
 * Starts the fake upstream and `node --cpu-prof dist/main.js` (pinned like in the bench), drives
 * `--duration` seconds of closed-loop load (or, with `--streams`, that many concurrent long-lived
 * streams), stops the service with SIGTERM (the profile is written on exit) and prints the top frames
 * by self time, and the self time per package/file. The .cpuprofile is kept (path printed): open it
 * in Chrome DevTools for the call tree; `--callers` prints the call paths to matching frames.
 */
const { mkdtempSync, readdirSync, readFileSync } = require('node:fs');
const { cpus, tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { hasTaskset, pinSelf, startChild } = require('./lib/processes');
const { openStreams, throughput } = require('./lib/load');
const { SCENARIOS, manaLlmEnv, requestFor } = require('./lib/scenarios');

const ROOT = resolve(__dirname, '..');

/** @param {string[]} argv @param {string} name @param {string} fallback */
function arg(argv, name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i !== -1 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
}

/**
 * Self time per frame and per file from a V8 .cpuprofile, counting only the samples taken within
 * `[from, to]` (µs of the monotonic clock, which V8's profile timestamps and `process.hrtime` share
 * on Linux), so the boot and the shutdown are left out.
 * @param {any} profile @param {number} from @param {number} to
 */
function selfTimes(profile, from, to) {
  /** @type {Map<number, any>} */
  const nodes = new Map(profile.nodes.map((/** @type {any} */ n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const self = new Map();
  const deltas = profile.timeDeltas;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += deltas[i] ?? 0;
    if (at < from || at > to) continue;
    const id = profile.samples[i];
    // A sample's time is the gap to the next one.
    self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? 0));
  }
  /** @type {Map<string, number>} */
  const byFrame = new Map();
  /** @type {Map<string, number>} */
  const byFile = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const f = nodes.get(id).callFrame;
    const file = f.url
      ? f.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')
      : `(${f.functionName || 'native'})`;
    const frame = `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + us);
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? (file.startsWith('node:') ? 'node:*' : file);
    byFile.set(pkg, (byFile.get(pkg) ?? 0) + us);
    total += us;
  }
  const sorted = (/** @type {Map<string, number>} */ m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { total, frames: sorted(byFrame), files: sorted(byFile), nodes, self };
}

/**
 * Inclusive time (self time of the frame and everything it called) of the frames matching `pattern`.
 * @param {ReturnType<typeof selfTimes>} t @param {RegExp} pattern
 */
function inclusiveTimes(t, pattern) {
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of t.nodes.values()) for (const c of n.children ?? []) parent.set(c, n.id);
  /** @type {Map<string, number>} */
  const totals = new Map();
  for (const [id, us] of t.self) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = /** @type {number} */ (parent.get(at))) {
      const f = t.nodes.get(at).callFrame;
      const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`;
      if (seen.has(name) || !pattern.test(name)) continue;
      seen.add(name);
      totals.set(name, (totals.get(name) ?? 0) + us);
    }
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}

/**
 * The call paths (5 frames up) that lead to frames whose name matches `pattern`, by self time.
 * @param {ReturnType<typeof selfTimes>} t @param {RegExp} pattern
 */
function callers(t, pattern) {
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of t.nodes.values()) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (/** @type {any} */ f) =>
    `${f.functionName || '(anonymous)'}${f.url ? ` ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : ''}`;
  /** @type {Map<string, number>} */
  const paths = new Map();
  for (const [id, us] of t.self) {
    if (!pattern.test(name(t.nodes.get(id).callFrame))) continue;
    const chain = [];
    for (let at = id, i = 0; at !== undefined && i < 6; at = /** @type {number} */ (parent.get(at)), i++)
      chain.push(name(t.nodes.get(at).callFrame));
    const key = chain.join(' <- ');
    paths.set(key, (paths.get(key) ?? 0) + us);
  }
  return [...paths.entries()].sort((a, b) => b[1] - a[1]);
}

async function main() {
  const argv = process.argv.slice(2);
  const scenario = SCENARIOS.find((s) => s.id === arg(argv, 'scenario', 'chat-json'));
  if (!scenario) throw new Error(`unknown scenario; one of ${SCENARIOS.map((s) => s.id).join(', ')}`);
  const duration = Number(arg(argv, 'duration', '10'));
  const connections = Number(arg(argv, 'connections', '32'));
  const top = Number(arg(argv, 'top', '40'));
  const streams = Number(arg(argv, 'streams', '0'));
  const hold = Number(arg(argv, 'hold', '8000'));
  const taskset = hasTaskset() && cpus().length >= 2;
  if (taskset) pinSelf(0);
  const dir = mkdtempSync(join(tmpdir(), 'mana-llm-profile-'));
  const fake = await startChild({
    name: 'fake',
    args: [join(__dirname, 'lib', 'fake-upstream.js')],
    env: {},
    cpu: taskset ? 0 : undefined,
    listening: /BENCH_LISTENING (\d+)/,
  });
  const service = await startChild({
    name: 'mana-llm',
    args: ['--cpu-prof', '--cpu-prof-dir', dir, resolve(arg(argv, 'main', join(ROOT, 'dist', 'main.js')))],
    env: manaLlmEnv(fake.url, ROOT),
    cwd: dir,
    cpu: taskset ? 1 : undefined,
    listening: /mana-llm listening on port (\d+)/,
  });
  const now = () => Number(process.hrtime.bigint() / 1000n);
  let from = 0;
  let to = 0;
  try {
    if (streams > 0) {
      from = now();
      const r = await openStreams({
        url: service.url,
        request: requestFor(scenario, 'mana-llm', `-hold-${hold}`),
        count: streams,
        openTimeoutMs: hold,
        whileOpen: async () => undefined,
      });
      to = now();
      process.stderr.write(`[profile] ${r.opened} streams opened, ${r.completed} completed\n`);
    } else {
      await throughput({
        url: service.url,
        request: requestFor(scenario, 'mana-llm'),
        connections,
        durationSec: 2,
      });
      from = now();
      const load = await throughput({
        url: service.url,
        request: requestFor(scenario, 'mana-llm'),
        connections,
        durationSec: duration,
      });
      to = now();
      process.stderr.write(
        `[profile] ${scenario.id}: ${load.perSecond.toFixed(0)}/s over ${load.seconds} s, ${load.failed} failed\n`,
      );
      if (load.ok === 0) throw new Error(`every request failed:\n${service.tail()}`);
    }
  } finally {
    await service.stop();
    await fake.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const times = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')), from, to);
  const { total, frames, files } = times;
  const pct = (/** @type {number} */ us) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  process.stdout.write(
    `profile: ${join(dir, file)} (${(total / 1e6).toFixed(1)} s sampled under load)\n\nself time by package / file:\n`,
  );
  for (const [name, us] of files.slice(0, 25)) process.stdout.write(`${pct(us)}  ${name}\n`);
  process.stdout.write(`\ntop ${top} frames by self time:\n`);
  for (const [name, us] of frames.slice(0, top)) process.stdout.write(`${pct(us)}  ${name}\n`);
  const inclusive = arg(argv, 'inclusive', '');
  if (inclusive) {
    process.stdout.write(
      `\ninclusive time of frames matching /${inclusive}/ (each sample counted once per frame):\n`,
    );
    for (const [name, us] of inclusiveTimes(times, new RegExp(inclusive)).slice(0, 30))
      process.stdout.write(`${pct(us)}  ${name}\n`);
  }
  const pattern = arg(argv, 'callers', '');
  if (pattern) {
    process.stdout.write(`\ncall paths to /${pattern}/:\n`);
    for (const [path, us] of callers(times, new RegExp(pattern)).slice(0, 15))
      process.stdout.write(`${pct(us)}  ${path}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`profile failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
