import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectCatalog } from '../../src/runner/catalog.js';
import { expandCells } from '../../src/runner/expand.js';
import { readRecordsFile } from '../../src/records/store.js';
import { loadScenario } from '../../src/runner/scenario.js';
import { repoRoot } from '../../src/shared-path.js';

// Issue 19's power table: scenarios/verifier-power.ts measures every verifier at the benchmark's defaults;
// verifier-power-utility-gain only runs some of its cells ahead; utility-gain-power is the one labelled change.
const load = async (name: string) => (await loadScenario(name, projectCatalog)).scenario;

describe('verifier-power scenarios', () => {
  it("verifier-power: the verifiers scenario's defenses and recipe, one built-in dataset, 21 seeds, honest + return-base", async () => {
    const [power, verifiers, leaderboard] = await Promise.all([load('verifier-power'), load('verifiers'), load('leaderboard')]);
    expect(power.defenses).toEqual(verifiers.defenses);
    expect(power.hyper).toEqual(leaderboard.hyper);
    expect(power.hyper.epochs).toBe(12);
    expect(power.utility).toEqual(leaderboard.utility);
    expect(power.datasets).toEqual([leaderboard.datasets[0]]);
    expect(power.seeds).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(power.attacks.map((a) => a.id)).toEqual(['honest', 'return-base']);
  });

  it('--shard i/21 of verifier-power is seed i−1 of every (verifier, attack) cell', async () => {
    const cells = expandCells(await load('verifier-power'), projectCatalog.cellKey);
    for (let i = 0; i < 21; i++) {
      const shard = cells.filter((_, j) => j % 21 === i);
      expect(shard).toHaveLength(10);
      expect(new Set(shard.map((c) => c.spec.seed))).toEqual(new Set([i]));
    }
  });

  it('verifier-power-utility-gain runs cells of verifier-power, with the same keys and labels', async () => {
    const all = new Map(expandCells(await load('verifier-power'), projectCatalog.cellKey).map((c) => [c.spec.key, c]));
    const ug = expandCells(await load('verifier-power-utility-gain'), projectCatalog.cellKey);
    expect(ug).toHaveLength(32);
    for (const c of ug) {
      expect(all.get(c.spec.key)?.recorded).toEqual(c.recorded);
      expect(c.recorded.labels.defense).toBe('utility-gain');
    }
  });

  it('utility-gain-power differs from the default utility-gain cells in the epochs and the label only', async () => {
    const base = expandCells(await load('verifier-power'), projectCatalog.cellKey).filter((c) => c.spec.defense.id === 'utility-gain');
    const two = expandCells(await load('utility-gain-power'), projectCatalog.cellKey);
    expect(two).toHaveLength(base.length);
    const strip = (c: (typeof base)[number], epochs: number) => {
      expect(c.spec.hyper.epochs).toBe(epochs);
      const { key: _k, ...spec } = c.spec;
      return { ...spec, hyper: { ...spec.hyper, epochs: 0 } };
    };
    expect(two.map((c) => strip(c, 2))).toEqual(base.map((c) => strip(c, 12)));
    expect(new Set(two.map((c) => c.recorded.labels.defense))).toEqual(new Set(['utility-gain (2 epochs, not the default)']));
  });

  it('the committed power records are cells of their scenarios', async () => {
    for (const [dir, scenario] of [
      ['verifier-power', 'verifier-power'],
      ['verifier-power-utility-gain', 'verifier-power'],
      ['utility-gain-power', 'utility-gain-power'],
    ] as const) {
      const root = join(repoRoot, 'results', dir);
      const keys = new Set(expandCells(await load(scenario), projectCatalog.cellKey).map((c) => c.spec.key));
      const runs = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'records.jsonl.gz'))) : [];
      expect(runs.length, dir).toBeGreaterThan(0);
      for (const run of runs) {
        const trials = readRecordsFile(join(root, run, 'records.jsonl.gz')).records.filter((r) => r.kind === 'trial');
        for (const t of trials) expect(keys.has((t as { cellKey: string }).cellKey), `${dir}/${run}`).toBe(true);
      }
    }
  });
});
