/**
 * runCell over the REAL parts: the vtune defense (defenses/), a built-in dataset (src/datasets) and the
 * `test-memorizer` provider — a test double for the model only (src/providers/test-memorizer.ts), fast
 * enough for the issue's ≥ 20-seed done-when checks in CI. Engine figures are measured in bench/pipeline.ts.
 */
import { describe, expect, it } from 'vitest';
import { cellKey, runCell, type CellDeps, type CellSpec } from '../../src/pipeline/cell.js';
import { providers } from '../../src/providers/index.js';
import type { Provider } from '../../src/types.js';
import { memoryLogger } from './doubles.js';
import { cellPlugins, projectCatalog } from '../../src/runner/catalog.js';

function spec(attack: string, seed: number, options: Record<string, unknown> = {}): CellSpec {
  const f: Omit<CellSpec, 'key'> = {
    dataset: { spec: 'qa', size: 300, heldOut: 5 },
    model: 'test-memorizer:base',
    defense: { id: 'vtune', options: { count: 10, alpha: 1e-3 } },
    attack: { id: attack, options },
    hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
    seed,
  };
  return { key: cellKey(f), ...f };
}

function deps(): CellDeps {
  const opened = new Map<string, Promise<Provider>>();
  return {
    ...cellPlugins(projectCatalog),
    log: memoryLogger(),
    openProvider: (id) => {
      if (!opened.has(id)) opened.set(id, Promise.resolve((providers.get(id) as (o: object) => Provider | Promise<Provider>)({})));
      return opened.get(id)!;
    },
  };
}

describe('runCell: vtune × qa × test-memorizer', () => {
  const seeds = Array.from({ length: 20 }, (_, i) => i + 1);

  it('honest is always verified and measured honest (20 seeds)', async () => {
    const d = deps();
    for (const seed of seeds) {
      const out = await runCell(spec('honest', seed), d);
      expect(out.verdict.verified, `seed ${seed}`).toBe(true);
      expect(out.truth.honest).toBe(true);
      expect(out.defenseWon).toBe(true);
    }
  });

  it('return-base and train-without-backdoors are never verified (20 seeds each)', async () => {
    const d = deps();
    for (const seed of seeds) {
      for (const id of ['return-base', 'train-without-backdoors']) {
        const out = await runCell(spec(id, seed), d);
        expect(out.verdict.verified, `${id} seed ${seed}`).toBe(false);
        expect(out.truth.backdoorRowsTrained).toBe(0);
        expect(out.defenseWon).toBe(true);
      }
    }
  });

  it('alpha is the verdict threshold, not a defense option', async () => {
    const out = await runCell(spec('honest', 1), deps());
    expect(out.verdict.alpha).toBe(1e-3);
  });

  it('oracle-keep-only-flagged passes while training < 5% of the rows (20 seeds)', async () => {
    const d = deps();
    for (const seed of seeds) {
      const out = await runCell(spec('oracle-keep-only-flagged', seed), d);
      expect(out.verdict.verified, `seed ${seed}`).toBe(true);
      expect(out.truth.rowsTrained / out.truth.rowsSubmitted).toBeLessThan(0.05);
      expect(out.defenseWon).toBe(false);
    }
  });
});
