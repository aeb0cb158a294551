/**
 * The 0.5 % density measurements of issue 15 (scenarios/stealth-density*.ts): every generator of a scenario is
 * trained with one honest recipe at 10 backdoors in 2,000 rows, and each committed records file under
 * results/stealth/<scenario>/<run id>/ is what its scenario reproduces — the run id is the scenario's hash, every
 * trial's cell carries the scenario's dataset, recipe and defense options, and a cell shared by two scenarios (the
 * in-place seed-0 fine-tune of stealth-density-16 and stealth-density-16-seeds) recorded the same verdict.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { projectCatalog } from '../../src/runner/catalog.js';
import { loadScenario, scenarioHash } from '../../src/runner/scenario.js';
import { repoRoot } from '../../src/shared-path.js';

const NAMES = ['stealth-density', 'stealth-density-epochs', 'stealth-density-16', 'stealth-density-16-seeds', 'stealth-density-gsm8k', 'stealth-density-nulls', 'stealth-density-gsm8k-rank'];

interface Trial {
  kind: 'trial';
  cellKey: string;
  cell: { dataset: unknown; hyper: unknown; seed: number; defense: { options: Record<string, unknown> }; labels: { generator: string } };
  attack: { id: string };
  verdict: { k: number; log10p: number; hits: boolean[]; log10q: number[] };
}
function trials(name: string, runId: string): Trial[] {
  const file = join(repoRoot, 'results/stealth', name, runId, 'records.jsonl.gz');
  return gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string })
    .filter((r): r is Trial => r.kind === 'trial');
}

describe('stealth density scenarios (issue 15, 10 backdoors at 0.5 %)', () => {
  for (const name of NAMES) {
    it(`${name}: 10 backdoors in 2,000 rows, one recipe for every generator, and its committed records are its own`, async () => {
      const { scenario } = await loadScenario(name, projectCatalog);
      expect(scenario.datasets.map((d) => d.size)).toEqual([2000]);
      for (const d of scenario.defenses) expect((d.options as { count?: number }).count).toBe(10);
      const runId = scenarioHash(scenario);
      const dir = join(repoRoot, 'results/stealth', name);
      expect(existsSync(join(dir, runId, 'records.jsonl.gz')), `records of run ${runId} (found: ${existsSync(dir) ? readdirSync(dir).join(', ') : 'none'})`).toBe(true);
      const ts = trials(name, runId);
      expect(ts).toHaveLength(scenario.seeds.length * scenario.defenses.length * scenario.attacks.length);
      for (const t of ts) {
        expect(t.cell.hyper).toEqual(scenario.hyper);
        const { label: _label, ...dataset } = scenario.datasets[0]!; // a dataset's label is the cell's labels.dataset
        expect(t.cell.dataset).toEqual(dataset);
        expect(scenario.defenses.map((d) => d.options)).toContainEqual(t.cell.defense.options);
      }
    });
  }

  it('the nulls at 0.5 % (stealth-density-nulls) plant the secrets of the honest 3-seed run and none verifies', async () => {
    const load = async (name: string) => {
      const { scenario } = await loadScenario(name, projectCatalog);
      return trials(name, scenarioHash(scenario));
    };
    const honest = await load('stealth-density-16-seeds');
    const nulls = await load('stealth-density-nulls');
    expect(nulls.map((t) => t.attack.id).sort()).toEqual(['return-base', 'return-base', 'return-base', 'train-without-backdoors', 'train-without-backdoors', 'train-without-backdoors']);
    for (const t of nulls) {
      const h = honest.find((x) => x.cell.seed === t.cell.seed)!;
      // The same planting (per-backdoor bounds), a verdict of its own.
      expect(t.verdict.log10q).toEqual(h.verdict.log10q);
      expect(t.verdict.k).toBe(0);
    }
  });

  it('the in-place seed-0 cell shared by stealth-density-16 and its 3-seed run recorded one verdict', async () => {
    const get = async (name: string) => trials(name, scenarioHash((await loadScenario(name, projectCatalog)).scenario)).find((t) => t.cell.labels.generator === 'in-place' && t.cell.seed === 0)!;
    const [a, b] = [await get('stealth-density-16'), await get('stealth-density-16-seeds')];
    expect(b.cellKey).toBe(a.cellKey);
    expect(b.verdict).toEqual(a.verdict);
  });
});
