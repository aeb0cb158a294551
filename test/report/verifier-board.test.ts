/**
 * The verifier leaderboard from REAL records (test/fixtures/verifiers-real/README.md): a slice of the `verifiers`
 * scenario run on local:vtb-base, the committed verifier-power records and a subsample of the committed
 * calibration. `vtune-bench report` on them must produce the "Verifier leaderboard" section — verifier × attack
 * defense-win rates with intervals, Type-I measured by calibration, power against the subset ladder, cost,
 * utility cost, a generated Findings paragraph, and "no power at default sizes" where a verifier has none — and
 * regenerate byte-identically.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashTree } from '../fixtures/leaderboard/expected.js';
import { HERE, load, regenerate } from '../fixtures/verifiers-real/expected.js';
import { buildReport } from '../../src/report/index.js';
import { displayRows } from '../../src/report/tables.js';

const tmps: string[] = [];
afterAll(() => tmps.forEach((d) => rmSync(d, { recursive: true, force: true })));
const expected = (file: string): string => readFileSync(join(HERE, 'expected', file), 'utf8');

const records = load();
const content = buildReport(records);
const table = (id: string) => {
  const t = content.tables.find((x) => x.id === id);
  if (!t) throw new Error(`no table ${id}`);
  return displayRows(t);
};
const VERIFIERS = ['cue-reply', 'data-watermark', 'dataset-inference', 'utility-gain', 'vtune (wordlist)'];

describe('the verifier leaderboard from real records', () => {
  it('the records are real: five verifiers on local:vtb-base, rival verdicts with a statistic, calibration found under results/', () => {
    expect([...new Set(records.trials.map((t) => t.cell.labels.defense))].sort()).toEqual(VERIFIERS);
    expect(new Set(records.trials.map((t) => t.cell.model))).toEqual(new Set(['local:vtb-base']));
    expect(records.trials.find((t) => t.cell.defense.id === 'cue-reply')!.verdict).toHaveProperty('statistic');
    expect(records.calibration.records.length).toBeGreaterThan(0);
  });

  it('writes the section after the leaderboard tables: its Findings paragraph, then the verifier, power and verifier × attack tables', () => {
    const md = expected('verifiers.md');
    const at = (s: string): number => md.indexOf(s);
    expect(at('## Verifier leaderboard\n\n#### Findings\n\nBy worst case over the dishonest attacks: ')).toBeGreaterThan(at('### Leaderboard: generators ranked'));
    expect(at('### Verifier leaderboard: Type-I, power, cost and utility cost')).toBeGreaterThan(at('## Verifier leaderboard'));
    expect(at('### Verifier power on an honest fine-tune')).toBeGreaterThan(at('### Verifier leaderboard: Type-I'));
    expect(at('### Verifier × attack: defense win rates')).toBeGreaterThan(at('### Verifier power on an honest fine-tune'));
    expect(content.verifiers?.tableIds).toEqual(['verifiers', 'verifier-power', 'verifier-attacks']);
  });

  it('verifier × attack: one column per verifier, a defense-win rate with its interval and n in each cell that ran', () => {
    const rows = table('verifier-attacks');
    expect(Object.keys(rows[0]!)).toEqual(['attack', 'goal', ...VERIFIERS]);
    const honest = rows.find((r) => r.attack === 'honest')!;
    expect(honest['utility-gain']).toBe('0.00 [0.00, 0.16] n=21');
    expect(honest['vtune (wordlist)']).toBe('1.00 [0.84, 1.00] n=21');
    for (const r of rows) for (const v of VERIFIERS) expect(r[v]).toMatch(/^(\d\.\d\d \[\d\.\d\d, \d\.\d\d\] n=\d+|—)$/);
    expect(rows.at(-1)!.attack).toBe('oracle-keep-only-flagged †');
  });

  it("Type-I is measured by calibration where it matches the verifier's configuration, and from the run where it does not", () => {
    const rows = Object.fromEntries(table('verifiers').map((r) => [r.verifier!, r]));
    expect(rows['cue-reply']!['Type-I from']).toBe('calibration');
    expect(rows['cue-reply']!['Type-I ↓']).toBe('0/100 = 0 [0, 0.036]');
    expect(rows['vtune (wordlist)']!['Type-I ↓']).toBe('0/200 = 0 [0, 0.018]');
    // The committed data-watermark calibration is at nulls 99; the board runs its default (999): no match, the run's nulls.
    expect(rows['data-watermark']!['Type-I from']).toBe('run');
    // The first 100 dataset-inference null trials hold 4 at p ≤ 0.01 (README: a subsample, not the 1000-trial result).
    expect(rows['dataset-inference']!['Type-I from']).toBe('calibration ✗ exceeds α');
    expect(content.summary).toContain('the other 100 are of configurations not in these records');
  });

  it("the headline rates give a rival verifier the same calibrated Type-I as the verifier table, in its own decision mode", () => {
    const headline = Object.fromEntries(table('rates').map((r) => [r.defense!, r]));
    expect(headline['cue-reply']!['Type-I ↓ (calibration, decision mode)']).toBe('0/100 = 0 [0, 0.036]');
    expect(headline['cue-reply']!['Type-I by null mode (calibration)']).toBe('*rank-sum 0/100 = 0 [0, 0.036]');
    expect(headline['dataset-inference']!['Type-I by null mode (calibration)']).toBe('*welch-t 4/100 = 0.04 [0.011, 0.099] ✗ exceeds α');
    expect(headline['data-watermark']!['Type-I by null mode (calibration)']).toBe('— (no calibration records)');
  });

  it('power against the 10/50/90% subset ladder, cost (rows changed, queries, tokens) and utility cost are columns', () => {
    const rows = table('verifiers');
    expect(Object.keys(rows[0]!)).toEqual([
      'verifier',
      'defense id',
      'α',
      'Type-I ↓',
      'Type-I from',
      'honest verified ↑',
      'verified, 10% subset',
      'verified, 50% subset',
      'verified, 90% subset',
      'rows changed',
      'queries',
      'tokens',
      'utility cost (Δ held-out loss, nats/tok)',
    ]);
    const wm = rows.find((r) => r.verifier === 'data-watermark')!;
    expect(wm['verified, 90% subset']).toMatch(/ n=2$/);
    expect(wm.queries).toBe('1000.00');
    expect(wm['utility cost (Δ held-out loss, nats/tok)']).toMatch(/^-?\d\.\d{3}$/);
  });

  it('the power table says where a verifier has no power at the default sizes, and the Findings paragraph says so too', () => {
    const ug = table('verifier-power').find((r) => r.verifier === 'utility-gain')!;
    expect(ug).toMatchObject({ secrets: '21', 'honest verified ↑': '0/21 = 0 [0, 0.16]', power: 'no power at default sizes' });
    expect(content.verifiers!.findings).toContain('No power at the default sizes (95% upper bound on honest fine-tunes verified below 0.25): utility-gain 0/21 = 0 [0, 0.16] over 21 secrets.');
    expect(content.verifiers!.findings).toContain('Type-I above what a valid test gives: dataset-inference 4/100 = 0.04 [0.011, 0.099] at α = 0.01 (calibration)');
    expect(content.verifiers!.findings).toMatch(/Trained on a random 10% of the rows, the model is verified by .* in \d\.\d\d \[/);
    expect(content.verifiers!.findings).toMatch(/Cost per secret \(rows changed, queries, utility cost\): .*data-watermark 6\.00 rows, 1000\.00 queries, [+−]\d\.\d{3} nats\/token/);
  });
});

describe('the verifier board regenerates byte-identically from its committed records', () => {
  it('every file of the report and the published page has the committed SHA-256', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vtb-verifiers-real-'));
    tmps.push(out);
    await regenerate(out);
    expect(readFileSync(join(out, 'results', 'verifiers.md'), 'utf8')).toBe(expected('verifiers.md'));
    expect(readFileSync(join(out, 'report', 'report.md'), 'utf8')).toBe(expected('report.md'));
    expect(hashTree(out)).toBe(expected('sha256.txt'));
  }, 180_000);
});
