/**
 * Type-I table arithmetic against hand-computed values (exact binomial sums in Python's big integers for the
 * quantiles and Clopper-Pearson bounds; σ by hand), and the calibration record format.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alphaCell, binomialQuantile, calibrationCurves, reaches, typeIRows } from '../../src/calibrate/analyze.js';
import { appendCalibrationRecords, findCalibrationFiles, readCalibrationFile } from '../../src/calibrate/records.js';
import { dropTornTail } from '../../src/records/store.js';
import { toMarkdown } from '../../src/report/tables.js';
import { typeITable } from '../../src/report/calibration.js';
import { rec } from './helpers.js';

describe('Type-I arithmetic', () => {
  it('α = 1e-3, 3 of 3000: rate, Clopper-Pearson, α + 3σ, the binomial 99th percentile', () => {
    const c = alphaCell(1e-3, 3, 3000);
    expect(c.rate).toBeCloseTo(0.001, 15);
    expect(c.lower).toBeCloseTo(0.00020627153716229474, 9);
    expect(c.upper).toBeCloseTo(0.0029196164652532386, 9);
    expect(c.threeSigma).toBeCloseTo(0.002731184565550421, 12);
    expect(c.withinThreeSigma).toBe(true);
    // P(X ≤ 7) = 0.98814, P(X ≤ 8) = 0.99622 for X ~ Binomial(3000, 0.001)
    expect(c.binomial99).toBe(8);
    expect(c.withinBinomial99).toBe(true);
    expect(alphaCell(1e-3, 9, 3000).withinBinomial99).toBe(false);
    expect(c.inflation).toBeCloseTo(1, 12);
  });

  it('the 3σ line only for α > 0.01, and the inflation of an anti-conservative count', () => {
    const c = alphaCell(0.05, 40, 200);
    expect(c.threeSigma).toBeCloseTo(0.09623310502226733, 12);
    expect(c.withinThreeSigma).toBe(false);
    expect(c.binomial99).toBeUndefined();
    expect(c.inflation).toBeCloseTo(4, 12);
  });

  it('binomial quantiles (Binomial(10, 1/2): P(X ≤ 8) = 0.98926, P(X ≤ 9) = 0.99902)', () => {
    expect(binomialQuantile(10, 0.5, 0.99)).toBe(9);
    expect(binomialQuantile(10, 0.5, 0.98)).toBe(8);
    expect(binomialQuantile(3000, 0.001, 0.99)).toBe(8);
  });

  it('p = α counts as reaching α (the same rounding tolerance as verification)', () => {
    expect(reaches(Math.log10(1 / 1000), 1e-3)).toBe(true);
    expect(reaches(-2.999, 1e-3)).toBe(false);
  });

  it('groups by (generator, count, null model, null mode) and counts p ≤ α per α', () => {
    const records = [
      ...Array.from({ length: 10 }, (_, i) => rec(i, { generator: i < 2 ? -2.5 : 0, 'base-model': i < 6 ? -1.5 : -0.1 })),
      ...Array.from({ length: 5 }, (_, i) => rec(i, { generator: 0 }, { nullModel: 'ft:abc', nullModelKind: 'fine-tune' })),
    ];
    const rows = typeIRows(records, [0.1, 0.01, 1e-3]);
    expect(rows.map((r) => [r.nullModel, r.nullMode, r.trials])).toEqual([
      ['local:vtb-base', 'base-model', 10],
      ['local:vtb-base', 'generator', 10],
      ['ft:abc', 'generator', 5],
    ]);
    const [baseModel, generator] = rows;
    expect(baseModel!.antiConservative).toBe(true);
    expect(baseModel!.cells.map((c) => c.k)).toEqual([6, 0, 0]);
    expect(generator!.cells.map((c) => c.k)).toEqual([2, 2, 0]);
    expect(generator!.consistentWithValid).toBe(false); // 2 of 10 at α = 0.01
    expect(rows[2]!.consistentWithValid).toBe(true);
    const md = toMarkdown(typeITable(rows));
    expect(md).toContain("base-model (paper's; anti-conservative)");
    expect(md).toContain('|6/10 = 0.6 [');
    expect(md).toMatch(/0\.1: 6×/);
  });

  it('calibration curves: the empirical CDF, from the floor to (1, 1)', () => {
    const records = [-3, -2, -1, 0].map((p, i) => rec(i, { empirical: p }));
    const pts = calibrationCurves(records, 10, 1e-4);
    expect(pts.map((p) => [p.p, p.ecdf])).toEqual([
      [1e-4, 0],
      [1e-3, 0.25],
      [1e-2, 0.5],
      [1e-1, 0.75],
      [1, 1],
    ]);
  });
});

describe('calibration records', () => {
  it('round-trips, drops a torn last line, and names file and line of a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtb-calrec-'));
    const f = join(dir, 'calibration.jsonl');
    appendCalibrationRecords(f, [rec(0, { generator: 0 }), rec(1, { generator: -1 })]);
    expect(readCalibrationFile(f)).toEqual([rec(0, { generator: 0 }), rec(1, { generator: -1 })]);
    writeFileSync(f, `${readFileSync(f, 'utf8')}{"kind":"calib`);
    expect(readCalibrationFile(f)).toHaveLength(2);
    expect(dropTornTail(f)).toBe(14);
    expect(readFileSync(f, 'utf8').endsWith('\n')).toBe(true);
    writeFileSync(f, `${JSON.stringify(rec(0, { generator: 0 }))}\n{"kind":"trial"}\n`);
    expect(() => readCalibrationFile(f)).toThrow(/calibration\.jsonl:2: expected a record of kind 'calibration'/);
    writeFileSync(f, `${JSON.stringify({ ...rec(0, { generator: 0.5 }) })}\n`);
    expect(() => readCalibrationFile(f)).toThrow(/:1: malformed calibration record/);
    writeFileSync(f, `${JSON.stringify({ ...rec(0, {}), schemaVersion: 99 })}\n`);
    expect(() => readCalibrationFile(f)).toThrow(/schema version 99 is newer/);
    expect(findCalibrationFiles(dir)).toEqual([f]);
  });

  it('reads a calibration file saved with a UTF-8 byte order mark, as records files are read', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'vtb-calbom-')), 'calibration.jsonl');
    writeFileSync(f, `\uFEFF${JSON.stringify(rec(0, { generator: 0 }))}\n`);
    expect(readCalibrationFile(f)).toEqual([rec(0, { generator: 0 })]);
  });
});
