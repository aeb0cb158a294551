/**
 * A verdict the records cannot hold: a defense whose verify returns NaN for its log10 p (or in its per-mode
 * map) fails its cell — a `failure` record in stage `verify` naming the defense and the field — and never
 * becomes a trial (before the one finite helper, src/records/finite.ts, NaN was recorded as −MAX_VALUE: a tiny
 * p-value, a fault turned into a "verified" verdict). ±Infinity is still recorded as ±MAX_VALUE.
 *
 * The real pipeline and runner, on test-memorizer (A TEST DOUBLE: a deterministic word-level "model") with
 * three DEFENSE TEST DOUBLES that plant nothing and return a fixed verdict: 'nan-double' (log10p NaN),
 * 'nan-mode-double' (a finite log10p, NaN in log10pByNullMode) and 'infinite-double' (log10p −Infinity).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FailureRecord, TrialRecord } from '../../src/records/schema.js';
import { readRecordsFile } from '../../src/records/store.js';
import { defineRegistry } from '../../src/registry.js';
import { projectCatalog, type Catalog } from '../../src/runner/catalog.js';
import { runScenario } from '../../src/runner/run.js';
import { validateScenario } from '../../src/runner/scenario.js';
import type { Defense, Logger, Verdict } from '../../src/types.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

/** A defense test double: uploads the rows unchanged, and its verify returns `verdict` whatever the model. */
const double = (id: string, verdict: Partial<Verdict>) => (): Defense<null> => ({
  id,
  access: ['generate'],
  plant: async (rows) => ({ rows, secret: null }),
  backdoorMask: (_secret, n) => Array.from({ length: n }, () => false),
  verify: async (_model, _secret, { alpha }) => ({ defense: id, verified: false, log10p: 0, alpha, nullMode: 'double', k: 0, n: 1, containsCount: 0, perBackdoor: [], queries: 0, ...verdict }),
});

const defenses = defineRegistry('defense', {
  'nan-double': double('nan-double', { log10p: NaN }),
  'nan-mode-double': double('nan-mode-double', { log10p: -1, log10pByNullMode: { double: -1, other: NaN } }),
  'infinite-double': double('infinite-double', { log10p: -Infinity, verified: true, log10pByNullMode: { double: -Infinity } }),
});

describe('a NaN verdict', () => {
  it('fails its cell (stage verify, naming the defense and the field); an infinite log10 p is recorded as −MAX_VALUE', async () => {
    const catalog: Catalog = { ...projectCatalog, defenses };
    const raw = {
      name: 'nan-verdict',
      seeds: 1,
      datasets: [{ spec: 'qa', size: 20, heldOut: 2 }],
      models: ['test-memorizer:base'],
      defenses: [{ id: 'nan-double' }, { id: 'nan-mode-double' }, { id: 'infinite-double' }],
      attacks: ['honest'],
      hyper: { epochs: 1, learningRate: 0.001, batchSize: 8 },
    };
    const scenario = validateScenario(raw, catalog, 'scenarios/nan-verdict.ts');
    const root = mkdtempSync(join(tmpdir(), 'vtb-nan-'));
    const summary = await runScenario({ scenario, file: 'scenarios/nan-verdict.ts', catalog, resultsRoot: root, log: quiet });
    expect(summary).toMatchObject({ total: 3, succeeded: 1, failed: 2 });
    const records = readRecordsFile(summary.recordsPath).records;
    const failures = records.filter((r): r is FailureRecord => r.kind === 'failure');
    const trials = records.filter((r): r is TrialRecord => r.kind === 'trial');
    expect(trials.map((t) => t.verdict.defense)).toEqual(['infinite-double']);
    expect(trials[0]!.verdict.log10p).toBe(-Number.MAX_VALUE);
    expect(trials[0]!.verdict.log10pByNullMode).toEqual({ double: -Number.MAX_VALUE });
    const byDefense = Object.fromEntries(failures.map((f) => [f.cell.labels.defense, f]));
    expect(Object.keys(byDefense).sort()).toEqual(['nan-double', 'nan-mode-double']);
    expect(byDefense['nan-double']).toMatchObject({ stage: 'verify', errorCode: 'verdict' });
    expect(byDefense['nan-double']!.message).toContain("defense 'nan-double' returned verdict.log10p is NaN");
    expect(byDefense['nan-mode-double']).toMatchObject({ stage: 'verify', errorCode: 'verdict' });
    expect(byDefense['nan-mode-double']!.message).toContain("defense 'nan-mode-double' returned verdict.log10pByNullMode.other is NaN");
  }, 120_000);
});
