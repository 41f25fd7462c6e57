'use strict';
const { PORTKEY_UNSUPPORTED } = require('./portkey');

/** @param {number[]} values */
function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * @typedef {object} Cell one (scenario, target) measurement of one round
 * @property {string} scenario
 * @property {string} target
 * @property {{ ok: number, failed: number, seconds: number, perSecond: number, latencyP50: number, latencyP99: number }} load
 * @property {number | null} cpuUsPerRequest
 * @property {number | null} rssLoadBytes
 * @property {{ failed: number, ttfb: { p50: number, p99: number }, total: { p50: number, p99: number } }} probe
 */

/**
 * Medians over rounds; added latencies are taken per round against `direct` of the same round and
 * scenario, then the median of those differences.
 *
 * @param {{ round: number, cells: Cell[] }[]} rounds
 * @param {string[]} scenarios
 * @param {string[]} targets
 */
function summarise(rounds, scenarios, targets) {
  const rows = [];
  for (const scenario of scenarios) {
    for (const target of targets) {
      const cells = rounds.map((r) => r.cells.find((c) => c.scenario === scenario && c.target === target));
      const directs = rounds.map((r) =>
        r.cells.find((c) => c.scenario === scenario && c.target === 'direct'),
      );
      const added = (/** @type {(c: Cell) => number} */ pick) =>
        target === 'direct'
          ? null
          : median(
              cells.map((c, i) => (c && directs[i] ? pick(c) - pick(/** @type {Cell} */ (directs[i])) : NaN)),
            );
      // Same-round pairs with the NestJS reference: this machine's speed drifts between rounds (by
      // ±25 % within minutes), and a pair of cells seconds apart shares most of that drift.
      const nests = rounds.map((r) => r.cells.find((c) => c.scenario === scenario && c.target === 'nest'));
      const paired = cells
        .map((c, i) =>
          c && nests[i] ? c.load.perSecond / /** @type {Cell} */ (nests[i]).load.perSecond : NaN,
        )
        .filter((x) => Number.isFinite(x));
      const present = /** @type {Cell[]} */ (cells.filter(Boolean));
      // A target that cannot serve a scenario (Portkey) has no cells there: no row, not a row of dashes.
      if (present.length === 0) continue;
      rows.push({
        scenario,
        target,
        perSecond: median(present.map((c) => c.load.perSecond)),
        latencyP50: median(present.map((c) => c.load.latencyP50)),
        latencyP99: median(present.map((c) => c.load.latencyP99)),
        failed: present.reduce((n, c) => n + c.load.failed + c.probe.failed, 0),
        probeP50: median(present.map((c) => c.probe.total.p50)),
        probeP99: median(present.map((c) => c.probe.total.p99)),
        probeTtfbP50: median(present.map((c) => c.probe.ttfb.p50)),
        addedP50: added((c) => c.probe.total.p50),
        addedP99: added((c) => c.probe.total.p99),
        addedTtfbP50: added((c) => c.probe.ttfb.p50),
        cpuUsPerRequest: target === 'direct' ? null : median(present.map((c) => c.cpuUsPerRequest ?? NaN)),
        rssLoadMb:
          target === 'direct' ? null : Math.max(...present.map((c) => (c.rssLoadBytes ?? 0) / 2 ** 20)),
        pairedVsNest: paired.length > 0 ? median(paired) : null,
        pairedVsNestMin: paired.length > 0 ? Math.min(...paired) : null,
        pairedVsNestMax: paired.length > 0 ? Math.max(...paired) : null,
      });
    }
  }
  return rows;
}

/**
 * The targets, each as a measured value against its limit. Throughput targets are ratios of
 * medians from the same run; a target whose inputs are missing is reported as not measured.
 *
 * @param {ReturnType<typeof summarise>} rows
 * @param {any[]} memory
 * @param {{ rate: number, streams: number }} options
 */
function checkTargets(rows, memory, options) {
  const row = (/** @type {string} */ s, /** @type {string} */ t) =>
    rows.find((r) => r.scenario === s && r.target === t);
  const ratio = (/** @type {string} */ s) => {
    const mana = row(s, 'mana-llm');
    const nest = row(s, 'nest');
    return mana && nest ? mana.perSecond / nest.perSecond : NaN;
  };
  const mana = memory.find((m) => m.target === 'mana-llm');
  /** @type {{ name: string, measured: number, limit: number, unit: string, better: 'higher' | 'lower' }[]} */
  const raw = [
    {
      name: 'JSON chat throughput, mana-llm / NestJS reference',
      measured: ratio('chat-json') * 100,
      limit: 80,
      unit: '%',
      better: 'higher',
    },
    {
      name: 'streamed chat (OpenAI-compatible) throughput, mana-llm / NestJS reference',
      measured: ratio('chat-stream-openai') * 100,
      limit: 80,
      unit: '%',
      better: 'higher',
    },
    {
      name: 'streamed chat (Ollama) throughput, mana-llm / NestJS reference',
      measured: ratio('chat-stream-ollama') * 100,
      limit: 80,
      unit: '%',
      better: 'higher',
    },
    {
      name: `JSON chat added latency p50 at ${options.rate}/s`,
      measured: row('chat-json', 'mana-llm')?.addedP50 ?? NaN,
      limit: 1.5,
      unit: 'ms',
      better: 'lower',
    },
    {
      name: `JSON chat added latency p99 at ${options.rate}/s`,
      measured: row('chat-json', 'mana-llm')?.addedP99 ?? NaN,
      limit: 5,
      unit: 'ms',
      better: 'lower',
    },
    {
      name: 'added time to first streamed token byte p50 (OpenAI-compatible)',
      measured: row('chat-stream-openai', 'mana-llm')?.addedTtfbP50 ?? NaN,
      limit: 2,
      unit: 'ms',
      better: 'lower',
    },
    {
      name: 'added time to first streamed token byte p50 (Ollama)',
      measured: row('chat-stream-ollama', 'mana-llm')?.addedTtfbP50 ?? NaN,
      limit: 2,
      unit: 'ms',
      better: 'lower',
    },
    {
      name: `RSS growth with ${options.streams} open streams (vs idle)`,
      measured: mana?.growthMb ?? NaN,
      limit: 150,
      unit: 'MB',
      better: 'lower',
    },
    {
      // The service's own event-loop delay histogram (nodejs_eventloop_lag_p99_seconds, median of the
      // window's slices, minus its 10 ms resolution) when it could be read; else the ping's p99 above
      // its idle p50.
      name: `event-loop lag p99 with ${options.streams} open streams`,
      measured: mana ? (Number.isFinite(mana.metricLagP99Ms) ? mana.metricLagP99Ms : mana.lagP99Ms) : NaN,
      limit: 20,
      unit: 'ms',
      better: 'lower',
    },
  ];
  // The "mana-llm throughput >= 4x Portkey", per scenario, only when Portkey was measured.
  if (rows.some((r) => r.target === 'portkey')) {
    const names = {
      'chat-json': 'JSON chat',
      'chat-stream-openai': 'streamed chat (OpenAI-compatible)',
      'chat-stream-ollama': 'streamed chat (Ollama)',
      embeddings: 'embeddings (JSON)',
    };
    const scenarios = [...new Set(rows.map((r) => r.scenario))];
    for (const s of scenarios) {
      const mana = row(s, 'mana-llm');
      const portkey = row(s, 'portkey');
      if (!mana) continue;
      const why = PORTKEY_UNSUPPORTED[s];
      raw.push({
        name: `${names[/** @type {keyof typeof names} */ (s)] ?? s} throughput, mana-llm / Portkey${!portkey && why ? ' (Portkey cannot serve this scenario: see the Portkey line)' : ''}`,
        measured: portkey ? mana.perSecond / portkey.perSecond : NaN,
        limit: 4,
        unit: '×',
        better: 'higher',
      });
    }
  }
  return raw.map((t) => ({
    ...t,
    pass: Number.isFinite(t.measured)
      ? t.better === 'higher'
        ? t.measured >= t.limit
        : t.measured <= t.limit
      : null,
  }));
}

/** @param {number | null | undefined} v @param {number} [digits] */
function fmt(v, digits = 1) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return v.toFixed(digits);
}

/** @param {string[]} header @param {(string | number)[][]} lines */
function table(header, lines) {
  const out = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const l of lines) out.push(`| ${l.join(' | ')} |`);
  return out.join('\n');
}

/** The whole report as Markdown (also printed to stdout). @param {any} result */
function toMarkdown(result) {
  const o = result.options;
  const parts = [];
  parts.push(`# mana-llm benchmark — ${result.finishedAt}`);
  parts.push(
    [
      `Node ${result.machine.node}, ${result.machine.cpus} CPUs, load average ${result.machine.loadStart} at start / ${result.machine.loadEnd} at end.`,
      `Proxies pinned to CPU ${result.machine.proxyCpu ?? '–'}, load generator and fake upstream to CPU ${result.machine.loadCpu ?? '–'} (taskset ${result.machine.taskset ? 'used' : 'not available'}).`,
      `${o.rounds} alternating round(s); per cell: ${o.warmupSec} s warm-up, ${o.durationSec} s closed-loop load with ${o.connections} connections (autocannon), then ${o.probeCount} requests open-loop at ${o.rate}/s.`,
      `Values are medians over rounds; "added" is the target minus direct-to-fake in the same round. Portkey: ${result.portkey}.`,
    ].join('\n'),
  );
  parts.push('## Throughput and latency');
  parts.push(
    table(
      [
        'scenario',
        'target',
        'req/s',
        'p50 ms (load)',
        'p99 ms (load)',
        `p50 ms @${o.rate}/s`,
        `p99 ms @${o.rate}/s`,
        'added p50 ms',
        'added p99 ms',
        'added TTFB p50 ms',
        'CPU µs/req',
        'RSS load MB',
        'failed',
      ],
      result.summary.map((r) => [
        r.scenario,
        r.target,
        fmt(r.perSecond, 0),
        fmt(r.latencyP50, 0),
        fmt(r.latencyP99, 0),
        fmt(r.probeP50, 2),
        fmt(r.probeP99, 2),
        fmt(r.addedP50, 2),
        fmt(r.addedP99, 2),
        fmt(r.addedTtfbP50, 2),
        fmt(r.cpuUsPerRequest, 0),
        fmt(r.rssLoadMb, 0),
        r.failed,
      ]),
    ),
  );
  parts.push('## Ratios to the NestJS + Express + undici reference (req/s)');
  parts.push(
    table(
      [
        'scenario',
        'target',
        'vs NestJS ref',
        'vs bare ref',
        'vs NestJS ref, same-round pairs: median (min–max)',
      ],
      result.summary
        .filter((r) => r.target !== 'direct')
        .map((r) => {
          const nest = result.summary.find((x) => x.scenario === r.scenario && x.target === 'nest');
          const bare = result.summary.find((x) => x.scenario === r.scenario && x.target === 'bare');
          return [
            r.scenario,
            r.target,
            `${fmt((r.perSecond / nest?.perSecond) * 100, 0)} %`,
            `${fmt((r.perSecond / bare?.perSecond) * 100, 0)} %`,
            r.pairedVsNest === null || r.target === 'nest'
              ? '–'
              : `${fmt(r.pairedVsNest * 100, 0)} % (${fmt(r.pairedVsNestMin * 100, 0)}–${fmt(r.pairedVsNestMax * 100, 0)} %)`,
          ];
        }),
    ),
  );
  parts.push(`## Memory and event loop with ${o.streams} concurrent open streams`);
  parts.push(
    table(
      [
        'target',
        '',
        'RSS idle MB',
        'RSS before MB',
        'RSS open MB',
        'growth vs idle MB',
        'opened',
        'completed',
        'ping p99 idle ms',
        'ping p99 open ms',
        'lag p99 ms',
        'loop delay p99 ms',
      ],
      result.memory.map((m) => [
        m.target,
        '',
        fmt(m.rssIdleMb, 0),
        fmt(m.rssBeforeMb, 0),
        fmt(m.rssOpenMb, 0),
        fmt(m.growthMb, 0),
        m.opened,
        m.completed,
        fmt(m.pingIdle?.p99, 2),
        fmt(m.pingOpen?.p99, 2),
        fmt(m.lagP99Ms, 2),
        fmt(m.metricLagP99Ms, 2),
      ]),
    ),
  );
  parts.push('## Targets (mana-llm)');
  parts.push(
    table(
      ['target', '', 'measured', 'limit', 'verdict'],
      result.targets.map((t) => [
        t.name,
        '',
        `${fmt(t.measured, t.unit === '%' ? 0 : 2)} ${t.unit}`,
        `${t.better === 'higher' ? '≥' : '≤'} ${t.limit} ${t.unit}`,
        t.pass === null ? 'not measured' : t.pass ? 'pass' : 'FAIL',
      ]),
    ),
  );
  if (result.notes.length > 0) parts.push('## Notes\n' + result.notes.map((n) => `- ${n}`).join('\n'));
  return parts.join('\n\n') + '\n';
}

module.exports = { median, summarise, checkTargets, toMarkdown, fmt };
