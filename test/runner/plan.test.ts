import { describe, expect, it } from 'vitest';
import { projectCatalog } from '../../src/runner/catalog.js';
import { estimateSeconds, planScenario, planText } from '../../src/runner/plan.js';
import { loadScenario } from '../../src/runner/scenario.js';
import { trial } from '../report/helpers.js';

describe('run --plan', () => {
  it('counts the default scenario: 48 cells, 6 secrets, 36 cells that train', async () => {
    const { scenario } = await loadScenario('default', projectCatalog);
    const plan = planScenario(scenario, projectCatalog);
    expect(plan).toMatchObject({ cells: 48, secrets: 6, trainingCells: 36, secretsPerConfigurationAttack: 3 });
    expect(plan.perAttack.filter((a) => !a.trains).map((a) => a.attack)).toEqual(['return-base', 'lookup-wrapper(near-duplicate)']);
    expect(planScenario(scenario, projectCatalog, { index: 1, count: 2 }).cells).toBe(24);
  });

  it('the leaderboard scenario: every attack family, all six generators (copy vs modify for two), ≥ 20 secrets per configuration × attack', async () => {
    const { scenario } = await loadScenario('leaderboard', projectCatalog);
    const plan = planScenario(scenario, projectCatalog);
    expect(plan).toMatchObject({ cells: 3528, secrets: 168, defenses: 8, attacks: 21, datasets: 3, seeds: 7 });
    expect(plan.secretsPerConfigurationAttack).toBeGreaterThanOrEqual(20);
    const ids = new Set(scenario.attacks.map((a) => a.id));
    for (const id of ['honest', 'return-base', 'train-without-backdoors', 'unlikelihood', 'unlearn', 'cleangen', 'input-routing', 'random-subset', 'fewer-steps', 'detect-then-train', 'lookup-wrapper', 'detect-then-filter', 'weight-noise', 'oracle-keep-only-flagged']) {
      expect(ids, id).toContain(id);
    }
    expect(scenario.attacks.filter((a) => a.id === 'random-subset').map((a) => a.options.fraction)).toEqual([0.1, 0.5, 0.9]);
    const filters = scenario.attacks.filter((a) => a.id === 'detect-then-filter').map((a) => `${String(a.options.policy)}/${String(a.options.scorer)}`);
    for (const policy of ['drop-flagged', 'strip-spans']) for (const scorer of ['near-duplicate', 'ngram-burstiness', 'perplexity']) expect(filters).toContain(`${policy}/${scorer}`);
    const configs = scenario.defenses.map((d) => `${String(d.options.generator)}/${String(d.options.insertion)}`);
    for (const g of ['random-tokens', 'wordlist']) expect(configs).toEqual(expect.arrayContaining([`${g}/copy`, `${g}/modify`]));
    expect(new Set(scenario.defenses.map((d) => d.options.generator))).toEqual(new Set(['random-tokens', 'wordlist', 'keyed', 'splice', 'template', 'lm-sampled']));
    expect(new Set(scenario.datasets.map((d) => d.spec)).size).toBe(3);
    expect(plan.perAttack.find((a) => a.attack === 'oracle-keep-only-flagged')?.oracle).toBe(true);
  });

  it('estimates sequential cell time from measured durations per attack id, the mean for unmeasured ones', async () => {
    const { scenario } = await loadScenario('default', projectCatalog);
    const plan = planScenario(scenario, projectCatalog);
    const ref = [
      { ...trial({ key: 'a', attack: 'honest', goal: 'baseline', verified: true, log10p: -9, defenseWon: true }), durationMs: 10_000 },
      { ...trial({ key: 'b', attack: 'return-base', goal: 'baseline', verified: false, log10p: 0, defenseWon: true }), durationMs: 2_000 },
    ];
    const est = estimateSeconds(plan, ref)!;
    // 6 honest × 10 s + 6 return-base × 2 s + 36 other cells × the mean 6 s.
    expect(est.seconds).toBeCloseTo(6 * 10 + 6 * 2 + 36 * 6, 9);
    expect(est.unpriced).toHaveLength(6);
    expect(estimateSeconds(plan, [])).toBeUndefined();
    expect(planText('default', plan, est)).toMatch(/^default: 48 cells = 1 dataset\(s\) × 2 defense configuration\(s\) × 8 attack\(s\) × 3 seed\(s\)\n/);
  });
});
