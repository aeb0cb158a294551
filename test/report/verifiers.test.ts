import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport, loadRecords } from '../../src/report/index.js';
import { toMarkdown } from '../../src/report/tables.js';
import { verifierAttackTable, verifierFindings, verifierRows, verifierSection } from '../../src/report/verifiers.js';

// Synthetic records: vTune (wordlist, copy) beside a rival verifier, data-watermark, whose verdicts have
// k = n = 0 and a `statistic` (test/fixtures/leaderboard/make-fixture.ts).
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'leaderboard', 'results', 'verifiers', 'fixture-verifiers');
const records = loadRecords([FIXTURE]);

describe('verifier leaderboard from records, whatever the defense id', () => {
  const rows = verifierRows(records.trials, records.calibration.records);
  const wm = rows.find((r) => r.id === 'data-watermark')!;
  const vt = rows.find((r) => r.id === 'vtune')!;

  it('the rival verdicts are what the fixture says: k = n = 0 with a statistic', () => {
    const t = records.trials.find((x) => x.cell.defense.id === 'data-watermark')!;
    expect(t.verdict).toMatchObject({ k: 0, n: 0, statistic: { name: 'z' } });
  });

  it("Type-I comes from each verifier's own calibration records at its own α", () => {
    expect(wm.alpha).toBe(0.01);
    expect(wm.typeI).toMatchObject({ source: 'calibration', rate: { k: 2, n: 200 }, exceedsAlpha: false });
    expect(vt.alpha).toBe(1e-3);
    expect(vt.typeI).toMatchObject({ source: 'calibration', rate: { k: 0, n: 200 } });
  });

  it("without calibration records the run's null baselines give Type-I", () => {
    const [w] = verifierRows(records.trials.filter((t) => t.cell.defense.id === 'data-watermark'));
    // return-base and train-without-backdoors (12 cells), and the one drop(near-duplicate) cell that filtered
    // every planted row: 13 models that never saw them, over 6 secrets, none verified.
    expect(w!.typeI).toMatchObject({ source: 'run', rate: { k: 0, n: 13, secrets: 6 } });
  });

  it('power: honest verified, and verified under random-subset at 10/50/90%', () => {
    expect(wm.power).toMatchObject({ k: 5, n: 6 });
    expect(wm.ladder.map((l) => [l.fraction, l.verified.k, l.verified.n])).toEqual([
      [0.1, 0, 6],
      [0.5, 2, 6],
      [0.9, 5, 6],
    ]);
    expect(vt.ladder.map((l) => l.verified.k)).toEqual([0, 3, 6]);
  });

  it('cost: rows changed, queries, tokens (— when not recorded), and utility cost vs the same data without its rows', () => {
    expect(wm).toMatchObject({ rowsChanged: 12, queries: 24 });
    expect(vt).toMatchObject({ rowsChanged: 4, queries: 4 });
    expect(Number.isNaN(wm.tokens)).toBe(true);
    expect(wm.utilityCost).toBeCloseTo(0.01, 9);
  });

  it('verifier × attack table: one column per verifier, defense wins with interval and n', () => {
    const md = toMarkdown(verifierAttackTable(records.trials));
    expect(md).toContain('|attack|goal|data-watermark|wordlist (copy)|');
    expect(md).toContain('|drop(near-duplicate)|evade|0.83 [0.36, 1.00] n=6|0.00 [0.00, 0.46] n=6|');
    expect(md).toContain('|oracle-keep-only-flagged †|pass|');
  });

  it('the Findings paragraph carries the figures: worst case, the ladder, Type-I and cost', () => {
    const text = verifierFindings(records.trials, rows);
    expect(text).toContain('By worst case over the dishonest attacks: data-watermark 0.17 [0.00, 0.64] n=6 (against random-subset(90%)); wordlist (copy) 0.00 [0.00, 0.46] n=6 (against drop(near-duplicate)).');
    expect(text).toContain('Trained on a random 50% of the rows, the model is verified by data-watermark in 0.33 [0.04, 0.78] n=6, wordlist (copy) in 0.50 [0.12, 0.88] n=6.');
    expect(text).toContain('data-watermark 2/200 = 0.01 [0.0012, 0.036] at α = 0.01 (calibration)');
    expect(text).toContain('data-watermark 12.00 rows, 24.00 queries, +0.010 nats/token');
  });

  it('names a verifier no dishonest attack ran against, and says when no attack ran against every verifier', () => {
    const honestOnly = records.trials
      .filter((t) => t.cell.defense.id === 'data-watermark' && t.attack.id === 'honest')
      .map((t) => ({ ...t, cellKey: `h${t.cellKey}`, cell: { ...t.cell, labels: { ...t.cell.labels, defense: 'cue-reply' } } }));
    const withIdle = [...records.trials, ...honestOnly];
    const text = verifierFindings(withIdle, verifierRows(withIdle, records.calibration.records));
    expect(text).toContain('(against drop(near-duplicate)). No dishonest attack has a cell against cue-reply.');
    // Each verifier faces a different dishonest attack: no worst case is comparable.
    const apart = records.trials.filter((t) => t.attack.goal === 'baseline' || t.cell.labels.attack === (t.cell.defense.id === 'vtune' ? 'drop(near-duplicate)' : 'lookup-wrapper(near-duplicate)'));
    const split = [...apart, ...honestOnly];
    expect(verifierFindings(split, verifierRows(split))).toMatch(
      /^By worst case no verifier can be compared with another: no dishonest attack ran against every verifier \(drop\(near-duplicate\), lookup-wrapper\(near-duplicate\)\)\. No dishonest attack has a cell against cue-reply\. /,
    );
  });

  it('the report holds the section only when a verifier other than vtune ran', () => {
    const withRivals = buildReport(records);
    expect(withRivals.verifiers?.tableIds).toEqual(['verifiers', 'verifier-power', 'verifier-attacks']);
    expect(withRivals.verifiers?.findings).toBe(verifierSection(records.trials, records.calibration.records).findings);
    const vtuneOnly = buildReport({ ...records, trials: records.trials.filter((t) => t.cell.defense.id === 'vtune') });
    expect(vtuneOnly.verifiers).toBeUndefined();
    expect(vtuneOnly.tables.map((t) => t.id)).not.toContain('verifiers');
  });
});
