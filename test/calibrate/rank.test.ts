/**
 * `calibrate` of the vtune `rank` null through the defense path (`--defense 'vtune:{"nullMode":"rank",…}'`), on
 * test-memorizer (A TEST DOUBLE: a deterministic word-level "model" with teacher-forced scores): fresh secrets per
 * trial, against the untrained base and a fine-tune on backdoor-free rows.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { typeIRows } from '../../src/calibrate/analyze.js';
import { readCalibrationFile } from '../../src/calibrate/records.js';
import { runCalibration } from '../../src/calibrate/run.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import type { Logger } from '../../src/types.js';
import { sampleRows } from '../defenses/fixtures.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

describe("calibrate the vtune 'rank' null", () => {
  it('records a rank p-value per trial against the base and a backdoor-free fine-tune, and tabulates its Type-I', async () => {
    const provider = await createTestMemorizerProvider();
    const base = await provider.model('base');
    const clean = (await provider.train(base, { rows: sampleRows(30, 'clean'), hyper: { epochs: 1, learningRate: 1e-3, batchSize: 4 }, seed: 1 })).model;
    const out = join(mkdtempSync(join(tmpdir(), 'vtb-cal-rank-')), 'calibration.jsonl');
    const res = await runCalibration(
      { generators: [], defenses: [{ id: 'vtune', options: { nullMode: 'rank', count: 4, empiricalM: 19 } }], count: 4, trials: 30, dataset: { spec: 'stories', size: 20 }, empiricalM: 0, slack: 4, seed: 'rank-cal', batch: 10 },
      { base, baseLabel: 'test-memorizer:base', nullModels: [{ label: 'test-memorizer:base', kind: 'base', model: base }, { label: 'test-memorizer:clean', kind: 'fine-tune', model: clean }], outFile: out, log: quiet },
    );
    expect(res.ran).toBe(60);
    const recs = readCalibrationFile(out);
    expect(recs).toHaveLength(60);
    for (const r of recs) {
      expect(r.log10pByNullMode.rank).toBeLessThanOrEqual(0);
      expect(r.log10pByNullMode.rank).toBeGreaterThanOrEqual(-4 * Math.log10(20) - 1e-9); // the floor (M + 1)^−n
    }
    const rows = typeIRows(recs, [0.05]).filter((r) => r.nullMode === 'rank');
    expect(rows.map((r) => r.trials)).toEqual([30, 30]);
  }, 120_000);
});
