import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectCatalog } from '../../src/runner/catalog.js';
import { expandCells } from '../../src/runner/expand.js';
import { loadScenario } from '../../src/runner/scenario.js';
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
    expect(() => validateScenario(out, projectCatalog, 'scenarios/fast.ts')).toThrow('scenarios/fast.ts: attacks[0].options.fraction: expected a fraction in (0, 1], got 1.5');
    const gen = { ...scenario, defenses: [{ id: 'vtune', options: { generator: 'word-list' } }] };
    expect(() => validateScenario(gen, projectCatalog, 'x.ts')).toThrow("x.ts: defenses[0].options.generator: unknown generator 'word-list'. Did you mean 'wordlist'?");
    const keyed = { ...scenario, defenses: [{ id: 'vtune', options: { generator: 'keyed' } }] };
    expect(() => validateScenario(keyed, projectCatalog, 'x.ts')).toThrow('x.ts: defenses[0].options.generatorOptions.key: must be a string of at least 16 characters');
  });
});
