import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadGatewayConfig } from '../../src/config/gateway-config';

const ROOT = resolve(__dirname, '../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  steps: Instruction[];
}

/** Dockerfile → stages of instructions (comments dropped, `\` continuations joined, ARGs before FROM applied). */
function parseDockerfile(text: string): { stages: Stage[]; globalArgs: Record<string, string> } {
  const logical = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const instruction = { op: op.toUpperCase(), args: args.trim() };
    if (instruction.op === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      expect(as?.toUpperCase()).toBe('AS');
      const from = image.replace(/\$\{(\w+)\}/g, (_, v: string) => globalArgs[v] ?? '');
      stages.push({ name, from, steps: [] });
    } else if (stages.length === 0 && instruction.op === 'ARG') {
      const [key, value] = instruction.args.split('=');
      globalArgs[key] = value;
    } else {
      stages[stages.length - 1].steps.push(instruction);
    }
  }
  return { stages, globalArgs };
}

const { stages } = parseDockerfile(read('Dockerfile'));
const runtime = stages[stages.length - 1];
const all = (stage: Stage, op: string) => stage.steps.filter((s) => s.op === op).map((s) => s.args);
const execForm = (args: string) => JSON.parse(args) as string[];
const healthcheckCommand = (): string[] => {
  const [args] = all(runtime, 'HEALTHCHECK');
  return execForm(args.slice(args.indexOf('CMD ') + 4));
};

/** Runs the image's HEALTHCHECK command (it is `node -e ...`) against a port. */
function runHealthcheck(port: number): Promise<number> {
  const [cmd, ...args] = healthcheckCommand();
  expect(cmd).toBe('node');
  return new Promise((done) => {
    execFile(process.execPath, args, { env: { PORT: String(port) }, timeout: 10_000 }, (err) =>
      done(err ? ((err as { code?: number }).code ?? -1) : 0),
    );
  });
}

describe('Dockerfile', () => {
  it('should build in stages from a current Node LTS image, with dev dependencies only in the build stage', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    for (const stage of stages) {
      const [, major] = /^node:(\d+)-(?:alpine|bookworm-slim)$/.exec(stage.from) ?? [];
      expect(Number(major)).toBeGreaterThanOrEqual(22); // package.json needs >= 20; 22 is the LTS line
    }
    const build = stages[0];
    expect(all(build, 'RUN')).toEqual(['npm ci --no-audit --no-fund', 'npm run build']);
    const deps = stages[1];
    expect(all(deps, 'RUN')[0]).toMatch(/^npm ci --omit=dev\b/);
    expect(all(runtime, 'COPY')).toEqual([
      '--from=deps /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
      'package.json aliases.yaml ./',
    ]);
    expect(all(runtime, 'RUN')).toEqual([]); // nothing installed or compiled in the final image
  });

  it('should run the final image as a non-root user in production mode on port 3025', () => {
    const users = all(runtime, 'USER');
    expect(users).toHaveLength(1);
    const [user] = users[0].split(':');
    expect(['root', '0']).not.toContain(user);
    expect(runtime.steps[runtime.steps.length - 1].op).toBe('CMD');
    const env = all(runtime, 'ENV').join(' ');
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(all(runtime, 'EXPOSE')).toEqual(['3025']);
    expect(env).toMatch(/\bPORT=3025\b/);
  });

  it('should start node itself as PID 1 in exec form, without npm or a shell', () => {
    expect(all(runtime, 'ENTRYPOINT')).toEqual([]);
    const cmds = all(runtime, 'CMD');
    expect(cmds).toHaveLength(1);
    expect(execForm(cmds[0])).toEqual(['node', 'dist/main.js']);
    expect(existsSync(join(ROOT, 'src/main.ts'))).toBe(true);
  });

  it('should declare a HEALTHCHECK on /health/live run by node (no curl in slim images)', () => {
    const [args] = all(runtime, 'HEALTHCHECK');
    expect(args).toMatch(/--interval=\d+s/);
    expect(args).toMatch(/--timeout=\d+s/);
    const command = healthcheckCommand();
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain("path:'/health/live'");
  });

  describe('HEALTHCHECK command', () => {
    let server: Server;
    let status = 200;
    beforeAll(async () => {
      server = createServer((req, res) => {
        res.writeHead(req.url === '/health/live' ? status : 404).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('should exit 0 when /health/live answers 200 and 1 when it answers 503 or nothing listens', async () => {
      const { port } = server.address() as AddressInfo;
      status = 200;
      expect(await runHealthcheck(port)).toBe(0);
      status = 503;
      expect(await runHealthcheck(port)).toBe(1);
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const freePort = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      expect(await runHealthcheck(freePort)).toBe(1);
    });
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  const ignored = (path: string) => {
    let out = false;
    for (const p of patterns) {
      const negate = p.startsWith('!');
      const glob = negate ? p.slice(1) : p;
      const re = new RegExp(
        '^' +
          glob
            .replace(/[.+^${}()|[\]]/g, '\\$&')
            .replace(/\*\*\//g, '(.*/)?')
            .replace(/\*/g, '[^/]*') +
          '(/.*)?$',
      );
      if (re.test(path)) out = !negate;
    }
    return out;
  };

  it('should keep secrets, dependencies and build output out of the build context', () => {
    for (const path of [
      '.env',
      '.env.local',
      'node_modules',
      'node_modules/x/index.js',
      'dist',
      '.git',
      'coverage',
    ])
      expect([path, ignored(path)]).toEqual([path, true]);
  });

  it('should keep every file the Dockerfile copies from the context', () => {
    const sources = stages
      .flatMap((s) => all(s, 'COPY'))
      .filter((args) => !args.startsWith('--from'))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect([...new Set(sources)].sort()).toEqual([
      'aliases.yaml',
      'package-lock.json',
      'package.json',
      'src',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    for (const path of [...sources, 'src/main.ts', 'src/core/chat/chat.service.ts']) {
      expect([path, existsSync(join(ROOT, path)), ignored(path)]).toEqual([path, true, false]);
    }
  });
});

describe('docker-compose.yml', () => {
  type Service = {
    build?: { context: string; target: string };
    image: string;
    env_file?: string | string[];
    environment?: Record<string, string>;
    ports?: string[];
    volumes?: string[];
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test: string[] };
    stop_grace_period?: string;
    command?: string[];
  };
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
  const gateway = compose.services['mana-llm'];
  /** Compose interpolation of `${VAR:-default}` with nothing set. */
  const interpolated = Object.fromEntries(
    Object.entries(gateway.environment ?? {}).map(([k, v]) => [
      k,
      String(v).replace(/\$\{\w+:-([^}]*)\}/g, (_, d: string) => d),
    ]),
  );

  it('should run the gateway from the runtime stage next to a Redis it waits for until healthy', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['mana-llm', 'redis']);
    expect(gateway.build).toEqual({ context: '.', target: runtime.name });
    expect(gateway.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(compose.services.redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(compose.services.redis.image).toMatch(/^redis:7/);
  });

  it('should read .env and hand the gateway a configuration it accepts, with the cache on the redis service', () => {
    expect([gateway.env_file].flat()).toEqual(['.env']);
    const config = loadGatewayConfig(interpolated);
    expect(config.cache).toMatchObject({ store: 'redis', redisUrl: 'redis://redis:6379' });
    expect(config.manaLlm.ollama?.baseUrl).toBe('http://host.docker.internal:11434');
    expect(gateway.ports).toEqual(['${MANA_LLM_PORT:-3025}:3025']);
  });

  it('should mount the repository aliases.yaml read-only at ALIASES_PATH', () => {
    const mount = gateway.volumes?.find((v) => v.startsWith('./aliases.yaml:'));
    expect(mount).toBe(`./aliases.yaml:${interpolated.ALIASES_PATH}:ro`);
    expect(existsSync(join(ROOT, 'aliases.yaml'))).toBe(true);
  });

  it('should give the container longer than SHUTDOWN_GRACE to stop', () => {
    const graceS = loadGatewayConfig(interpolated).shutdownGraceMs / 1000;
    const [, stop] = /^(\d+)s$/.exec(gateway.stop_grace_period ?? '') ?? [];
    expect(Number(stop)).toBeGreaterThan(graceS);
  });
});

describe('docker-compose.dev.yml', () => {
  it('should start Redis only, healthchecked, on the loopback port the default REDIS_URL uses', () => {
    const dev = parse(read('docker-compose.dev.yml')) as {
      services: Record<string, { image: string; ports: string[]; healthcheck: { test: string[] } }>;
    };
    expect(Object.keys(dev.services)).toEqual(['redis']);
    expect(dev.services.redis.ports).toEqual(['127.0.0.1:6379:6379']);
    expect(dev.services.redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });
});
