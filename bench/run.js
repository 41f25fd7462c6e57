'use strict';
/**
 * mana-llm benchmark: `npm run bench` (builds, then runs this). See docs/performance.md.
 *
 * Measures, in one run and alternating rounds, the same four scenarios against four targets:
 * the fake upstream directly, a bare node:http + undici proxy, an equally minimal NestJS + Express +
 * undici proxy (the reference), and the real built service `node dist/main.js`.
 *
 *   node bench/run.js [--smoke] [--rounds N] [--duration S] [--warmup S] [--connections N]
 *                     [--rate R] [--probe N] [--streams N] [--hold MS] [--out DIR]
 *                     [--scenarios a,b] [--targets a,b] [--main path/to/main.js]
 *                     [--baseline path/to/other/main.js] [--lockstep]
 *
 * `--baseline` adds a second build of the service as target `mana-llm-baseline`, measured in the same
 * alternating rounds: before/after numbers of an optimisation from the same machine state.
 *
 * Target `portkey` (the Portkey gateway, optional: `npm --prefix bench/portkey ci`, see
 * bench/portkey/README.md) is measured when installed, in full runs by default and in `--smoke` runs only
 * when `--targets` names it; when it is not installed the report says so and nothing else changes.
 */
const { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { cpus, loadavg, tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { Pool } = require('undici');
const { hasTaskset, pinSelf, procStat, startChild } = require('./lib/processes');
const { openStreams, pingProbe, rateProbe, throughput } = require('./lib/load');
const { checkTargets, median, summarise, toMarkdown } = require('./lib/report');
const { SCENARIOS, manaLlmEnv, requestFor } = require('./lib/scenarios');
const {
  INSTALL: PORTKEY_INSTALL,
  PORTKEY_LISTENING,
  PORTKEY_UNSUPPORTED,
  freePort,
  locatePortkey,
  portkeyRequest,
} = require('./lib/portkey');

/** @typedef {import('./lib/scenarios').Scenario} Scenario @typedef {import('./lib/scenarios').BenchRequest} BenchRequest */

const ROOT = resolve(__dirname, '..');
const LISTENING = /BENCH_LISTENING (\d+)/;
const MANA_LISTENING = /mana-llm listening on port (\d+)/;
const PROXY_CPU = 1;
const LOAD_CPU = 0;

/** @param {string[]} argv */
function parseOptions(argv) {
  const smoke = argv.includes('--smoke');
  const value = (/** @type {string} */ name, /** @type {number} */ full, /** @type {number} */ small) => {
    const i = argv.indexOf(`--${name}`);
    if (i !== -1 && argv[i + 1] !== undefined) return Number(argv[i + 1]);
    return smoke ? small : full;
  };
  const list = (/** @type {string} */ name) => {
    const i = argv.indexOf(`--${name}`);
    return i !== -1 && argv[i + 1] ? argv[i + 1].split(',') : undefined;
  };
  const outIndex = argv.indexOf('--out');
  return {
    smoke,
    rounds: value('rounds', 3, 1),
    durationSec: value('duration', 5, 0.4),
    warmupSec: value('warmup', 1, 0.1),
    connections: value('connections', 32, 4),
    rate: value('rate', 100, 50),
    probeCount: value('probe', 300, 10),
    streams: value('streams', 1000, 20),
    holdMs: value('hold', 8000, 800),
    outDir: outIndex !== -1 ? resolve(argv[outIndex + 1]) : join(ROOT, 'bench', 'results'),
    scenarioIds: list('scenarios'),
    targetIds: list('targets'),
    /** The service to measure: the build of this checkout unless told otherwise (e.g. a snapshot's). */
    main:
      argv.indexOf('--main') !== -1
        ? resolve(argv[argv.indexOf('--main') + 1])
        : join(ROOT, 'dist', 'main.js'),
    /** A second build measured as `mana-llm-baseline` in the same rounds (before/after comparisons). */
    /** Open streams whose events arrive in lockstep (the worst case) instead of at random phases. */
    lockstep: argv.includes('--lockstep'),
    baseline: argv.indexOf('--baseline') !== -1 ? resolve(argv[argv.indexOf('--baseline') + 1]) : undefined,
  };
}

/** @param {number} ms */
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/**
 * One request per (target, scenario) before measuring: a target that answers wrongly must not be
 * measured. Checks the status and the shape of the body.
 *
 * @param {string} url @param {BenchRequest} request @param {Scenario} s @param {boolean} direct
 */
async function preflight(url, request, s, direct) {
  const pool = new Pool(url);
  try {
    const res = await pool.request({
      method: 'POST',
      path: request.path,
      headers: { 'content-type': 'application/json', ...request.headers },
      body: request.body,
    });
    const text = await res.body.text();
    const fail = (/** @type {string} */ why) => {
      throw new Error(`preflight ${s.id} at ${url}: ${why}: ${res.statusCode} ${text.slice(0, 300)}`);
    };
    if (res.statusCode !== 200) fail('status');
    if (s.id === 'embeddings' && !text.includes('"embedding"')) fail('no embedding');
    if (!s.stream && s.id !== 'embeddings' && !text.includes('"choices"')) fail('no choices');
    if (s.stream && direct && s.provider === 'ollama' && !text.includes('"done":true')) fail('no done line');
    if (s.stream && !(direct && s.provider === 'ollama')) {
      const events = text.split('\n\n').filter((e) => e.startsWith('data: '));
      if (events.length < 10 || events[events.length - 1] !== 'data: [DONE]')
        fail(`${events.length} events, no [DONE]`);
    }
  } finally {
    await pool.close();
  }
}

/**
 * The event-loop delay p99 (seconds) since the previous read: mana-llm's prom-client default metric on
 * /metrics, the reference proxies' identical histogram on /lag.
 * @param {string} url @param {string} path
 */
async function scrapeLag(url, path) {
  const pool = new Pool(url);
  try {
    const res = await pool.request({ method: 'GET', path });
    const text = await res.body.text();
    const m = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(text);
    return m ? Number(m[1]) : NaN;
  } finally {
    await pool.close();
  }
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const mainJs = o.main;
  if (!existsSync(mainJs))
    throw new Error(`${mainJs} is missing: run \`npm run build\` (npm run bench does)`);
  const taskset = hasTaskset() && cpus().length >= 2;
  if (taskset) pinSelf(LOAD_CPU);
  const cpu = taskset ? PROXY_CPU : undefined;
  const scenarios = SCENARIOS.filter((s) => !o.scenarioIds || o.scenarioIds.includes(s.id));
  const log = (/** @type {string} */ line) => process.stderr.write(`[bench] ${line}\n`);
  // Portkey: optional, from bench/portkey/node_modules. Measured when installed, except in smoke runs
  // (the harness check of the four core targets) unless `--targets` names it.
  const portkeyInstall = locatePortkey();
  const portkeyWanted = o.targetIds ? o.targetIds.includes('portkey') : !o.smoke;
  const withPortkey = portkeyWanted && portkeyInstall !== undefined;
  let portkey = `not measured: @portkey-ai/gateway is not installed (optional, dev-only: \`${PORTKEY_INSTALL}\`)`;
  if (portkeyInstall && !portkeyWanted)
    portkey = `not measured: @portkey-ai/gateway ${portkeyInstall.version} is installed, but ${o.targetIds ? '--targets does not name portkey' : '--smoke runs measure it only when --targets names portkey'}`;
  if (!portkeyInstall && o.targetIds?.includes('portkey'))
    log(`portkey not measured: @portkey-ai/gateway is not installed; \`${PORTKEY_INSTALL}\` installs it`);
  const allTargets = [
    'direct',
    'bare',
    'nest',
    'mana-llm',
    ...(withPortkey ? ['portkey'] : []),
    ...(o.baseline ? ['mana-llm-baseline'] : []),
  ];
  const targets = allTargets.filter(
    (t) =>
      t === 'direct' ||
      t === 'mana-llm-baseline' ||
      t === 'portkey' ||
      !o.targetIds ||
      o.targetIds.includes(t),
  );
  /** Whether target `t` is measured in scenario `s` (Portkey cannot serve every scenario). */
  const measures = (/** @type {Scenario} */ s, /** @type {string} */ t) =>
    t !== 'portkey' || PORTKEY_UNSUPPORTED[s.id] === undefined;
  const notes = [];
  const startedAt = new Date().toISOString();
  const loadStart = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

  const workDir = mkdtempSync(join(tmpdir(), 'mana-llm-bench-'));
  /** @type {import('./lib/processes').ChildService[]} */
  const children = [];
  const stopAll = () => Promise.all(children.map((c) => c.stop()));
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const fake = await startChild({
      name: 'fake',
      args: [join(__dirname, 'lib', 'fake-upstream.js')],
      env: {},
      cpu: taskset ? LOAD_CPU : undefined,
      listening: LISTENING,
    });
    children.push(fake);
    const proxyEnv = { UPSTREAM_URL: fake.url };
    /** The request for (scenario, target); Portkey gets the upstream's own path and body plus its headers. */
    const requestOf = (/** @type {Scenario} */ s, /** @type {string} */ t, modelSuffix = '') =>
      t === 'portkey' ? portkeyRequest(s, fake.url, modelSuffix) : requestFor(s, t, modelSuffix);
    /** @type {Record<string, import('./lib/processes').ChildService>} */
    const services = {};
    if (targets.includes('bare'))
      services.bare = await startChild({
        name: 'bare',
        args: [join(__dirname, 'proxies', 'bare-proxy.js')],
        env: proxyEnv,
        cpu,
        listening: LISTENING,
      });
    if (targets.includes('nest'))
      services.nest = await startChild({
        name: 'nest',
        args: [join(__dirname, 'proxies', 'nest-proxy.js')],
        env: proxyEnv,
        cpu,
        listening: LISTENING,
      });
    for (const [name, main] of [
      ['mana-llm', mainJs],
      ['mana-llm-baseline', o.baseline],
    ]) {
      if (!main || !targets.includes(name)) continue;
      services[name] = await startChild({
        name,
        args: [main],
        cwd: workDir,
        cpu,
        listening: MANA_LISTENING,
        env: manaLlmEnv(fake.url, ROOT),
      });
    }
    if (withPortkey && portkeyInstall) {
      const port = await freePort();
      services.portkey = await startChild({
        name: 'portkey',
        args: [portkeyInstall.script, `--port=${port}`, '--headless'],
        cwd: workDir,
        cpu,
        listening: PORTKEY_LISTENING,
        env: { NODE_ENV: 'production' },
      });
      const measured = scenarios.filter((s) => measures(s, 'portkey')).map((s) => s.id);
      const skipped = scenarios.filter((s) => !measures(s, 'portkey'));
      portkey = [
        `@portkey-ai/gateway ${portkeyInstall.version} (bench/portkey), provider \`openai\` with its custom host at the fake's /v1; measured: ${measured.join(', ') || 'none'}`,
        ...skipped.map((s) => `${s.id} not measured: ${PORTKEY_UNSUPPORTED[s.id]}`),
      ].join('; ');
    }
    children.push(...Object.values(services));
    /** @param {string} t */
    const urlOf = (t) => (t === 'direct' ? fake.url : services[t].url);

    for (const s of scenarios)
      for (const t of targets) {
        if (!measures(s, t)) continue;
        await preflight(urlOf(t), requestOf(s, t), s, t === 'direct');
        await preflight(urlOf(t), requestOf(s, t, '-gap-5'), s, t === 'direct');
      }
    await sleep(300);
    /** @type {Record<string, number>} */
    const rssIdle = {};
    for (const [t, c] of Object.entries(services)) rssIdle[t] = procStat(c.pid).rssBytes;
    log(
      `started: fake ${fake.url}, ${Object.entries(services)
        .map(([t, c]) => `${t} ${c.url} (pid ${c.pid})`)
        .join(', ')}`,
    );

    const rounds = [];
    for (let round = 0; round < o.rounds; round++) {
      const cells = [];
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const s of scenarios) {
        for (const t of order) {
          if (!measures(s, t)) continue;
          const url = urlOf(t);
          const request = requestOf(s, t);
          await throughput({ url, request, connections: o.connections, durationSec: o.warmupSec });
          const service = services[t];
          const before = service ? procStat(service.pid) : undefined;
          let rssMax = 0;
          const sampler = service
            ? setInterval(() => (rssMax = Math.max(rssMax, procStat(service.pid).rssBytes)), 250)
            : undefined;
          const load = await throughput({
            url,
            request,
            connections: o.connections,
            durationSec: o.durationSec,
          });
          if (sampler) clearInterval(sampler);
          const after = service ? procStat(service.pid) : undefined;
          if (after) rssMax = Math.max(rssMax, after.rssBytes);
          await sleep(100);
          const probe = await rateProbe({
            url,
            request: requestOf(s, t, s.stream ? '-gap-5' : ''),
            rate: o.rate,
            count: o.probeCount,
          });
          const cpuUsPerRequest =
            before && after && load.ok > 0 ? ((after.cpuSeconds - before.cpuSeconds) * 1e6) / load.ok : null;
          cells.push({
            scenario: s.id,
            target: t,
            load,
            cpuUsPerRequest,
            rssLoadBytes: service ? rssMax : null,
            probe,
          });
          log(
            `round ${round + 1}/${o.rounds} ${s.id} ${t}: ${load.perSecond.toFixed(0)}/s, p50 ${load.latencyP50} ms, probe p50 ${probe.total.p50.toFixed(2)} ms, ttfb p50 ${probe.ttfb.p50.toFixed(2)} ms${cpuUsPerRequest !== null ? `, ${cpuUsPerRequest.toFixed(0)} µs CPU/req` : ''}${load.failed + probe.failed ? `, ${load.failed + probe.failed} failed` : ''}`,
          );
        }
      }
      rounds.push({ round: round + 1, cells });
    }

    // Long-lived streams: `holdMs` per stream (20 events spread over it), `streams` at once.
    const memory = [];
    const streamScenario = scenarios.find((s) => s.id === 'chat-stream-openai') ?? SCENARIOS[1];
    for (const [t, service] of Object.entries(services)) {
      const url = service.url;
      // Portkey has no health route but answers GET / with a constant text; it has no loop-delay
      // histogram either (its lag is the ping's alone).
      const pingPath = t === 'portkey' ? '/' : '/health/live';
      const pingIdle = await pingProbe({
        url,
        path: pingPath,
        everyMs: 20,
        durationMs: o.smoke ? 200 : 1000,
      });
      const rssBeforeMb = procStat(service.pid).rssBytes / 2 ** 20;
      const lagPath = t.startsWith('mana-llm') ? '/metrics' : t === 'portkey' ? undefined : '/lag';
      const lagOf = async () => (lagPath ? scrapeLag(url, lagPath) : NaN);
      await lagOf(); // resets the histogram: the next read covers the window
      let rssOpen = 0;
      /** @type {number} */
      let metricLag = NaN;
      /** @type {number[]} */
      let lagSlices = [];
      const held = await openStreams({
        url,
        request: requestOf(streamScenario, t, `-hold-${o.holdMs}${o.lockstep ? '' : '-jitter'}`),
        count: o.streams,
        openTimeoutMs: o.holdMs / 2,
        whileOpen: async () => {
          const sampler = setInterval(
            () => (rssOpen = Math.max(rssOpen, procStat(service.pid).rssBytes)),
            100,
          );
          const windowMs = Math.min(2000, o.holdMs / 4);
          // Let the last requests of the ramp finish before measuring the steady state.
          await sleep(windowMs / 4);
          await lagOf();
          const pinging = pingProbe({ url, path: pingPath, everyMs: 20, durationMs: windowMs });
          // The loop-delay histogram read in 4 slices of the window: the median slice's p99, so one
          // stall of the shared machine (another process on the core) does not decide alone.
          const slices = [];
          for (let i = 0; i < 4; i++) {
            await sleep(windowMs / 4);
            slices.push((await lagOf()) * 1000 - 10); // minus the 10 ms resolution
          }
          const ping = await pinging;
          clearInterval(sampler);
          rssOpen = Math.max(rssOpen, procStat(service.pid).rssBytes);
          metricLag = median(slices);
          lagSlices = slices;
          return ping;
        },
      });
      const rssOpenMb = rssOpen / 2 ** 20;
      memory.push({
        target: t,
        rssIdleMb: rssIdle[t] / 2 ** 20,
        rssBeforeMb,
        rssOpenMb,
        growthMb: rssOpenMb - rssIdle[t] / 2 ** 20,
        opened: held.opened,
        openedInTime: held.openedInTime,
        completed: held.completed,
        failed: held.failed,
        pingIdle,
        pingOpen: held.measured,
        lagP99Ms: held.measured.p99 - pingIdle.p50,
        metricLagP99Ms: metricLag,
        metricLagSlicesMs: lagSlices,
      });
      log(
        `${o.streams} open streams through ${t}: opened ${held.opened}, RSS ${rssOpenMb.toFixed(0)} MB, ping p99 ${held.measured.p99.toFixed(2)} ms`,
      );
      if (held.openedInTime < o.streams)
        notes.push(
          `${t}: only ${held.openedInTime} of ${o.streams} streams had sent their first bytes within the ${o.holdMs / 2} ms open timeout (${held.opened} in all): its ping and lag with open streams were measured during the ramp, not the steady state.`,
        );
      await sleep(200);
    }
    if (services['mana-llm'])
      notes.push(
        `mana-llm wrote ${services['mana-llm'].lines()} log lines at info during the run (one per request).`,
      );
    if (services.portkey)
      notes.push(
        "Portkey: requests carry `x-portkey-provider: openai`, `x-portkey-custom-host: <fake>/v1` and a bearer key, with the upstream's own model name (no `groq/` prefix). Its stream handler waits 25 ms before relaying a stream's first event (a fixed setTimeout in @portkey-ai/gateway's build), which caps its streams per connection and shows in its time to first byte. No event-loop histogram: its lag with open streams is the ping's (GET /) alone. @hono/node-server is pinned to 1.13.5 in bench/portkey (newer versions make Portkey fail streams and embeddings with `TypeError: immutable`).",
      );
    notes.push(
      "Latencies under load are autocannon's (whole milliseconds); the open-loop probe is timed with performance.now().",
    );
    notes.push(
      'Stream probes use a fake stream that sends everything up to the first content token at once and the rest 5 ms later: TTFB is the time to the first body byte, i.e. to the first token.',
    );

    const summary = summarise(
      rounds,
      scenarios.map((s) => s.id),
      targets,
    );
    const result = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: {
        node: process.version,
        cpus: cpus().length,
        taskset,
        proxyCpu: cpu ?? null,
        loadCpu: taskset ? LOAD_CPU : null,
        loadStart,
        loadEnd: loadavg()
          .map((l) => l.toFixed(2))
          .join(' '),
      },
      options: o,
      portkey,
      scenarios: scenarios.map((s) => ({ id: s.id, title: s.title })),
      targets: checkTargets(summary, memory, o),
      summary,
      memory,
      rounds,
      notes,
    };
    const markdown = toMarkdown(result);
    process.stdout.write(markdown);
    mkdirSync(o.outDir, { recursive: true });
    const json = JSON.stringify(result, null, 2) + '\n';
    writeFileSync(join(o.outDir, 'latest.md'), markdown);
    writeFileSync(join(o.outDir, 'latest.json'), json);
    writeFileSync(join(o.outDir, `${result.finishedAt.replace(/[:.]/g, '-')}.json`), json);
    return result;
  } finally {
    await stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }
}

module.exports = { parseOptions };

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
