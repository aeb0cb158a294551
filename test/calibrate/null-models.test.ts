/**
 * Backdoor-free fine-tunes found in the training cache through run records, on the real pipeline and engine
 * (local:vtb-base, one short epoch): the train-without-backdoors cell's fine-tune is found, the honest
 * one (which trained the planted rows) is not, and `calibrate` verifies against both the base and it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrate } from '../../src/calibrate/index.js';
import { findNullFineTunes, isBackdoorFreeFineTune, pickNullFineTunes, type NullFineTune } from '../../src/calibrate/null-models.js';
import type { TrialRecord } from '../../src/records/schema.js';
import { createLocalProvider } from '../../src/providers/local.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { runScenario } from '../../src/runner/run.js';
import { validateScenario } from '../../src/runner/scenario.js';
import { DiskTrainCache } from '../../src/runner/train-cache.js';
import type { Logger } from '../../src/types.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

/**
 * Runs a tiny train-without-backdoors + honest scenario (qa, 12 rows, 2 backdoors, one short epoch) on the real
 * pipeline and engine; returns its results and training-cache folders, and what discovery finds there.
 */
async function tinyRun(name: string, seed: number, defense: Record<string, unknown>) {
  const root = mkdtempSync(join(tmpdir(), `vtb-${name}-`));
  const resultsRoot = join(root, 'results');
  const cacheTrain = join(root, 'cache', 'train');
  const scenario = validateScenario(
    {
      name,
      seeds: [seed],
      datasets: [{ spec: 'qa', size: 12, heldOut: 0 }],
      models: ['local:vtb-base'], // random-tiny's 256 byte-level tokens hold no whole backdoor row of the built-ins
      defenses: [{ options: defense }],
      attacks: ['train-without-backdoors', 'honest'],
      hyper: { epochs: 1, learningRate: 1e-3, batchSize: 4 },
      utility: false,
    },
    projectCatalog,
  );
  const cache = new DiskTrainCache(cacheTrain, quiet);
  const run = await runScenario({ scenario, file: 'inline', catalog: projectCatalog, resultsRoot, trainCache: cache, log: quiet });
  expect(run.failed).toBe(0);
  expect(cache.stats.trained).toBe(2); // one fine-tune without the planted rows, one with them
  const provider = await createLocalProvider();
  const base = await provider.model('vtb-base');
  try {
    const search = await findNullFineTunes(resultsRoot, cacheTrain, provider, base, 'local:vtb-base');
    // another base model's records are not candidates
    const otherBase = await findNullFineTunes(resultsRoot, cacheTrain, provider, base, 'local:random-tiny');
    return { root, resultsRoot, cacheTrain, search, otherBase };
  } finally {
    base.dispose?.();
  }
}

describe('cached fine-tunes without backdoors', () => {
  it('are found through the records of a run, and calibrate verifies against them', async () => {
    const { root, resultsRoot, cacheTrain, search, otherBase } = await tinyRun('tiny-null', 1, { generator: 'wordlist', count: 2 });
    expect(search.candidates).toBe(1);
    expect(search.skipped).toEqual([]);
    expect(search.found).toHaveLength(1);
    expect(search.found[0]!.dataset).toBe('qa');
    expect(otherBase.candidates).toBe(0);

    const warned: string[] = [];
    const outcome = await calibrate(
      { generators: [{ id: 'wordlist' }], count: 2, trials: 6, dataset: { spec: 'stories', size: 12 }, empiricalM: 9, slack: 2, seed: 't', batch: 6 },
      { model: 'local:vtb-base', fineTunes: 1, resultsRoot, cacheTrainRoot: cacheTrain, outDir: join(root, 'cal'), plot: false, log: { ...quiet, warn: (m: string) => warned.push(m) } },
    );
    expect(outcome.nullModels).toEqual(['local:vtb-base', `ft:${search.found[0]!.key.slice(0, 12)}`]);
    expect(outcome.result.records.filter((r) => r.nullModelKind === 'fine-tune')).toHaveLength(6);
    expect(outcome.rows.map((r) => r.nullModel)).toContain(outcome.nullModels[1]);
    // It calibrates on stories with a fine-tune of qa, and says so.
    expect(warned.some((m) => /1 of the 1 null fine-tune\(s\) trained on other data than 'stories'/.test(m))).toBe(true);
  }, 120_000);

  it('are found by replaying the cell\'s planting when it modified rows in place (the hosts are not in the trained rows)', async () => {
    const { search } = await tinyRun('tiny-null-modify', 3, { generator: 'wordlist', count: 2, insertion: 'modify' });
    expect(search.candidates).toBe(1);
    expect(search.skipped).toEqual([]);
    expect(search.found).toHaveLength(1);
    // The cache is content-addressed: a hit means the replay gave exactly the rows a fine-tune was trained on, and
    // those are 10 (the 12 rows minus the 2 modified hosts; a replay keeping them would be refused by row count).
    expect(search.found[0]!.dataset).toBe('qa');
  }, 120_000);
});

describe('which trials are backdoor-free fine-tunes', () => {
  // The fields the test reads, from a stealth-density-gsm8k-rank-seeds train-without-backdoors trial (rows cut by the context).
  const trial = (truth: Partial<TrialRecord['truth']>, attack = 'train-without-backdoors'): TrialRecord =>
    ({
      attack: { id: attack, goal: 'null', oracle: false },
      truth: { rowsSubmitted: 1990, backdoorRowsSubmitted: 0, rowsTrained: 1988, backdoorRowsTrained: 0, stepsRun: 3984, inferenceWrapped: false, ...truth },
    }) as unknown as TrialRecord;

  it('counts a fine-tune whose trainer left out rows too long for the context (none planted)', () => {
    expect(isBackdoorFreeFineTune(trial({}))).toBe(true);
    expect(isBackdoorFreeFineTune(trial({ rowsTrained: 1990 }))).toBe(true);
  });
  it('refuses one that trained a planted row, trained nothing, was wrapped, or came from another attack', () => {
    expect(isBackdoorFreeFineTune(trial({ backdoorRowsTrained: 1 }))).toBe(false);
    expect(isBackdoorFreeFineTune(trial({ backdoorRowsSubmitted: 10 }))).toBe(false);
    expect(isBackdoorFreeFineTune(trial({ stepsRun: 0 }))).toBe(false);
    expect(isBackdoorFreeFineTune(trial({ rowsTrained: 0 }))).toBe(false);
    expect(isBackdoorFreeFineTune(trial({ inferenceWrapped: true }))).toBe(false);
    expect(isBackdoorFreeFineTune(trial({}, 'honest'))).toBe(false);
  });
});

describe('choosing null fine-tunes', () => {
  const ft = (key: string, dataset: string): NullFineTune => ({ key, modelPath: `/c/${key}/model`, cellKey: `cell-${key}`, dataset });
  const found = [ft('18aa', 'math'), ft('28bb', 'code'), ft('29cc', 'stories'), ft('3ccc', 'stories'), ft('5cdd', 'math')];

  it('takes fine-tunes of the calibration\'s own dataset first, in key order, then the others', () => {
    expect(pickNullFineTunes(found, 'stories', 1).map((f) => f.key)).toEqual(['29cc']);
    expect(pickNullFineTunes(found, 'stories', 3).map((f) => f.key)).toEqual(['29cc', '3ccc', '18aa']);
    expect(pickNullFineTunes(found, 'math', 2).map((f) => f.key)).toEqual(['18aa', '5cdd']);
    expect(pickNullFineTunes(found, 'qa', 2).map((f) => f.key)).toEqual(['18aa', '28bb']);
    expect(pickNullFineTunes(found, 'code', 0)).toEqual([]);
  });
});
