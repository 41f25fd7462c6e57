import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { runInNewContext, Script } from 'node:vm';
import { parse, parseAllDocuments } from 'yaml';
import { loadGatewayConfig } from '../../src/config/gateway-config';
import { parseAliasesYaml } from '../../src/core/routing/alias-file.parser';

const ROOT = resolve(__dirname, '../..');
const DIR = join(ROOT, 'deploy/kubernetes');

type Obj = Record<string, unknown>;
interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Obj;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  tcpSocket?: { port: string | number };
}
interface Container {
  name: string;
  image: string;
  ports: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { secretRef?: { name: string; optional?: boolean } }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Obj;
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string; items?: { key: string; path: string }[] } }[];
}
interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

function loadDir(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      out.push({ file, ...(doc.toJS() as Omit<Manifest, 'file'>) });
    }
  }
  return out;
}

const manifests = loadDir();
const find = (kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
};
const deployment = find('Deployment', 'mana-llm');
const spec = deployment.spec as unknown as DeploymentSpec;
const pod = spec.template.spec;
const container = pod.containers.find((c) => c.name === 'mana-llm') as Container;
const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));

/** `selector` picks the pods with `labels` (every selector pair present). */
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A probe's or Service's port (a name or a number) as the container port number. */
function containerPort(port: string | number | undefined, c: Container = container): number | undefined {
  if (typeof port === 'number') return c.ports.find((p) => p.containerPort === port)?.containerPort;
  return c.ports.find((p) => p.name === port)?.containerPort;
}

/** Seconds a preStop command pauses: `sleep N` or `node -e "setTimeout(...,ms)"`. */
function preStopSeconds(command: string[]): number {
  if (command[0] === 'sleep' || command[0].endsWith('/sleep')) return Number(command[1]);
  if (command[0] === 'node' && command[1] === '-e') {
    new Script(command[2]); // throws on a syntax error
    const m = /setTimeout\([^,]+,\s*(\d+)\s*\)/.exec(command[2]);
    if (m) return Number(m[1]) / 1000;
  }
  throw new Error(`unrecognised preStop command ${JSON.stringify(command)}`);
}

describe('deploy/kubernetes', () => {
  it('should give every manifest an apiVersion, kind and name, and list each in kustomization.yaml except the Secret example', () => {
    for (const m of manifests) {
      expect(m.apiVersion).toMatch(/^[a-z0-9./]+$/);
      expect(m.kind).toMatch(/^[A-Z]\w+$/);
      expect(m.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
      images: { name: string }[];
    };
    const files = [...new Set(manifests.map((m) => m.file))].sort();
    expect([...kustomization.resources, 'secret.example.yaml'].sort()).toEqual(files);
    expect(kustomization.images.map((i) => i.name)).toContain(container.image);
  });

  it('should run several replicas of a Deployment whose selector matches its pod labels', () => {
    expect(deployment.apiVersion).toBe('apps/v1');
    expect(spec.replicas).toBeGreaterThanOrEqual(2);
    expect(selects(spec.selector.matchLabels, spec.template.metadata.labels)).toBe(true);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 3025, protocol: 'TCP' }]);
    expect(Number(env.PORT)).toBe(3025);
  });

  it('should probe liveness on /health/live and readiness on /health/ready at the container port', () => {
    expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
    expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(container.startupProbe?.httpGet?.path).toBe('/health/live');
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(containerPort(probe?.httpGet?.port)).toBe(Number(env.PORT));
    }
  });

  it('should allow the preStop pause plus SHUTDOWN_GRACE and time to close within terminationGracePeriodSeconds', () => {
    const command = container.lifecycle?.preStop?.exec?.command ?? [];
    const pause = preStopSeconds(command);
    expect(pause).toBeGreaterThanOrEqual(3);
    const config = loadGatewayConfig(env);
    expect(config.shutdownGraceMs).toBe(30_000);
    expect(config.shutdownDelayMs).toBeLessThan(config.shutdownGraceMs);
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    // At least 5 s left for app.close() (probe timer, Redis) after the drain.
    expect(grace).toBeGreaterThanOrEqual(pause + config.shutdownGraceMs / 1000 + 5);
  });

  it('should run a preStop command that is a working pause when no sleep binary exists', () => {
    const [node, flag, code] = container.lifecycle?.preStop?.exec?.command ?? [];
    expect([node, flag]).toEqual(['node', '-e']);
    const timers: number[] = [];
    runInNewContext(code, { setTimeout: (_fn: () => void, ms: number) => timers.push(ms) });
    expect(timers).toEqual([5000]);
  });

  it('should set resource requests (the HPA needs cpu) and a memory limit, and run as the image non-root user', () => {
    expect(container.resources?.requests?.cpu).toMatch(/^\d+m?$/);
    expect(container.resources?.requests?.memory).toMatch(/^\d+(Mi|Gi)$/);
    expect(container.resources?.limits?.memory).toMatch(/^\d+(Mi|Gi)$/);
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    const dockerUser = /^USER\s+(\d+)/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    expect(pod.securityContext?.runAsUser).toBe(Number(dockerUser?.[1]));
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
  });

  it('should take a configuration the gateway accepts, with every replica on the one Redis Service', () => {
    const config = loadGatewayConfig(env);
    expect(config.cache.store).toBe('redis');
    const redisUrl = new URL(env.REDIS_URL);
    const redisService = find('Service', redisUrl.hostname);
    const redisPort = (redisService.spec as { ports: { port: number; targetPort: string }[] }).ports[0];
    expect(redisPort.port).toBe(Number(redisUrl.port));
    const redis = find('Deployment', redisUrl.hostname).spec as unknown as DeploymentSpec;
    expect(redis.replicas).toBe(1);
    expect(
      selects(
        (redisService.spec as { selector: Record<string, string> }).selector,
        redis.template.metadata.labels,
      ),
    ).toBe(true);
    expect(containerPort(redisPort.targetPort, redis.template.spec.containers[0])).toBe(6379);
  });

  it('should mount the aliases ConfigMap as a directory at dirname(ALIASES_PATH) with its key at the file name', () => {
    const path = env.ALIASES_PATH;
    expect(path).toMatch(/^\//);
    const mount = container.volumeMounts?.find((v) => v.mountPath === dirname(path));
    expect(mount).toBeDefined();
    expect(mount?.subPath).toBeUndefined(); // subPath mounts never see ConfigMap updates
    const volume = pod.volumes?.find((v) => v.name === mount?.name);
    const configMap = find('ConfigMap', volume?.configMap?.name ?? '');
    const item = volume?.configMap?.items?.find((i) => i.path === basename(path));
    expect(item).toBeDefined();
    expect(Object.keys(configMap.data ?? {})).toContain(item?.key);
  });

  it('should ship in the ConfigMap the aliases of the repository aliases.yaml, valid for the gateway', () => {
    const configMap = find('ConfigMap', 'mana-llm-aliases');
    const shipped = parseAliasesYaml(readFileSync(join(ROOT, 'aliases.yaml'), 'utf8'), 'aliases.yaml');
    const mounted = parseAliasesYaml(configMap.data?.['aliases.yaml'] ?? '', 'configmap');
    expect([...mounted.entries()]).toEqual([...shipped.entries()]);
    expect([...mounted.keys()]).toEqual([
      'mana/fast-text',
      'mana/long-form',
      'mana/structured',
      'mana/reasoning',
      'mana/vision',
    ]);
  });

  it('should route the Service to the gateway pods on the named http port', () => {
    const service = find('Service', 'mana-llm').spec as {
      selector: Record<string, string>;
      ports: { port: number; targetPort: string | number }[];
    };
    expect(selects(service.selector, spec.template.metadata.labels)).toBe(true);
    expect(containerPort(service.ports[0].targetPort)).toBe(3025);
  });

  it('should scale the Deployment with an autoscaling/v2 HPA on CPU from at least two replicas', () => {
    const hpa = find('HorizontalPodAutoscaler', 'mana-llm');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    const h = hpa.spec as {
      scaleTargetRef: { apiVersion: string; kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: {
        type: string;
        resource: { name: string; target: { type: string; averageUtilization: number } };
      }[];
    };
    expect(h.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'mana-llm' });
    expect(h.minReplicas).toBeGreaterThanOrEqual(2);
    expect(h.maxReplicas).toBeGreaterThan(h.minReplicas);
    expect(h.minReplicas).toBeLessThanOrEqual(spec.replicas);
    expect(h.metrics).toContainEqual(
      expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }),
    );
  });

  it('should keep all but one pod through voluntary disruptions with a policy/v1 PDB selecting the gateway pods', () => {
    const pdb = find('PodDisruptionBudget', 'mana-llm');
    expect(pdb.apiVersion).toBe('policy/v1');
    const p = pdb.spec as { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
    expect(p.maxUnavailable).toBe(1);
    expect(selects(p.selector.matchLabels, spec.template.metadata.labels)).toBe(true);
  });

  it('should hold no real key in the Secret example, and name only variables the gateway reads', () => {
    const secret = find('Secret', 'mana-llm-secrets');
    expect(Object.values(secret.stringData ?? {}).every((v) => v === '')).toBe(true);
    expect(Object.keys(secret.stringData ?? {}).sort()).toEqual(
      [
        'GROQ_API_KEY',
        'MANA_LLM_API_KEYS',
        'OPENAI_API_KEY',
        'OPENROUTER_API_KEY',
        'TOGETHER_API_KEY',
      ].sort(),
    );
    // Filled in, the same keys configure the providers and the gateway auth.
    const filled = Object.fromEntries(Object.keys(secret.stringData ?? {}).map((k) => [k, `value-of-${k}`]));
    const config = loadGatewayConfig({ ...env, ...filled });
    expect(config.manaLlm.apiKeys).toEqual(['value-of-MANA_LLM_API_KEYS']);
    expect(config.manaLlm.groq?.apiKey).toBe('value-of-GROQ_API_KEY');
    expect(container.envFrom).toEqual([{ secretRef: { name: secret.metadata.name, optional: true } }]);
  });
});
