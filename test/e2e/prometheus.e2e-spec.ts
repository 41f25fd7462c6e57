import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, fixtureHeaders, ndjsonLines, sseEvents } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { exportedNames, Scrape } from '../support/metrics-text';
import { hasBinary, PrometheusServer } from '../support/prometheus-server';
import { metricNames, substituteGrafanaVariables } from '../support/promql';
import { rawRequest } from '../support/sse-client';

const ROOT = resolve(__dirname, '../..');
const ALERTS = join(ROOT, 'config/prometheus/alerts.yml');
const ALERT_TESTS = join(ROOT, 'config/prometheus/alerts.test.yml');
const DASHBOARD = join(ROOT, 'config/grafana/mana-llm.json');
/** Series Prometheus makes itself for every target (not exported by the gateway). */
const PROMETHEUS_SERIES = new Set(['up']);

// Never skipped: `npm test` installs Debian's prometheus package first where it can (scripts/ensure-prometheus.sh),
// and a machine without the tools fails here with the way to get them.
if (!hasBinary('promtool') || !hasBinary('prometheus')) {
  throw new Error(
    "promtool and prometheus are required: install Debian's 'prometheus' package (npm test does it as root)",
  );
}

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } | string }[] };
}

function promtool(args: string[], input?: string) {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function dashboardQueries(dashboard: Dashboard): { title: string; expr: string }[] {
  const variables = dashboard.templating.list.map((v) => v.name);
  const out: { title: string; expr: string }[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        out.push({ title: p.title, expr: substituteGrafanaVariables(t.expr, variables) });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  return out;
}

function alertQueries(): { title: string; expr: string }[] {
  const text = readFileSync(ALERTS, 'utf8');
  const doc = parseYaml(text) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ title: r.alert, expr: r.expr })));
}

describe('PromQL metric name extraction (the proof below relies on it)', () => {
  it('should find the selected metrics and nothing else when given dashboard-like expressions', () => {
    expect(
      metricNames(
        'sum by (provider, model) (rate(mana_llm_requests_total{status=~"5..", app=~".*"}[1m])) / sum by (provider) (rate(other_total[5m] offset 1h)) > 0.05 and on(endpoint) up',
      ),
    ).toEqual(['mana_llm_requests_total', 'other_total', 'up']);
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(x_bucket{le="+Inf"}[5m]))) * 60')).toEqual(
      ['x_bucket'],
    );
    expect(metricNames('nodejs_eventloop_lag_p99_seconds{a="1"} > 1e3')).toEqual([
      'nodejs_eventloop_lag_p99_seconds',
    ]);
    expect(substituteGrafanaVariables('rate(a{p=~"$provider"}[$__rate_interval])', ['provider'])).toBe(
      'rate(a{p=~".*"}[1m])',
    );
    expect(() => substituteGrafanaVariables('a{x="$nope"}', ['provider'])).toThrow('$nope');
  });
});

describe('Prometheus proof: promtool and a real Prometheus scraping the gateway', () => {
  let ollama: FakeUpstream;
  let groq: FakeUpstream;
  let gateway: RunningGateway;
  let prometheus: PrometheusServer;
  let scrape: Scrape;

  beforeAll(async () => {
    ollama = await FakeUpstream.start();
    groq = await FakeUpstream.start();
    const dir = mkdtempSync(join(tmpdir(), 'mana-llm-prom-'));
    writeFileSync(
      join(dir, 'aliases.yaml'),
      'aliases:\n  mana/fast:\n    chain: [groq/llama-3.1-8b-instant, ollama/gemma3:1b]\n',
    );
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      GROQ_API_KEY: 'gsk_prometheustestkey1',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      ALIASES_PATH: join(dir, 'aliases.yaml'),
      CACHE_STORE: 'memory',
      CIRCUIT_FAILURE_THRESHOLD: '1000',
      HEALTH_PROBE_INTERVAL: '600',
    });
    await traffic();
    scrape = await Scrape.of(gateway.url);
    prometheus = await PrometheusServer.start(new URL(gateway.url).host, [ALERTS]);
    // Three scrapes after the traffic: rate() and increase() have samples to work with.
    await prometheus.waitFor(
      async () => {
        const r = await prometheus.query('count_over_time(mana_llm_active_streams{job="mana-llm"}[1m]) >= 3');
        return r.status === 'success' && (r.data?.result.length ?? 0) > 0;
      },
      30_000,
      'scraping',
    );
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await gateway?.close();
    await ollama?.close();
    await groq?.close();
  });

  /** Every kind of traffic the dashboard shows: streams, JSON, a fallback, errors, cache hits, embeddings. */
  async function traffic(): Promise<void> {
    const chat = (body: object, headers: Record<string, string> = {}) =>
      rawRequest(`${gateway.url}/v1/chat/completions`, {
        headers: { 'x-mana-app': 'notes', ...headers },
        body,
      });
    ollama.on('POST', '/api/chat', {
      headers: { 'content-type': 'application/x-ndjson' },
      pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
    });
    expect(
      (await chat({ model: 'ollama/gemma3:1b', stream: true, messages: [{ role: 'user', content: 'a' }] }))
        .status,
    ).toBe(200);
    groq.on('POST', '/openai/v1/chat/completions', {
      headers: { 'content-type': 'text/event-stream' },
      pieces: sseEvents(fixture('groq/chat_stream_text.response.sse')),
    });
    expect(
      (
        await chat({
          model: 'groq/llama-3.1-8b-instant',
          stream: true,
          messages: [{ role: 'user', content: 'b' }],
        })
      ).status,
    ).toBe(200);
    const limited = fixtureHeaders('groq/error_429_rate_limit.headers.txt');
    groq.on('POST', '/openai/v1/chat/completions', {
      status: limited.status,
      headers: limited.headers,
      body: fixture('groq/error_429_rate_limit.json'),
    });
    ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
    const question = { model: 'mana/fast', messages: [{ role: 'user', content: 'c' }] };
    expect((await chat(question)).status).toBe(200);
    expect((await chat(question)).headers['x-mana-llm-cache']).toBe('HIT');
    groq.on('POST', '/openai/v1/chat/completions', {
      status: 500,
      body: fixture('openai/error_500_server_error.json'),
    });
    expect(
      (await chat({ model: 'groq/llama-3.1-8b-instant', messages: [{ role: 'user', content: 'd' }] })).status,
    ).toBe(502);
    expect((await chat({ model: 'ollama/gemma3:1b', messages: 'bad' })).status).toBe(400);
    ollama.on('POST', '/api/embed', { body: fixture('ollama/embed.response.json') });
    const embed = await rawRequest(`${gateway.url}/v1/embeddings`, {
      headers: { 'x-mana-app': 'search' },
      body: { model: 'ollama/nomic-embed-text', input: 'hello' },
    });
    expect(embed.status).toBe(200);
  }

  it('should pass promtool check metrics when given a real scrape after traffic', () => {
    expect(scrape.find('mana_llm_requests_total').length).toBeGreaterThanOrEqual(5);
    const { status, output } = promtool(['check', 'metrics'], scrape.text);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('should pass promtool check rules and the alert unit tests', () => {
    const check = promtool(['check', 'rules', ALERTS]);
    expect(check.output).toContain('SUCCESS: 6 rules found');
    expect(check.status).toBe(0);
    const unit = promtool(['test', 'rules', ALERT_TESTS]);
    expect(unit.output).toContain('SUCCESS');
    expect(unit.status).toBe(0);
  });

  it('should have scraped the gateway and loaded every alert rule without an evaluation error', async () => {
    const up = await prometheus.query('up{job="mana-llm"}');
    expect(up.data?.result.map((r) => r.value[1])).toEqual(['1']);
    const rules = await prometheus.get<{
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    }>('/api/v1/rules');
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.name).sort()).toEqual(
      alertQueries()
        .map((a) => a.title)
        .sort(),
    );
    await prometheus.waitFor(
      async () => {
        const again = await prometheus.get<typeof rules>('/api/v1/rules');
        return again.data.groups.flatMap((g) => g.rules).every((r) => r.health === 'ok');
      },
      10_000,
      'evaluating every rule as ok',
    );
  });

  it('should evaluate every alert expression and reference only exported metrics', async () => {
    const exported = exportedNames(scrape.text);
    for (const { title, expr } of alertQueries()) {
      const result = await prometheus.query(expr);
      expect({ title, status: result.status, error: result.error }).toEqual({
        title,
        status: 'success',
        error: undefined,
      });
      const names = metricNames(expr);
      expect(names.length).toBeGreaterThan(0);
      expect({ title, unknown: names.filter((n) => !exported.has(n) && !PROMETHEUS_SERIES.has(n)) }).toEqual({
        title,
        unknown: [],
      });
    }
  });

  it('should evaluate every dashboard query to data and reference only exported metrics', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThanOrEqual(20);
    const exported = exportedNames(scrape.text);
    for (const { title, expr } of queries) {
      const result = await prometheus.query(expr);
      expect({ title, expr, status: result.status, error: result.error }).toEqual({
        title,
        expr,
        status: 'success',
        error: undefined,
      });
      // After the traffic above, every panel has something to show.
      expect({ title, expr, series: (result.data?.result.length ?? 0) > 0 }).toEqual({
        title,
        expr,
        series: true,
      });
      const names = metricNames(expr);
      expect(names.length).toBeGreaterThan(0);
      expect({ title, unknown: names.filter((n) => !exported.has(n)) }).toEqual({ title, unknown: [] });
    }
  });

  it('should resolve every dashboard variable to values from the gateway', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    const exported = exportedNames(scrape.text);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['instance', 'provider', 'app']);
    for (const variable of dashboard.templating.list) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
      const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(query);
      expect(m).not.toBeNull();
      const [, metric, label] = m!;
      expect(exported.has(metric)).toBe(true);
      const result = await prometheus.query(`count by (${label}) (${metric})`);
      const values = result.data?.result.map((r) => r.metric[label]) ?? [];
      expect({ variable: variable.name, any: values.length > 0 }).toEqual({
        variable: variable.name,
        any: true,
      });
    }
  });

  it('should be import-ready: a datasource input and every panel on ${DS_PROMETHEUS}', () => {
    const raw = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard & {
      __inputs: { name: string; type: string; pluginId: string }[];
      uid: string;
    };
    expect(raw.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    const datasources: unknown[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'datasource') datasources.push(value);
        else walk(value);
      }
    };
    walk(raw.panels);
    walk(raw.templating);
    expect(datasources.length).toBeGreaterThan(20);
    for (const ds of datasources) expect(ds).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
  });
});
