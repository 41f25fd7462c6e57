import { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createGateway } from '../../src/bootstrap';
import { AliasCatalog } from '../../src/core/routing/alias-catalog';
import { FakeUpstream } from '../support/fake-upstream';
import { RunningGateway, startGateway } from '../support/gateway';
import { startServiceProcess } from '../support/service-process';
import { rawRequest } from '../support/sse-client';
import { AliasesFile, chatBody, env, GROQ_PATH, replies, until } from './fallback.harness';

const GROQ = 'groq/llama-3.3-70b-versatile';
const FIRST = `aliases:
  mana/a:
    description: Alias A
    chain: [openai/gpt-4o-mini, ${GROQ}, ollama/llama3.2]
  mana/cloud-only:
    chain: [openai/gpt-4o-mini, together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo]
`;
const EDITED = `aliases:
  mana/a:
    description: Alias A, local now
    chain: [ollama/llama3.2]
  mana/new:
    description: Added later
    chain: [ollama/llama3.2]
`;
const BROKEN = `aliases:
  mana/a:
    chain: [llama3.2]
`;

interface AliasList {
  object: string;
  data: { id: string; description: string; chain: string[]; resolves_to: string | null }[];
}

/** The real service with its log lines captured (JSON lines from pino). */
async function startLogged(envVars: Record<string, string>): Promise<RunningGateway & { logs: string[] }> {
  const logs: string[] = [];
  const gateway = await createGateway(
    { LOG_LEVEL: 'info', ...envVars },
    { forceCloseConnections: true, logDestination: { write: (line: string) => void logs.push(line) } },
  );
  await gateway.app.listen(0, '127.0.0.1');
  const { port } = gateway.app.getHttpServer().address() as AddressInfo;
  return { ...gateway, url: `http://127.0.0.1:${port}`, close: () => gateway.app.close(), logs };
}

/** Boots the service but throws its log lines away (a failing boot logs its stack). */
const bootQuietly = (envVars: Record<string, string>) =>
  createGateway({ LOG_LEVEL: 'error', ...envVars }, { logDestination: { write: () => undefined } });

describe('aliases', () => {
  let groq: FakeUpstream;
  let ollama: FakeUpstream;
  let file: AliasesFile;
  let gateway: RunningGateway | undefined;

  const list = async (): Promise<AliasList> => {
    const res = await rawRequest(`${gateway!.url}/v1/aliases`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    return JSON.parse(res.body) as AliasList;
  };
  const ids = async () => (await list()).data.map((a) => a.id);

  beforeEach(async () => {
    [groq, ollama] = await Promise.all([FakeUpstream.start(), FakeUpstream.start()]);
    ollama.on('POST', '/api/chat', replies.ollamaJson());
    file = new AliasesFile(FIRST);
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await Promise.all([groq.close(), ollama.close()]);
    file.remove();
  });

  it('should list every alias with its chain and the entry it resolves to right now', async () => {
    gateway = await startGateway({ OLLAMA_URL: ollama.url, ...env.groq(groq), ALIASES_PATH: file.path });
    expect(await list()).toEqual({
      object: 'list',
      data: [
        {
          id: 'mana/a',
          description: 'Alias A',
          chain: ['openai/gpt-4o-mini', GROQ, 'ollama/llama3.2'],
          resolves_to: GROQ,
        },
        {
          id: 'mana/cloud-only',
          description: '',
          chain: ['openai/gpt-4o-mini', 'together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo'],
          resolves_to: null,
        },
      ],
    });
  });

  it('should resolve to the next entry when the first configured provider turned unhealthy', async () => {
    groq.on('POST', GROQ_PATH, replies.openai500());
    gateway = await startGateway({ OLLAMA_URL: ollama.url, ...env.groq(groq), ALIASES_PATH: file.path });
    for (let i = 0; i < 2; i++) {
      const res = await rawRequest(`${gateway.url}/v1/chat/completions`, { body: chatBody(GROQ) });
      expect(res.status).toBe(502);
    }
    expect((await list()).data[0].resolves_to).toBe('ollama/llama3.2');
  });

  it('should resolve every shipped alias to its Ollama entry when no API key is set', async () => {
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      ALIASES_PATH: resolve(__dirname, '../../aliases.yaml'),
    });
    const { data } = await list();
    expect(data.map((a) => a.id)).toEqual([
      'mana/fast-text',
      'mana/long-form',
      'mana/structured',
      'mana/reasoning',
      'mana/vision',
    ]);
    for (const alias of data) {
      expect(alias.chain[alias.chain.length - 1].startsWith('ollama/')).toBe(true);
      expect(alias.resolves_to).toBe(alias.chain[alias.chain.length - 1]);
    }
  });

  it('should need the gateway key when gateway auth is on', async () => {
    gateway = await startGateway({
      OLLAMA_URL: ollama.url,
      ALIASES_PATH: file.path,
      MANA_LLM_API_KEYS: 'key-one',
    });
    const denied = await rawRequest(`${gateway.url}/v1/aliases`);
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.body)).toMatchObject({ error: { code: 'invalid_api_key' } });
    const allowed = await rawRequest(`${gateway.url}/v1/aliases`, {
      headers: { authorization: 'Bearer key-one' },
    });
    expect(allowed.status).toBe(200);
    expect((JSON.parse(allowed.body) as AliasList).data.map((a) => a.id)).toEqual([
      'mana/a',
      'mana/cloud-only',
    ]);
  });

  it('should answer 404 for an alias that does not exist', async () => {
    gateway = await startGateway({ OLLAMA_URL: ollama.url, ALIASES_PATH: file.path });
    const res = await rawRequest(`${gateway.url}/v1/chat/completions`, { body: chatBody('mana/nope') });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
  });

  it('should stop the boot with a clear message when the file is broken', async () => {
    file.write(BROKEN);
    await expect(bootQuietly({ OLLAMA_URL: ollama.url, ALIASES_PATH: file.path })).rejects.toThrow(
      `aliases file ${file.path} is invalid:\n  - alias 'mana/a': chain[0] 'llama3.2' must be a concrete 'provider/model'`,
    );
  });

  it('should stop the boot when ALIASES_PATH names a missing file', async () => {
    const missing = `${file.dir}/missing.yaml`;
    await expect(bootQuietly({ OLLAMA_URL: ollama.url, ALIASES_PATH: missing })).rejects.toThrow(
      `aliases file ${missing} does not exist (ALIASES_PATH)`,
    );
  });

  it('should exit 1 with the reason when the built service boots with a broken file', async () => {
    file.write(BROKEN);
    const failure = (await startServiceProcess({ OLLAMA_URL: ollama.url, ALIASES_PATH: file.path }).catch(
      (err: Error) => err,
    )) as Error;
    expect(failure.message).toContain('service exited (1) before listening');
    expect(failure.message).toContain(`mana-llm failed to start: aliases file ${file.path} is invalid:`);
    expect(failure.message).toContain("chain[0] 'llama3.2' must be a concrete 'provider/model'");
  });

  // Jest gives test code a sandboxed `process` that never sees a real signal, so here the SIGHUP
  // event is emitted on it; the real `kill -HUP` is sent to the built service in the last test.
  it('should reload an edited file on SIGHUP and keep the last good state when the file is broken', async () => {
    const logged = await startLogged({
      OLLAMA_URL: ollama.url,
      ALIASES_PATH: file.path,
      ALIASES_WATCH_INTERVAL: '600',
    });
    gateway = logged;
    file.write(EDITED);
    process.emit('SIGHUP', 'SIGHUP');
    await until(async () => (await ids()).includes('mana/new'));
    expect((await list()).data[0]).toEqual({
      id: 'mana/a',
      description: 'Alias A, local now',
      chain: ['ollama/llama3.2'],
      resolves_to: 'ollama/llama3.2',
    });
    const chat = await rawRequest(`${gateway.url}/v1/chat/completions`, { body: chatBody('mana/new') });
    expect(chat.headers['x-mana-llm-resolved']).toBe('ollama/llama3.2');

    file.write(BROKEN);
    process.emit('SIGHUP', 'SIGHUP');
    await until(() => logged.logs.some((l) => l.includes('alias reload (SIGHUP) failed')));
    const failure = logged.logs.find((l) => l.includes('alias reload (SIGHUP) failed')) ?? '';
    expect(failure).toContain('keeping the previous 2 aliases');
    expect(failure).toContain("chain[0] 'llama3.2' must be a concrete 'provider/model'");
    expect(await ids()).toEqual(['mana/a', 'mana/new']);
    expect(gateway.app.get(AliasCatalog).reload()).toBe(false);
  });

  it('should reload when the file changes, without a signal', async () => {
    const logged = await startLogged({
      OLLAMA_URL: ollama.url,
      ALIASES_PATH: file.path,
      ALIASES_WATCH_INTERVAL: '0.05',
    });
    gateway = logged;
    file.write(EDITED);
    await until(async () => (await ids()).includes('mana/new'));
    file.write(BROKEN);
    await until(() => logged.logs.some((l) => l.includes('alias reload (file change) failed')));
    expect(await ids()).toEqual(['mana/a', 'mana/new']);
    file.write(FIRST);
    await until(async () => (await ids()).includes('mana/cloud-only'));
  });

  it('should reload on kill -HUP in the built service, keep the last good state on a broken file and keep serving', async () => {
    const service = await startServiceProcess({
      OLLAMA_URL: ollama.url,
      ALIASES_PATH: file.path,
      ALIASES_WATCH_INTERVAL: '600',
    });
    try {
      file.write(EDITED);
      service.signal('SIGHUP');
      await until(async () => {
        const res = await rawRequest(`${service.url}/v1/aliases`);
        return (JSON.parse(res.body) as AliasList).data.some((a) => a.id === 'mana/new');
      });
      expect(service.output()).toContain('reloaded 2 aliases');

      file.write(BROKEN);
      service.signal('SIGHUP');
      await until(() => service.output().includes('alias reload (SIGHUP) failed'));
      const after = JSON.parse((await rawRequest(`${service.url}/v1/aliases`)).body) as AliasList;
      expect(after.data.map((a) => a.id)).toEqual(['mana/a', 'mana/new']);
      expect((await rawRequest(`${service.url}/health/live`)).status).toBe(200);
    } finally {
      await service.kill();
    }
  });
});
