'use strict';
const autocannon = /** @type {any} */ (require('autocannon'));
const { Pool } = require('undici');
const { performance } = require('node:perf_hooks');

/** @param {number[]} sorted @param {number} p 0..100 */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** @param {number[]} values */
function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/**
 * @typedef {import('./scenarios').BenchRequest} BenchRequest
 */

/**
 * Closed-loop throughput with autocannon: `connections` clients, each sending the next request as soon
 * as the previous answer (the whole stream) is in. Latencies are autocannon's (whole milliseconds).
 *
 * @param {{ url: string, request: BenchRequest, connections: number, durationSec: number }} o
 */
async function throughput(o) {
  const result = await autocannon({
    url: o.url + o.request.path,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...o.request.headers },
    body: o.request.body,
    connections: o.connections,
    duration: o.durationSec,
    pipelining: 1,
    timeout: 30,
  });
  const ok = result['2xx'];
  return {
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
    perSecond: ok / result.duration,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
}

/**
 * Open-loop probe at a fixed, moderate rate (requests are sent on schedule whatever the answers do):
 * time to the first body byte and to the end of the body of every request, in milliseconds, measured
 * with `performance.now()` (sub-millisecond).
 *
 * @param {{ url: string, request: BenchRequest, rate: number, count: number }} o
 */
async function rateProbe(o) {
  const pool = new Pool(o.url, { connections: 64, keepAliveTimeout: 30_000 });
  /** @type {number[]} */
  const first = [];
  /** @type {number[]} */
  const total = [];
  let failed = 0;
  const one = async () => {
    const start = performance.now();
    try {
      const res = await pool.request({
        method: 'POST',
        path: o.request.path,
        headers: { 'content-type': 'application/json', ...o.request.headers },
        body: o.request.body,
      });
      let sawByte = false;
      for await (const _chunk of res.body) {
        if (!sawByte) {
          sawByte = true;
          first.push(performance.now() - start);
        }
      }
      total.push(performance.now() - start);
      if (res.statusCode !== 200) failed++;
    } catch {
      failed++;
    }
  };
  // Warm the connections first, so no measured request pays for a TCP handshake.
  await Promise.all(Array.from({ length: 4 }, one));
  first.length = 0;
  total.length = 0;
  failed = 0;
  const interval = 1000 / o.rate;
  const began = performance.now();
  const pending = [];
  for (let i = 0; i < o.count; i++) {
    const due = began + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((ok) => setTimeout(ok, wait));
    pending.push(one());
  }
  await Promise.all(pending);
  await pool.close();
  return { failed, ttfb: summary(first), total: summary(total) };
}

/**
 * Repeated `GET path` on one connection, every `everyMs`, for `durationMs`: the latency of a trivial
 * route shows how long the server's event loop keeps requests waiting.
 *
 * @param {{ url: string, path: string, everyMs: number, durationMs: number }} o
 */
async function pingProbe(o) {
  const pool = new Pool(o.url, { connections: 1 });
  const times = [];
  const end = performance.now() + o.durationMs;
  while (performance.now() < end) {
    const start = performance.now();
    const res = await pool.request({ method: 'GET', path: o.path });
    await res.body.dump();
    times.push(performance.now() - start);
    await new Promise((ok) => setTimeout(ok, o.everyMs));
  }
  await pool.close();
  return summary(times);
}

/**
 * Opens `count` concurrent streams (one connection each) and calls `whileOpen` once every stream has
 * received its first bytes (or `openTimeoutMs` passed); then reads every stream to its end.
 *
 * @template T
 * @param {{ url: string, request: BenchRequest, count: number, openTimeoutMs: number,
 *   whileOpen: () => Promise<T> }} o
 * @returns {Promise<{ opened: number, openedInTime: number, completed: number, failed: number, measured: T }>}
 *   `openedInTime`: streams open when `whileOpen` was called (less than `count` if the timeout won)
 */
async function openStreams(o) {
  const pool = new Pool(o.url, { connections: o.count, keepAliveTimeout: 30_000 });
  let opened = 0;
  let completed = 0;
  let failed = 0;
  /** @type {() => void} */
  let allOpen = () => {};
  const openedAll = new Promise((ok) => (allOpen = () => ok(undefined)));
  const one = async () => {
    try {
      const res = await pool.request({
        method: 'POST',
        path: o.request.path,
        headers: { 'content-type': 'application/json', ...o.request.headers },
        body: o.request.body,
      });
      let first = true;
      for await (const _chunk of res.body) {
        if (first) {
          first = false;
          if (++opened === o.count) allOpen();
        }
      }
      if (res.statusCode === 200) completed++;
      else failed++;
    } catch {
      failed++;
    }
  };
  const streams = Array.from({ length: o.count }, one);
  /** @type {NodeJS.Timeout | undefined} */
  let timeout;
  const timer = new Promise((ok) => (timeout = setTimeout(ok, o.openTimeoutMs)));
  // Measured even when not every stream opened in time: `opened` says how many were.
  await Promise.race([openedAll, timer]);
  clearTimeout(timeout);
  const openedInTime = opened;
  const measured = await o.whileOpen();
  await Promise.all(streams);
  await pool.close();
  return { opened, openedInTime, completed, failed, measured };
}

module.exports = { throughput, rateProbe, pingProbe, openStreams, summary, percentile };
