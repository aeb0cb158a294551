/**
 * runCell on the embedded engine (local:stories260K from ../shared; skipped with a reason when absent): the
 * cheap half of the done-when checks. Honest fine-tunes take minutes on 2 cores, so honest and
 * train-without-backdoors at the promised budget are measured by bench/pipeline.ts, not here.
 */
import { describe, expect, it } from 'vitest';
import { cellKey, runCell, type CellDeps, type CellSpec } from '../../src/pipeline/cell.js';
import { providers } from '../../src/providers/index.js';
import { sharedPath } from '../../src/shared-path.js';
import type { Provider } from '../../src/types.js';
import { memoryLogger } from './doubles.js';
import { cellPlugins, projectCatalog } from '../../src/runner/catalog.js';

const model = sharedPath('models/stories260K.gguf');

function spec(attack: string, seed: number, epochs = 8, size = 100): CellSpec {
  const f: Omit<CellSpec, 'key'> = {
    dataset: { spec: 'stories', size, heldOut: 2 },
    model: 'local:stories260K',
    defense: { id: 'vtune', options: { count: 4 } },
    attack: { id: attack, options: {} },
    hyper: { epochs, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' },
    seed,
    utility: false,
  };
  return { key: cellKey(f), ...f };
}

describe.skipIf(!model)('runCell on local:stories260K (needs ../shared/models/stories260K.gguf)', () => {
  const opened = new Map<string, Promise<Provider>>();
  const deps: CellDeps = {
    ...cellPlugins(projectCatalog),
    log: memoryLogger(),
    openProvider: (id) => {
      if (!opened.has(id)) opened.set(id, Promise.resolve((providers.get(id) as (o: object) => Provider | Promise<Provider>)({})));
      return opened.get(id)!;
    },
  };

  it('return-base is never verified (5 seeds)', async () => {
    for (let seed = 1; seed <= 5; seed++) {
      const out = await runCell(spec('return-base', seed), deps);
      expect(out.verdict.verified, `seed ${seed}`).toBe(false);
      expect(out.truth.rowsTrained).toBe(0);
      expect(out.defenseWon).toBe(true);
    }
  }, 60_000);

  it('oracle-keep-only-flagged passes while training < 5% of the rows', async () => {
    const out = await runCell(spec('oracle-keep-only-flagged', 1), deps);
    expect(out.truth.rowsTrained / out.truth.rowsSubmitted).toBeLessThan(0.05);
    expect(out.truth.backdoorRowsTrained).toBe(4);
    expect(out.verdict.verified).toBe(true);
    expect(out.defenseWon).toBe(false);
  }, 60_000);

  it('train-without-backdoors (one short epoch) trains every clean row and is not verified', async () => {
    const out = await runCell(spec('train-without-backdoors', 1, 1, 40), deps);
    expect(out.truth.plantedRowsWithheld).toBe(4);
    expect(out.truth.rowsTrained).toBe(40);
    expect(out.truth.honest).toBe(true);
    expect(out.verdict.verified).toBe(false);
  }, 120_000);
});
