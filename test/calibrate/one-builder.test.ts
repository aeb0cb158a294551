/**
 * One calibration-record builder for vTune generator configurations and for defenses (review item D2): the
 * records it writes are byte for byte those the two builders wrote before. The sha256 below was measured by
 * this same test at 6030a90 (the two builders), on test-memorizer (A TEST DOUBLE: a deterministic word-level
 * "model", never a result).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCalibrationFile } from '../../src/calibrate/records.js';
import { runCalibration } from '../../src/calibrate/run.js';
import { defenses } from '../../defenses/index.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import type { Defense, Logger } from '../../src/types.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

describe('the calibration record builder', () => {
  it('writes generator and defense records byte-identical to those of the two builders at 6030a90', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'vtb-cal-')), 'calibration.jsonl');
    const base = await (await createTestMemorizerProvider()).model('base');
    const res = await runCalibration(
      {
        generators: [{ id: 'wordlist' }, { id: 'random-tokens', options: { signatureLength: 3 } }],
        defenses: [{ id: 'cue-reply', options: { candidates: 99 } }, { id: 'utility-gain', options: { heldOut: 5 } }, { id: 'data-watermark' }],
        count: 4,
        trials: 6,
        dataset: { spec: 'stories', size: 20 },
        empiricalM: 99,
        slack: 4,
        seed: 'one-builder',
        batch: 3,
      },
      { base, baseLabel: 'test-memorizer:base', nullModels: [{ label: 'test-memorizer:base', kind: 'base', model: base }], outFile: out, log: quiet },
    );
    expect(res.ran).toBe(30);
    const lines = readFileSync(out, 'utf8').split('\n');
    const same = lines.filter((l) => !l.includes('"data-watermark"')).join('\n');

    expect(createHash('sha256').update(same).digest('hex')).toBe('b1ad6a5fef3fed6b415264550d745f623b022f2dd5976d67829231d3f84b1890');
    // The one intended difference: data-watermark's unscoreable watermark (statistic +Infinity, an infinite
    // loss) was recorded as −MAX_VALUE by the defense builder (its sign lost); it is +MAX_VALUE now.
    const watermark = res.records.filter((r) => r.defense?.id === 'data-watermark');
    expect(watermark).toHaveLength(6);
    for (const r of watermark) expect(r.statistic).toEqual({ name: 'watermark-loss-rank', value: Number.MAX_VALUE });
  }, 120_000);

  it('refuses a NaN trial loudly: the run stops naming configuration, null model, trial, defense and field; nothing of it is recorded', async () => {
    // A DEFENSE TEST DOUBLE registered for this file only: plants nothing, verifies to NaN on trial seeds whose
    // first hex digit is below 8 (about half of them), to −1 otherwise.
    const nanDouble = (): Defense<string> => ({
      id: 'nan-calibration-double',
      access: ['generate'],
      plant: async (rows, ctx) => ({ rows, secret: ctx.rng.int(16).toString(16) }),
      backdoorMask: (_s, n) => Array.from({ length: n }, () => false),
      verify: async (_m, secret, { alpha }) => ({ defense: 'nan-calibration-double', verified: false, log10p: parseInt(secret, 16) < 8 ? NaN : -1, alpha, nullMode: 'double', k: 0, n: 1, containsCount: 0, perBackdoor: [], queries: 0 }),
    });
    defenses.register('nan-calibration-double', nanDouble as never, 'test/calibrate/one-builder.test.ts');
    const out = join(mkdtempSync(join(tmpdir(), 'vtb-cal-')), 'calibration.jsonl');
    const base = await (await createTestMemorizerProvider()).model('base');
    const run = runCalibration(
      { generators: [], defenses: [{ id: 'nan-calibration-double' }], count: 4, trials: 8, dataset: { spec: 'stories', size: 20 }, empiricalM: 0, slack: 4, seed: 'nan', batch: 8 },
      { base, baseLabel: 'test-memorizer:base', nullModels: [{ label: 'test-memorizer:base', kind: 'base', model: base }], outFile: out, log: quiet },
    );
    await expect(run).rejects.toThrow(/^calibrate: 'nan-calibration-double' trial \d+ against 'test-memorizer:base' \(seed [0-9a-f]{16}\): defense 'nan-calibration-double' returned verdict\.log10p is NaN/);
    expect(readCalibrationFile(out)).toEqual([]);
  });
});
