import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectCatalog } from '../../src/runner/catalog.js';
import { expandCells } from '../../src/runner/expand.js';
import { readRecordsFile } from '../../src/records/store.js';
import { loadScenario, scenarioHash } from '../../src/runner/scenario.js';
import { repoRoot } from '../../src/shared-path.js';

const files = readdirSync(join(repoRoot, 'scenarios')).filter((f) => /\.(ts|json)$/.test(f));

describe('shipped scenarios', () => {
  it('has the default, fast and full scenarios', () => {
    expect(files).toEqual(expect.arrayContaining(['default.ts', 'fast.ts', 'full.ts']));
  });

  it.each(files)('%s validates against the real registries and expands', async (file) => {
    const name = file.replace(/\.(ts|json)$/, '');
    const { scenario } = await loadScenario(name, projectCatalog);
    const cells = expandCells(scenario, projectCatalog.cellKey);
    expect(cells.length).toBe(scenario.datasets.length * scenario.models.length * scenario.defenses.length * scenario.attacks.length * scenario.seeds.length);
  });

  it('the default scenario loads to the published run: same run id and cell keys (options are kept as written)', async () => {
    const { scenario } = await loadScenario('default', projectCatalog);
    const dir = readdirSync(join(repoRoot, 'results/published')).find((d) => d.startsWith('default-'))!;
    const file = readRecordsFile(join(repoRoot, 'results/published', dir, 'records.jsonl'));
    expect(scenarioHash(scenario)).toBe(file.manifest!.runId);
    const stored = file.records.filter((r) => r.kind === 'trial' || r.kind === 'failure').map((r) => (r as { cellKey: string }).cellKey);
    expect(new Set(expandCells(scenario, projectCatalog.cellKey).map((c) => c.spec.key))).toEqual(new Set(stored));
    expect(stored).toHaveLength(48);
  });

  it('the default scenario has baselines and both lazy and evasive attacks', async () => {
    const { scenario } = await loadScenario('default', projectCatalog);
    const ids = scenario.attacks.map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining(['honest', 'return-base', 'train-without-backdoors', 'random-subset', 'detect-then-filter']));
  });

  it('rejects a misspelt option of a real attack, naming the field', async () => {
    const { validateScenario } = await import('../../src/runner/scenario.js');
    const { scenario } = await loadScenario('fast', projectCatalog);
    const bad = { ...scenario, attacks: [{ id: 'random-subset', options: { fracton: 0.5 } }] };
    expect(() => validateScenario(bad, projectCatalog, 'scenarios/fast.ts')).toThrow(
      "scenarios/fast.ts: attacks[0].options.fracton: unknown option 'fracton'. Did you mean 'fraction'? Available: fraction",
    );
    const out = { ...scenario, attacks: [{ id: 'random-subset', options: { fraction: 1.5 } }] };
    expect(() => validateScenario(out, projectCatalog, 'scenarios/fast.ts')).toThrow('scenarios/fast.ts: attacks[0].options.fraction: expected a number in (0, 1], got 1.5');
    const gen = { ...scenario, defenses: [{ id: 'vtune', options: { generator: 'word-list' } }] };
    expect(() => validateScenario(gen, projectCatalog, 'x.ts')).toThrow("x.ts: defenses[0].options.generator: unknown generator 'word-list'. Did you mean 'wordlist'?");
    const keyed = { ...scenario, defenses: [{ id: 'vtune', options: { generator: 'keyed' } }] };
    // A declared vtune (h4's defineDefense) reports the path as data: defenses[0].options.generatorOptions.key; a bare
    // factory's error stays under defenses[0].options with its own words naming 'key' (no path is parsed from text).
    expect(() => validateScenario(keyed, projectCatalog, 'x.ts')).toThrow(
      /^x\.ts: defenses\[0\]\.options(\.generatorOptions\.key: |: generator 'keyed': option 'key' )must be a string of at least 16 characters/,
    );
  });
});

describe('preflight with the real providers', () => {
  it('fails before any cell on an unknown local model and on a provider without its API key', async () => {
    const { preflight } = await import('../../src/runner/expand.js');
    const { validateScenario } = await import('../../src/runner/scenario.js');
    const { scenario } = await loadScenario('fast', projectCatalog);
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    let ran = 0;
    const catalog = { ...projectCatalog, runCell: async () => { ran++; throw new Error('must not run'); } };
    try {
      const s = validateScenario({ ...scenario, models: ['local:storys260K', 'openai:gpt-4o-mini'] }, catalog, 'scenarios/x.ts');
      const err = await preflight(s, catalog, 'scenarios/x.ts').then(() => undefined, (e: Error) => e);
      expect(err?.message).toMatch(/scenarios\/x\.ts: models\[1\]: provider 'openai' cannot be used: .*OPENAI_API_KEY/);
      expect(err?.message).toMatch(/models\[0\]: .*unknown local model 'storys260K'\. Did you mean 'stories260K'\?/);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
    expect(ran).toBe(0);
  });

  it('fails before any cell when a defense plants more backdoors than the dataset has rows', async () => {
    const { preflight } = await import('../../src/runner/expand.js');
    const { validateScenario } = await import('../../src/runner/scenario.js');
    const { scenario } = await loadScenario('fast', projectCatalog);
    const s = validateScenario({ ...scenario, defenses: [{ id: 'vtune', options: { generator: 'wordlist', count: 100 } }] }, projectCatalog, 'scenarios/fast.ts');
    await expect(preflight(s, projectCatalog, 'scenarios/fast.ts')).rejects.toThrow(
      "scenarios/fast.ts: defenses[0].options.count: 100 backdoors is more than the 60 rows of datasets[0] ('qa'); expected at most 60",
    );
  });
});
