import { Logger, LoggerService } from '@nestjs/common';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ManaLlmOptions } from '../mana-llm.options';
import { resolveOptions } from '../resolve-options';
import { AliasCatalog } from './alias-catalog';
import { parseAliasesYaml } from './alias-file.parser';

class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: string) {
    this.lines.push({ level: 'log', message });
  }
  error(message: string) {
    this.lines.push({ level: 'error', message });
  }
  warn(message: string) {
    this.lines.push({ level: 'warn', message });
  }
}

const GOOD = `aliases:
  mana/fast-text:
    description: Short answers
    chain: [groq/llama-3.1-8b-instant, ollama/gemma3:4b]
`;
const EDITED = `aliases:
  mana/fast-text:
    description: Short answers, now local first
    chain: [ollama/gemma3:4b]
  mana/new:
    chain: [ollama/qwen3:8b]
`;

const until = async (check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe(AliasCatalog.name, () => {
  describe('validation', () => {
    const invalid: [string, string, string][] = [
      ['the text is not YAML', 'aliases:\n  mana/x: [', 'is not valid YAML'],
      ['an alias id appears twice', `${GOOD}  mana/fast-text:\n    chain: [ollama/a]\n`, 'is not valid YAML'],
      ['the file is empty', '', "expected a mapping 'aliases:"],
      ['the root is a list', '- mana/x\n', "expected a mapping 'aliases:"],
      ['there is no aliases key', 'alias:\n  mana/x: {chain: [ollama/a]}\n', "expected a mapping 'aliases:"],
      ['aliases is a list', 'aliases: [mana/x]\n', "'aliases' must be a mapping"],
      ['there is another top-level key', `${GOOD}version: 2\n`, "unknown top-level key 'version'"],
      [
        'an id lacks the mana/ prefix',
        'aliases:\n  fast: {chain: [ollama/a]}\n',
        "alias 'fast': ids must be 'mana/<name>'",
      ],
      [
        'an id is only the prefix',
        "aliases:\n  'mana/': {chain: [ollama/a]}\n",
        "alias 'mana/': ids must be",
      ],
      ['an id has a space', "aliases:\n  'mana/a b': {chain: [ollama/a]}\n", "alias 'mana/a b': ids must be"],
      ['an alias is not a mapping', 'aliases:\n  mana/x: ollama/a\n', "alias 'mana/x': expected a mapping"],
      ['an alias has an unknown key', 'aliases:\n  mana/x: {chian: [ollama/a]}\n', "unknown key 'chian'"],
      [
        'a description is not a string',
        'aliases:\n  mana/x: {description: 5, chain: [ollama/a]}\n',
        "'description' must be a string",
      ],
      ['the chain is missing', 'aliases:\n  mana/x: {description: d}\n', "'chain' must be a non-empty list"],
      ['the chain is empty', 'aliases:\n  mana/x: {chain: []}\n', "'chain' must be a non-empty list"],
      [
        'the chain is a string',
        'aliases:\n  mana/x: {chain: ollama/a}\n',
        "'chain' must be a non-empty list",
      ],
      [
        'an entry is not a string',
        'aliases:\n  mana/x: {chain: [5]}\n',
        "chain[0] must be a string 'provider/model' (got 5)",
      ],
      [
        'an entry has no provider',
        'aliases:\n  mana/x: {chain: [gemma3:4b]}\n',
        "chain[0] 'gemma3:4b' must be a concrete 'provider/model'",
      ],
      [
        'an entry names an unknown provider',
        'aliases:\n  mana/x: {chain: [foo/bar]}\n',
        "names an unknown provider 'foo'",
      ],
      ['an entry is an alias', 'aliases:\n  mana/x: {chain: [mana/y]}\n', "'mana/y' is an alias"],
      ['an entry names no model', "aliases:\n  mana/x: {chain: ['groq/']}\n", "names no model after 'groq/'"],
      ['an entry has a space', "aliases:\n  mana/x: {chain: ['groq/llama 3']}\n", 'must not contain spaces'],
      [
        'an entry is listed twice',
        'aliases:\n  mana/x: {chain: [ollama/a, groq/b, ollama/a]}\n',
        "chain[2] 'ollama/a' is listed twice",
      ],
    ];

    it.each(invalid)('should reject the file when %s', (_what, text, expected) => {
      expect(() => parseAliasesYaml(text, 'aliases.yaml')).toThrow(expected);
    });

    it('should list every problem in one error when several aliases are wrong', () => {
      const text = 'aliases:\n  fast: {chain: [ollama/a]}\n  mana/x: {chain: [gemma3:4b, foo/bar]}\n';
      expect(() => parseAliasesYaml(text, 'aliases.yaml')).toThrow(
        [
          'aliases.yaml is invalid:',
          "  - alias 'fast': ids must be 'mana/<name>' without spaces",
          "  - alias 'mana/x': chain[0] 'gemma3:4b' must be a concrete 'provider/model' (e.g. 'ollama/gemma3:4b')",
          "  - alias 'mana/x': chain[1] 'foo/bar' names an unknown provider 'foo'",
        ].join('\n'),
      );
    });

    it('should keep Ollama models with slashes and the file order when the file is valid', () => {
      const text =
        "aliases:\n  mana/b: {chain: ['ollama/hf.co/org/model:Q4_K_M']}\n  mana/a: {chain: [groq/x]}\n  mana/empty-ok: {chain: [ollama/y]}\n";
      const aliases = parseAliasesYaml(text, 'aliases.yaml');
      expect([...aliases.keys()]).toEqual(['mana/b', 'mana/a', 'mana/empty-ok']);
      expect(aliases.get('mana/b')).toEqual({
        id: 'mana/b',
        description: '',
        chain: [
          { provider: 'ollama', model: 'hf.co/org/model:Q4_K_M', label: 'ollama/hf.co/org/model:Q4_K_M' },
        ],
      });
    });

    it('should accept an explicitly empty aliases mapping', () => {
      expect(parseAliasesYaml('aliases: {}\n', 'aliases.yaml').size).toBe(0);
    });

    it('should ship the five SPEC aliases, each ending on an Ollama model', () => {
      const shipped = resolve(__dirname, '../../../aliases.yaml');
      const aliases = parseAliasesYaml(readFileSync(shipped, 'utf8'), shipped);
      expect([...aliases.keys()]).toEqual([
        'mana/fast-text',
        'mana/long-form',
        'mana/structured',
        'mana/reasoning',
        'mana/vision',
      ]);
      for (const alias of aliases.values()) {
        expect(alias.description.length).toBeGreaterThan(0);
        expect(alias.chain[alias.chain.length - 1].provider).toBe('ollama');
      }
    });
  });

  describe('file', () => {
    let dir: string;
    let logger: CapturingLogger;
    const catalogs: AliasCatalog[] = [];

    const open = (aliases: ManaLlmOptions['aliases']): AliasCatalog => {
      const catalog = new AliasCatalog(resolveOptions({ aliases }));
      catalogs.push(catalog);
      return catalog;
    };

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'mana-aliases-'));
      logger = new CapturingLogger();
      Logger.overrideLogger(logger);
    });
    afterEach(() => {
      for (const c of catalogs.splice(0)) c.onModuleDestroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it('should stop the boot with the file and the problem when the file is broken', () => {
      const path = join(dir, 'aliases.yaml');
      writeFileSync(path, 'aliases:\n  mana/x: {chain: [gemma3:4b]}\n');
      expect(() => open({ path, required: true })).toThrow(
        `aliases file ${path} is invalid:\n  - alias 'mana/x': chain[0]`,
      );
    });

    it('should stop the boot when an explicitly configured file is missing', () => {
      const path = join(dir, 'nope.yaml');
      expect(() => open({ path, required: true })).toThrow(
        `aliases file ${path} does not exist (ALIASES_PATH)`,
      );
    });

    it('should start without aliases and warn when the default file is missing', () => {
      const catalog = open({ path: join(dir, 'aliases.yaml'), required: false });
      expect(catalog.list()).toEqual([]);
      expect(logger.lines).toEqual([
        { level: 'warn', message: expect.stringContaining('no aliases file at') },
      ]);
    });

    it('should take inline aliases when the options carry them', () => {
      const catalog = open({ inline: { 'mana/x': { description: 'd', chain: ['ollama/a'] } } });
      expect(catalog.get('mana/x')?.chain[0].label).toBe('ollama/a');
      expect(() => open({ inline: { x: { chain: ['ollama/a'] } } })).toThrow('the aliases option is invalid');
    });

    it('should swap in the edited file when reload is called', () => {
      const path = join(dir, 'aliases.yaml');
      writeFileSync(path, GOOD);
      const catalog = open({ path, required: true });
      writeFileSync(path, EDITED);
      expect(catalog.reload()).toBe(true);
      expect(catalog.list().map((a) => a.id)).toEqual(['mana/fast-text', 'mana/new']);
      expect(catalog.get('mana/fast-text')?.description).toBe('Short answers, now local first');
    });

    it('should keep the last good aliases and log why when the reloaded file is broken', () => {
      const path = join(dir, 'aliases.yaml');
      writeFileSync(path, GOOD);
      const catalog = open({ path, required: true });
      writeFileSync(path, 'aliases:\n  mana/x: {chain: [foo/bar]}\n');
      expect(catalog.reload()).toBe(false);
      expect(catalog.get('mana/fast-text')?.chain.map((e) => e.label)).toEqual([
        'groq/llama-3.1-8b-instant',
        'ollama/gemma3:4b',
      ]);
      expect(catalog.get('mana/x')).toBeUndefined();
      const error = logger.lines.find((l) => l.level === 'error');
      expect(error?.message).toContain('keeping the previous 1 aliases');
      expect(error?.message).toContain("names an unknown provider 'foo'");
    });

    it('should keep the last good aliases when the file vanished at reload', () => {
      const path = join(dir, 'aliases.yaml');
      writeFileSync(path, GOOD);
      const catalog = open({ path, required: true });
      rmSync(path);
      expect(catalog.reload()).toBe(false);
      expect(catalog.get('mana/fast-text')).toBeDefined();
    });

    it('should reload on SIGHUP while the module lives and not after it is destroyed', () => {
      const path = join(dir, 'aliases.yaml');
      writeFileSync(path, GOOD);
      const catalog = open({ path, required: true, watchIntervalMs: 60_000 });
      catalog.onModuleInit();
      writeFileSync(path, EDITED);
      process.emit('SIGHUP', 'SIGHUP');
      expect(catalog.get('mana/new')).toBeDefined();
      expect(
        logger.lines.some((l) => l.message.includes('reloaded 2 aliases') && l.message.includes('(SIGHUP)')),
      ).toBe(true);
      catalog.onModuleDestroy();
      writeFileSync(path, GOOD);
      process.emit('SIGHUP', 'SIGHUP');
      expect(catalog.get('mana/new')).toBeDefined();
    });

    it('should reload when the watched file changes, and keep the last good state when it breaks', async () => {
      const path = join(dir, 'aliases.yaml');
      writeFileSync(path, GOOD);
      const catalog = open({ path, required: true, watchIntervalMs: 20 });
      catalog.onModuleInit();
      writeFileSync(path, EDITED);
      await until(() => catalog.get('mana/new') !== undefined);
      writeFileSync(path, 'aliases:\n  mana/broken: {chain: []}\n');
      await until(() => logger.lines.some((l) => l.level === 'error'));
      expect(catalog.list().map((a) => a.id)).toEqual(['mana/fast-text', 'mana/new']);
    });

    it('should reload when a ConfigMap-style symlink swap replaces the file', async () => {
      // Kubernetes mounts <dir>/aliases.yaml -> ..data/aliases.yaml, ..data -> ..<timestamp>/ and
      // updates by pointing ..data at a new directory (an atomic rename of a symlink).
      mkdirSync(join(dir, '..v1'));
      writeFileSync(join(dir, '..v1', 'aliases.yaml'), GOOD);
      symlinkSync('..v1', join(dir, '..data'));
      symlinkSync(join('..data', 'aliases.yaml'), join(dir, 'aliases.yaml'));
      const catalog = open({ path: join(dir, 'aliases.yaml'), required: true, watchIntervalMs: 20 });
      catalog.onModuleInit();
      mkdirSync(join(dir, '..v2'));
      writeFileSync(join(dir, '..v2', 'aliases.yaml'), EDITED);
      symlinkSync('..v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      await until(() => catalog.get('mana/new') !== undefined);
      expect(catalog.get('mana/fast-text')?.chain.map((e) => e.label)).toEqual(['ollama/gemma3:4b']);
    });
  });
});
