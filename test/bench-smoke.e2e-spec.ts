import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const SCENARIOS = ['chat-json', 'chat-stream-openai', 'chat-stream-ollama', 'embeddings'];
const TARGETS = ['direct', 'bare', 'nest', 'mana-llm'];
const PROXIES = TARGETS.filter((t) => t !== 'direct');

interface SummaryRow {
  scenario: string;
  target: string;
  perSecond: number;
  probeP50: number;
  probeTtfbP50: number;
  failed: number;
  cpuUsPerRequest: number | null;
  rssLoadMb: number | null;
  addedP50: number | null;
}

interface MemoryRow {
  target: string;
  rssIdleMb: number;
  rssOpenMb: number;
  opened: number;
  completed: number;
  pingOpen: { p99: number };
}

interface BenchResult {
  options: { streams: number };
  summary: SummaryRow[];
  memory: MemoryRow[];
  targets: { name: string; measured: number }[];
  notes: string[];
}

function runBench(outDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'run.js'), '--smoke', '--out', outDir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

/**
 * The benchmark harness must not rot: a tiny run of `bench/run.js --smoke` (the fake upstream, the two
 * reference proxies and the real `node dist/main.js`) has to finish and report a number for every
 * scenario and target. No timing is asserted: only that each value was measured.
 */
describe('bench/run.js --smoke', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'mana-llm-bench-smoke-'));
  let run: { code: number | null; stdout: string; stderr: string };
  let result: BenchResult;

  beforeAll(async () => {
    run = await runBench(outDir);
    if (run.code === 0) result = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResult;
  }, 240_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('should exit 0 and write the table, the JSON and a timestamped copy when the run completes', () => {
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-3000) }).toEqual({
      code: 0,
      stderr: '',
    });
    const files = readdirSync(outDir);
    expect(files).toEqual(expect.arrayContaining(['latest.md', 'latest.json']));
    expect(files.filter((f) => /^\d{4}-\d\d-\d\dT.*\.json$/.test(f))).toHaveLength(1);
    expect(readFileSync(join(outDir, 'latest.md'), 'utf8')).toBe(run.stdout);
  });

  it('should print a table row with numbers for every scenario and target when the run completes', () => {
    for (const scenario of SCENARIOS) {
      for (const target of TARGETS) {
        const line = run.stdout.split('\n').find((l) => l.startsWith(`| ${scenario} | ${target} |`));
        expect(line).toBeDefined();
        const cells = (line as string).split('|').slice(3, -1);
        expect(Number(cells[0])).toBeGreaterThan(0); // req/s
        expect(Number(cells[3])).toBeGreaterThan(0); // p50 at the fixed rate
      }
    }
  });

  it('should measure throughput, latency, CPU and memory for every scenario and target when the run completes', () => {
    expect(result.summary).toHaveLength(SCENARIOS.length * TARGETS.length);
    for (const row of result.summary) {
      expect(row.failed).toBe(0);
      expect(row.perSecond).toBeGreaterThan(0);
      expect(row.probeP50).toBeGreaterThan(0);
      expect(row.probeTtfbP50).toBeGreaterThan(0);
      if (row.target === 'direct') continue;
      expect(row.cpuUsPerRequest).toBeGreaterThan(0);
      expect(row.rssLoadMb).toBeGreaterThan(0);
      expect(Number.isFinite(row.addedP50)).toBe(true);
    }
  });

  it('should hold every stream open at once through every proxy when measuring memory and lag', () => {
    expect(result.memory.map((m) => m.target).sort()).toEqual([...PROXIES].sort());
    for (const m of result.memory) {
      expect(m).toMatchObject({ opened: result.options.streams, completed: result.options.streams });
      expect(m.rssIdleMb).toBeGreaterThan(0);
      expect(m.rssOpenMb).toBeGreaterThan(0);
      expect(m.pingOpen.p99).toBeGreaterThan(0);
    }
    expect(result.targets.map((t) => Number.isFinite(t.measured))).not.toContain(false);
    expect(result.notes.join('\n')).toMatch(/mana-llm wrote [1-9]\d* log lines at info/);
  });
});
