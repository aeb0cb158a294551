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

const NAMES = [
  'stealth-density',
  'stealth-density-epochs',
  'stealth-density-16',
  'stealth-density-16-seeds',
  'stealth-density-gsm8k',
  'stealth-density-nulls',
  'stealth-density-gsm8k-rank',
  'stealth-density-gsm8k-rank-seeds',
];
/** The small real files (155–180 rows, 10 backdoors): the nearest to 0.5 % these files allow. */
const SMALL = ['stealth-small-files', 'stealth-small-files-template', 'stealth-small-files-rank'];

interface Trial {
  kind: 'trial';
  cellKey: string;
  cell: { dataset: unknown; hyper: unknown; seed: number; defense: { options: Record<string, unknown> }; labels: { generator: string } };
  attack: { id: string };
  verdict: { k: number; log10p: number; hits: boolean[]; log10q: number[] };
  truth: { backdoorRowsTrained: number };
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
  for (const name of [...NAMES, ...SMALL]) {
    const small = SMALL.includes(name);
    it(`${name}: 10 backdoors in ${small ? 'each small file' : '2,000 rows'}, one recipe for every generator, and its committed records are its own`, async () => {
      const { scenario } = await loadScenario(name, projectCatalog);
      if (small) for (const d of scenario.datasets) expect(d.size).toBeLessThanOrEqual(180);
      else expect(scenario.datasets.map((d) => d.size)).toEqual([2000]);
      for (const d of scenario.defenses) expect((d.options as { count?: number }).count).toBe(10);
      const runId = scenarioHash(scenario);
      const dir = join(repoRoot, 'results/stealth', name);
      expect(existsSync(join(dir, runId, 'records.jsonl.gz')), `records of run ${runId} (found: ${existsSync(dir) ? readdirSync(dir).join(', ') : 'none'})`).toBe(true);
      const ts = trials(name, runId);
      expect(ts).toHaveLength(scenario.seeds.length * scenario.datasets.length * scenario.defenses.length * scenario.attacks.length);
      for (const t of ts) {
        expect(t.cell.hyper).toEqual(scenario.hyper);
        // a dataset's label is the cell's labels.dataset
        expect(scenario.datasets.map(({ label: _label, ...dataset }) => dataset)).toContainEqual(t.cell.dataset);
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

  it('the nulls of the small files and of the GSM8K rank seeds trained no planted row and none verifies', async () => {
    for (const name of [...SMALL, 'stealth-density-gsm8k-rank-seeds']) {
      const { scenario } = await loadScenario(name, projectCatalog);
      const ts = trials(name, scenarioHash(scenario));
      const nulls = ts.filter((t) => t.attack.id !== 'honest');
      expect(nulls.length, name).toBe(2 * scenario.seeds.length * scenario.datasets.length);
      for (const t of nulls) {
        expect(t.truth.backdoorRowsTrained, `${name} ${t.attack.id} seed ${t.cell.seed}`).toBe(0);
        expect(t.verdict.log10p, `${name} ${t.attack.id} seed ${t.cell.seed}`).toBeGreaterThan(-3);
        const honest = ts.find((h) => h.attack.id === 'honest' && h.cell.seed === t.cell.seed && JSON.stringify(h.cell.dataset) === JSON.stringify(t.cell.dataset))!;
        expect(honest.truth.backdoorRowsTrained).toBe(10);
        // Under `generator` log10q holds the planting's per-backdoor bounds, the same for every attack on one secret;
        // under `rank` it holds each backdoor's rank p-value on the model verified, so it differs by attack.
        if (t.cell.defense.options.nullMode === 'generator') expect(t.verdict.log10q).toEqual(honest.verdict.log10q);
      }
    }
  });

  it('the in-place seed-0 cell shared by stealth-density-16 and its 3-seed run recorded one verdict', async () => {
    const get = async (name: string) => trials(name, scenarioHash((await loadScenario(name, projectCatalog)).scenario)).find((t) => t.cell.labels.generator === 'in-place' && t.cell.seed === 0)!;
    const [a, b] = [await get('stealth-density-16'), await get('stealth-density-16-seeds')];
    expect(b.cellKey).toBe(a.cellKey);
    expect(b.verdict).toEqual(a.verdict);
  });
});
