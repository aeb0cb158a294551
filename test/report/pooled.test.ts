/**
 * Pooled rates with the secret as the unit, and oracle attacks out of every headline rate (issue 13 item 5).
 * The fixture mirrors the default scenario's shape: 3 seeds (one secret each), 4 lazy attacks of which one is
 * the oracle, 2 null baselines.
 */
import { describe, expect, it } from 'vitest';
import { attackLeaderboard, clusteredCounts, clusteredRate, defenseRows, generatorLeaderboard, rate } from '../../src/report/analyze.js';
import { attackBoardTable, formatCell, ratesTable, toMarkdown } from '../../src/report/tables.js';
import { trial } from './helpers.js';

const seeds = [0, 1, 2];
const trials = seeds.flatMap((seed) => [
  trial({ key: `lw${seed}`, attack: 'lookup-wrapper', goal: 'pass', verified: true, log10p: -80, defenseWon: false, seed }),
  trial({ key: `or${seed}`, attack: 'oracle-keep-only-flagged', goal: 'pass', verified: true, log10p: -80, defenseWon: false, oracle: true, seed }),
  trial({ key: `s5${seed}`, attack: 'random-subset(50%)', goal: 'pass', verified: true, log10p: -40, defenseWon: false, seed }),
  trial({ key: `s1${seed}`, attack: 'random-subset(10%)', goal: 'pass', verified: false, log10p: 0, defenseWon: true, seed }),
  trial({ key: `rb${seed}`, attack: 'return-base', goal: 'baseline', verified: false, log10p: 0, defenseWon: true, backdoorRowsTrained: 0, seed }),
  trial({ key: `tw${seed}`, attack: 'train-without-backdoors', goal: 'baseline', verified: false, log10p: 0, defenseWon: true, backdoorRowsTrained: 0, seed }),
  trial({ key: `ho${seed}`, attack: 'honest', goal: 'baseline', verified: true, log10p: -80, defenseWon: true, seed }),
]);

describe('headline rates leave the oracle out', () => {
  it('detection is 9/15 (the oracle made it 9/18)', () => {
    const [row] = defenseRows(trials);
    expect(row!.detection).toMatchObject({ k: 9, n: 15, secrets: 3 });
    expect(row!.detection.rate).toBeCloseTo(0.6, 12);
    expect(row!.oracleCells).toBe(3);
  });

  it('the oracle is left out of false alarm and Type-I too, and the table says so', () => {
    const withHonestOracle = [...trials, trial({ key: 'x', attack: 'oracle-honest', goal: 'baseline', verified: false, log10p: 0, defenseWon: false, oracle: true, honest: true, backdoorRowsTrained: 0 })];
    const [row] = defenseRows(withHonestOracle);
    expect(row!.falseAlarm).toMatchObject({ k: 0, n: 3 });
    expect(row!.typeI).toMatchObject({ k: 0, n: 6 });
    expect(toMarkdown(ratesTable([row!]))).toMatch(/Oracle attacks .* are excluded from every rate here/);
  });

  it('oracle attacks are listed † and unranked on the attack leaderboard', () => {
    const board = attackLeaderboard(trials);
    const oracle = board.find((r) => r.oracle)!;
    expect(oracle.rank).toBeUndefined();
    expect(board.filter((r) => !r.oracle).map((r) => r.rank)).toEqual([1, 2, 3]);
    expect(board.at(-1)!.oracle).toBe(true);
    const md = toMarkdown(attackBoardTable(board));
    expect(md).toContain('|—|oracle-keep-only-flagged †|');
  });

  it('the generator leaderboard worst case ignores the oracle', () => {
    const [g] = generatorLeaderboard(trials);
    expect(g!.worstAttack).not.toContain('oracle');
  });
});

describe('pooled rates count the secret as the unit', () => {
  it('9 of 15 cells over 3 secrets: Clopper-Pearson over 3 secrets with 1.8 successes rounded outward', () => {
    const r = clusteredCounts(9, 15, 3);
    expect(r).toMatchObject({ k: 9, n: 15, secrets: 3, rate: 0.6 });
    // hand-computed: lower = CP lower of 1 of 3 = 1 − 0.975^(1/3); upper = CP upper of 2 of 3 = 0.975^(1/3)
    expect(r.lower).toBeCloseTo(1 - 0.975 ** (1 / 3), 9);
    expect(r.upper).toBeCloseTo(0.975 ** (1 / 3), 9);
    // far wider than the cell-level interval, which would pretend 15 independent trials
    const naive = rate(9, 15);
    expect(r.upper - r.lower).toBeGreaterThan(naive.upper - naive.lower);
    expect(defenseRows(trials)[0]!.detection.lower).toBeCloseTo(r.lower, 12);
  });

  it('one cell per secret gives the plain interval; integer share is not rounded', () => {
    expect(clusteredRate([0, 1, 2, 3].map((i) => ({ success: i < 3, secret: `s${i}` })))).toEqual(rate(3, 4));
    // 6 of 12 over 4 secrets: 2 of 4 exactly
    const r = clusteredCounts(6, 12, 4);
    expect(r.lower).toBeCloseTo(rate(2, 4).lower, 12);
    expect(r.upper).toBeCloseTo(rate(2, 4).upper, 12);
  });

  it('shows the secrets beside n, and the legend says which unit', () => {
    expect(formatCell(clusteredCounts(9, 15, 3), 'rate')).toBe('0.60 [0.01, 0.99] n=15 (3 secrets)');
    expect(ratesTable(defenseRows(trials)).caption).toContain('Pooled rates count the secret as the unit');
  });

  it('cells of different defenses or seeds are different secrets; attacks of one seed share one', () => {
    const other = trials.map((t) => ({ ...t, cellKey: `o${t.cellKey}`, cell: { ...t.cell, labels: { ...t.cell.labels, defense: 'vtune:wordlist' } } }));
    const rows = defenseRows([...trials, ...other]);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.detection.secrets).toBe(3);
  });
});
