import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../src/cli/commands/report.js';
import { buildReport, loadRecords } from '../../src/report/index.js';
import { toMarkdown } from '../../src/report/tables.js';
import type { TrialRecord } from '../../src/records/schema.js';
import { NO_POWER_UPPER, verifierPower, verifierPowerTable } from '../../src/report/verifiers.js';

// Synthetic records (test/fixtures/leaderboard/README.md): vTune (wordlist, copy) beside data-watermark, 6 honest
// and 6 return-base cells each over 2 datasets × 3 seeds.
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'leaderboard', 'results', 'verifiers', 'fixture-verifiers');
const records = loadRecords([FIXTURE]);

/** `n` honest cells of one made-up verifier, `k` of them verified, each its own seed (secret); log10 p of cell i = −i. */
function honestCells(label: string, k: number, n: number): TrialRecord[] {
  const template = records.trials.find((t) => t.attack.id === 'honest' && t.cell.defense.id === 'data-watermark')!;
  return Array.from({ length: n }, (_, i) => ({
    ...template,
    cellKey: `${label}-${i}`,
    cell: { ...template.cell, seed: i, labels: { ...template.cell.labels, defense: label } },
    verdict: { ...template.verdict, verified: i < k, log10p: -i },
  }));
}

describe('verifier power table (issue 19): honest fine-tunes verified, from records', () => {
  it('counts secrets, k/n with the Clopper-Pearson interval and the median log10 p per verifier', () => {
    const rows = verifierPower(records.trials);
    expect(rows.map((r) => r.verifier)).toEqual(['data-watermark', 'wordlist (copy)']);
    const [wm, vt] = rows;
    expect(wm).toMatchObject({ id: 'data-watermark', alpha: 0.01, secrets: 6, verified: { k: 5, n: 6 }, status: 'undecided' });
    expect(wm!.verified.lower).toBeCloseTo(0.3588, 3);
    // log10 p of the honest data-watermark cells: −3.5, −3.25, −3, −2.75, −2.5, −0.7 → median (−3 − 2.75)/2.
    expect(wm!.medianLog10p).toBeCloseTo(-2.875, 12);
    expect(vt).toMatchObject({ id: 'vtune', alpha: 1e-3, secrets: 6, verified: { k: 6, n: 6 }, medianLog10p: -9.5, status: 'power' });
    expect(wm!.falseAccusations).toMatchObject({ k: 0, n: 6 });
    expect(wm!.medianLog10pBase).toBeCloseTo(-0.45, 12);
  });

  it('prints the table with the return-base false-accusation columns', () => {
    const md = toMarkdown(verifierPowerTable(verifierPower(records.trials)));
    expect(md).toContain('|verifier|defense id|α|secrets|honest verified ↑|log10 p (median)|power|return-base verified ↓|return-base log10 p (median)|');
    expect(md).toContain('|data-watermark|data-watermark|1e-2|6|5/6 = 0.83 [0.36, 1]|-2.9|undecided|0/6 = 0 [0, 0.46]|-0.5|');
    expect(md).toContain('|wordlist (copy)|vtune|1e-3|6|6/6 = 1 [0.54, 1]|-9.5|has power|0/6 = 0 [0, 0.46]|-0.5|');
  });

  it('says "no power at default sizes" only when the upper bound is below the threshold (1/21 yes; 2/21 and 0/12 undecided)', () => {
    const rows = verifierPower([...honestCells('one-of-21', 1, 21), ...honestCells('two-of-21', 2, 21), ...honestCells('none-of-12', 0, 12)]);
    const by = new Map(rows.map((r) => [r.verifier, r]));
    expect(by.get('one-of-21')!.verified.upper).toBeLessThan(NO_POWER_UPPER);
    expect(by.get('one-of-21')).toMatchObject({ secrets: 21, status: 'no power', medianLog10p: -10 });
    expect(by.get('two-of-21')!.verified.upper).toBeGreaterThan(NO_POWER_UPPER);
    expect(by.get('two-of-21')!.status).toBe('undecided');
    // 0 of 12 is not evidence of no power: its upper bound is 0.26.
    expect(by.get('none-of-12')!.status).toBe('undecided');
    const md = toMarkdown(verifierPowerTable(rows));
    expect(md).toContain('|one-of-21|data-watermark|1e-2|21|1/21 = 0.048 [0.0012, 0.24]|-10.0|no power at default sizes|');
    // Without return-base cells the table has no false-accusation columns.
    expect(md).not.toContain('return-base verified');
  });

  it('leaves out verifiers without honest cells and oracle cells', () => {
    const noHonest = records.trials.filter((t) => !(t.attack.id === 'honest' && t.cell.defense.id === 'vtune'));
    expect(verifierPower(noHonest).map((r) => r.verifier)).toEqual(['data-watermark']);
    const oracleOnly = honestCells('oracle', 3, 3).map((t) => ({ ...t, attack: { ...t.attack, oracle: true } }));
    expect(verifierPower(oracleOnly)).toEqual([]);
  });

  it('is one of the verifier section tables of the report', () => {
    expect(buildReport(records).verifiers?.tableIds).toEqual(['verifiers', 'verifier-power', 'verifier-attacks']);
  });

  it('`vtune-bench report` prints the table after writing the report (and not for vTune-only records)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vtb-power-'));
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true));
    try {
      expect(await reportCommand.run({ records: [join(FIXTURE, 'records.jsonl.gz')], out: join(out, 'rivals') })).toBe(0);
      const LEADERBOARD = join(import.meta.dirname, '..', 'fixtures', 'leaderboard', 'results', 'leaderboard', 'fixture-leaderboard', 'records.jsonl.gz');
      const before = printed.length;
      expect(await reportCommand.run({ records: [LEADERBOARD], out: join(out, 'vtune') })).toBe(0);
      expect(printed.slice(before).join('')).not.toContain('Verifier power');
    } finally {
      spy.mockRestore();
      rmSync(out, { recursive: true, force: true });
    }
    const text = printed.join('');
    expect(text).toContain('### Verifier power on an honest fine-tune');
    expect(text).toContain('|wordlist (copy)|vtune|1e-3|6|6/6 = 1 [0.54, 1]|-9.5|has power|0/6 = 0 [0, 0.46]|-0.5|');
  });
});
