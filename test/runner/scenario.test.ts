import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { expandCells, parseShard, preflight, shardCells } from '../../src/runner/expand.js';
import { loadScenario, validateScenario, type ScenarioInput } from '../../src/runner/scenario.js';
import { repoRoot } from '../../src/shared-path.js';
import { catalog } from './fake-catalog.js';

const good: ScenarioInput = {
  name: 'x',
  seeds: 2,
  datasets: [{ spec: 'fake:stories', size: 100 }],
  models: ['fake:base'],
  defenses: [{ options: { generator: 'random-tokens', count: 8 } }],
  attacks: ['honest', { id: 'random-subset', options: { fraction: 0.5 } }],
  hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
};

const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('validateScenario', () => {
  it('accepts a good scenario and fills the shorthands', () => {
    const s = validateScenario(good, catalog, 'scenarios/x.ts');
    expect(s.seeds).toEqual([0, 1]);
    expect(s.attacks[0]).toEqual({ id: 'honest', options: {} });
    expect(s.defenses[0]!.id).toBe('vtune');
  });

  it('names an unknown attack with its path and a did-you-mean', () => {
    const msg = errorOf(() => validateScenario({ ...good, attacks: ['honest', 'random-subsets'] }, catalog, 'scenarios/x.ts'));
    expect(msg).toContain("scenarios/x.ts: attacks[1]: unknown attack 'random-subsets'. Did you mean 'random-subset'?");
  });

  it('names a bad option value by its full field path', () => {
    const msg = errorOf(() =>
      validateScenario({ ...good, attacks: ['honest', 'return-base', { id: 'random-subset', options: { fraction: 1.5 } }] }, catalog, 'scenarios/x.ts'),
    );
    expect(msg).toBe('scenarios/x.ts: attacks[2].options.fraction: expected a number in (0, 1], got 1.5');
  });

  it('names a misspelt option', () => {
    const msg = errorOf(() => validateScenario({ ...good, attacks: [{ id: 'random-subset', options: { fracton: 0.5 } }] }, catalog, 'x.json'));
    expect(msg).toMatch(/^x\.json: attacks\[0\]\.options\.fracton: .*Did you mean 'fraction'\?/);
  });

  it('names misspelt top-level and hyper fields, and lists every problem at once', () => {
    const msg = errorOf(() =>
      validateScenario({ ...good, sedes: 3, hyper: { epochs: 0, learningRate: 1e-3, batchSize: 8, lerningRate: 2 } } as unknown as ScenarioInput, catalog, 'x.ts'),
    );
    expect(msg).toContain('3 problems');
    expect(msg).toContain("x.ts: sedes: unknown field 'sedes'. Did you mean 'seeds'?");
    expect(msg).toContain('x.ts: hyper.epochs: expected an integer ≥ 1, got 0');
    expect(msg).toContain("hyper.lerningRate: unknown field 'lerningRate'. Did you mean 'learningRate'?");
  });

  it('checks the provider prefix of models', () => {
    expect(errorOf(() => validateScenario({ ...good, models: ['loca:tiny'] }, catalog))).toContain("models[0]: unknown provider 'loca'");
    expect(errorOf(() => validateScenario({ ...good, models: ['tiny'] }, catalog))).toContain("models[0]: expected '<provider>:<model>'");
  });

  it('loads .json scenarios and rejects broken JSON naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtune-scn-'));
    writeFileSync(join(dir, 'y.json'), JSON.stringify({ ...good, name: 'y' }));
    const { scenario } = await loadScenario(join(dir, 'y.json'), catalog);
    expect(scenario.name).toBe('y');
    writeFileSync(join(dir, 'z.json'), '{"name": ');
    await expect(loadScenario(join(dir, 'z.json'), catalog)).rejects.toThrow(/z\.json: not valid JSON/);
  });

  it('loads a .json scenario saved with a UTF-8 byte order mark', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtune-scn-'));
    writeFileSync(join(dir, 'bom.json'), `\ufeff${JSON.stringify({ ...good, name: 'bom' })}`);
    const { scenario } = await loadScenario(join(dir, 'bom.json'), catalog);
    expect(scenario.name).toBe('bom');
  });

  it('a folder or a .jsonl given as the scenario: says what a scenario is and where the built-ins are', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtune-scn-'));
    writeFileSync(join(dir, 'data.jsonl'), '{"prompt":"p","completion":"c"}\n');
    const builtins = join(repoRoot, 'scenarios');
    await expect(loadScenario(dir, catalog)).rejects.toThrow(ConfigError);
    await expect(loadScenario(dir, catalog)).rejects.toThrow(`${dir}: is a folder, not a scenario file; a scenario is one .ts file`);
    // Every scenario file shipped in scenarios/, sorted (the list grows as scenarios are added).
    const shipped = readdirSync(builtins).filter((f) => /\.(ts|mts|json|js|mjs)$/.test(f)).map((f) => f.replace(/\.[^.]+$/, '')).sort();
    expect(shipped).toEqual(expect.arrayContaining(['default', 'fast', 'full', 'leaderboard', 'long-rows', 'template', 'verifier-power', 'verifiers']));
    await expect(loadScenario(dir, catalog)).rejects.toThrow(`the built-in ones are in ${builtins} (${shipped.join(', ')})`);
    await expect(loadScenario(join(dir, 'data.jsonl'), catalog)).rejects.toThrow(/data\.jsonl: not a scenario file \(a \.jsonl file is a dataset: name it in a scenario's datasets/);
    await expect(loadScenario(join(dir, 'nope.ts'), catalog)).rejects.toThrow(/nope\.ts: no such scenario file; a scenario is one \.ts file/);
  });

  it('a .ts scenario that does not compile: the file, line, column and the syntax error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtune-scn-'));
    const file = join(dir, 'broken.ts');
    writeFileSync(file, "export default {\n  name: 'broken'\n  seeds: 1,\n};\n");
    const err = await loadScenario(file, catalog).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toMatch(/broken\.ts: the scenario does not compile: .*broken\.ts:3:2: ERROR: Expected "}" but found "seeds"/);
    // Through the installed CLI (tsx's loader hooks), where Node reported "Cannot require() ES Module … in a cycle".
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/vtune-bench.js'), 'run', file], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/broken\.ts:3:2: ERROR: Expected "}" but found "seeds"/);
    expect(r.stderr).not.toMatch(/cycle/);
  }, 60_000);
});

describe('preflight (before any cell runs)', () => {
  it('fails on more backdoors than rows, naming the field', async () => {
    const s = validateScenario({ ...good, defenses: [{ options: { count: 150 } }] }, catalog);
    await expect(preflight(s, catalog, 'x.ts')).rejects.toThrow(
      "x.ts: defenses[0].options.count: 150 backdoors is more than the 100 rows of datasets[0] ('fake:stories'); expected at most 100",
    );
  });

  it('fails when a provider lacks its API key, without running anything', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    let ran = 0;
    const counting = { ...catalog, runCell: async () => { ran++; throw new Error('must not run'); } };
    try {
      const s = validateScenario({ ...good, models: ['fake:base', 'openai:gpt-4o-mini'] }, counting);
      await expect(preflight(s, counting, 'x.ts')).rejects.toThrow("x.ts: models[1]: provider 'openai' cannot be used: OPENAI_API_KEY is not set");
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
    expect(ran).toBe(0);
  });
});

describe('expansion and shards', () => {
  it('expands the full matrix with distinct stable keys', () => {
    const s = validateScenario(good, catalog);
    const cells = expandCells(s, catalog.cellKey);
    expect(cells).toHaveLength(1 * 1 * 1 * 2 * 2);
    expect(new Set(cells.map((c) => c.spec.key)).size).toBe(4);
    expect(expandCells(s, catalog.cellKey).map((c) => c.spec.key)).toEqual(cells.map((c) => c.spec.key));
    expect(cells[2]!.recorded.labels).toMatchObject({ attack: 'random-subset', generator: 'random-tokens', defense: 'vtune:random-tokens/n=8' });
  });

  it('shards partition the cells', () => {
    const items = Array.from({ length: 7 }, (_, i) => i);
    const parts = [1, 2, 3].map((index) => shardCells(items, { index, count: 3 }));
    expect(parts.flat().sort()).toEqual(items);
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('4/3')).toThrow(/--shard: expected i\/n/);
  });
});
