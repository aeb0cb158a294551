import { describe, expect, it } from 'vitest';
import { attackLeaderboard, attackRows, defenseRows, generatorLeaderboard, rate, rocOf } from '../../src/report/analyze.js';
import { attacksTable, displayRows, formatCell, generatorBoardTable, latexEscape, ratesTable, toCsv, toJson, toLatex, toMarkdown } from '../../src/report/tables.js';
import { trial } from './helpers.js';

const trials = [
  // honest: verified 3 of 4 → false alarm 1/4
  ...[true, true, true, false].map((v, i) => trial({ key: `h${i}`, attack: 'honest', goal: 'baseline', verified: v, log10p: v ? -20 - i : -1, defenseWon: v, seed: i })),
  // return-base (null): never verified → detection counts it; also a Type-I trial
  ...[0, 1, 2].map((i) => trial({ key: `r${i}`, attack: 'return-base', goal: 'baseline', verified: false, log10p: -0.1 * i, defenseWon: true, backdoorRowsTrained: 0, ttf: 0, seed: i })),
  // lazy random-subset: verified 2 of 4 → caught 2 of 4
  ...[true, false, true, false].map((v, i) => trial({ key: `s${i}`, attack: 'random-subset', goal: 'pass', verified: v, log10p: v ? -6 : -2, defenseWon: !v, ttf: 0.5, loss: 2.5, seed: i })),
  // evasive drop-flagged: never verified → survival 0
  ...[0, 1].map((i) => trial({ key: `d${i}`, attack: 'drop-flagged', goal: 'evade', verified: false, log10p: -0.5, defenseWon: false, backdoorRowsTrained: 0, ttf: 0.97, seed: i })),
];

describe('rates', () => {
  it('carries 95% Clopper-Pearson intervals (known values)', () => {
    const r = rate(3, 4);
    expect(r.rate).toBe(0.75);
    expect(r.lower).toBeCloseTo(0.19412, 4);
    expect(r.upper).toBeCloseTo(0.99369, 4);
    expect(rate(0, 0).rate).toBeNaN();
  });

  it('computes detection, survival, false alarm and Type-I by role and ground truth', () => {
    const [row] = defenseRows(trials);
    expect(row!.falseAlarm).toMatchObject({ k: 1, n: 4 });
    expect(row!.detection).toMatchObject({ k: 3 + 2, n: 3 + 4 });
    expect(row!.survival).toMatchObject({ k: 0, n: 2 });
    // never trained on the planted rows: 3 return-base + 2 drop-flagged, none verified; seeds 0–2 and 0–1 share
    // the secrets of seeds 0 and 1, so the unit is 3 secrets: upper bound of 0 of 3, not 0 of 5
    expect(row!.typeI).toMatchObject({ k: 0, n: 5, secrets: 3 });
    expect(row!.typeI.upper).toBeCloseTo(1 - 0.025 ** (1 / 3), 6);
  });

  it('computes per-attack median/IQR of log10 p, training saved and utility vs honest', () => {
    const rows = attackRows(trials);
    const subset = rows.find((r) => r.attack === 'random-subset')!;
    expect(subset.defenseWins).toMatchObject({ k: 2, n: 4 });
    expect(subset.log10pMedian).toBe(-4);
    expect(subset.trainingSaved).toBeCloseTo(0.5);
    expect(subset.heldOutLossVsHonest).toBeCloseTo(0.5);
  });

  it('ROC/AUROC of −log10 p: trained vs never trained', () => {
    const roc = rocOf(trials);
    expect(roc.positives).toBe(8);
    expect(roc.negatives).toBe(5);
    // every trained model but two random-subset cells (−log10 p = 2) and one honest (1) beats every null (≤ 0.5)
    expect(roc.auroc).toBe(1);
    expect(roc.points.at(-1)).toEqual({ fpr: 1, tpr: 1 });
    const mixed = rocOf([trial({ key: 'a', attack: 'honest', goal: 'baseline', verified: false, log10p: -0.2, defenseWon: false }), ...trials.filter((t) => t.attack.id === 'return-base')]);
    expect(mixed.auroc).toBeCloseTo(2.5 / 3, 10); // 0.2 beats the nulls 0 and 0.1, ties 0.2
  });
});

describe('leaderboards', () => {
  it('ranks attacks by success within each generator', () => {
    const board = attackLeaderboard(trials);
    expect(board.map((r) => [r.rank, r.attack])).toEqual([
      [1, 'drop-flagged'],
      [2, 'random-subset'],
    ]);
    expect(board[0]!.success).toMatchObject({ k: 2, n: 2 });
  });

  it('ranks attacks per defense configuration: copy and modify of one generator are not pooled', () => {
    const relabel = (t: (typeof trials)[number], defense: string) => ({ ...t, cellKey: `${defense}${t.cellKey}`, cell: { ...t.cell, labels: { ...t.cell.labels, defense, generator: 'random-tokens' } } });
    const copy = trials.map((t) => relabel(t, 'random-tokens (copy)'));
    // Under modify the evasive drop-flagged never gets its way.
    const modify = trials.map((t) => relabel(t.attack.id === 'drop-flagged' ? { ...t, defenseWon: true } : t, 'random-tokens (modify)'));
    const board = attackLeaderboard([...copy, ...modify]);
    const of = (defense: string) => board.filter((r) => r.defense === defense).map((r) => [r.rank, r.attack, r.success.k, r.success.n]);
    expect(of('random-tokens (copy)')).toEqual([
      [1, 'drop-flagged', 2, 2],
      [2, 'random-subset', 2, 4],
    ]);
    expect(of('random-tokens (modify)')).toEqual([
      [1, 'random-subset', 2, 4],
      [2, 'drop-flagged', 0, 2],
    ]);
  });

  it('ranks generators by worst-case detection', () => {
    const other = trials.map((t) => ({ ...t, cellKey: `o${t.cellKey}`, defenseWon: true, cell: { ...t.cell, labels: { ...t.cell.labels, defense: 'vtune:keyed', generator: 'keyed' } } }));
    const board = generatorLeaderboard([...trials, ...other]);
    expect(board.map((r) => r.defense)).toEqual(['vtune:keyed', 'vtune:random-tokens']);
    expect(board[1]).toMatchObject({ worstAttack: 'drop-flagged', worstCase: { k: 0, n: 2 } });
  });

  it('at an equal worst case an unmeasured false alarm (no honest cells) does not rank ahead of a measured one', () => {
    const as = (label: string, ts: typeof trials) => ts.map((t) => ({ ...t, cellKey: `${label}${t.cellKey}`, cell: { ...t.cell, labels: { ...t.cell.labels, defense: label } } }));
    // The same cells; 'vtune:a-unmeasured' has no honest ones, so its false alarm is NaN (not 0).
    const board = generatorLeaderboard([...as('vtune:a-unmeasured', trials.filter((t) => t.attack.id !== 'honest')), ...as('vtune:b-measured', trials)]);
    expect(board.map((r) => [r.rank, r.defense, r.falseAlarm.n])).toEqual([
      [1, 'vtune:b-measured', 4],
      [2, 'vtune:a-unmeasured', 0],
    ]);
  });

  it('configurations tied on worst case and false alarm share a rank; one without a dishonest attack is not ranked', () => {
    const as = (label: string) => trials.map((t) => ({ ...t, cellKey: `${label}${t.cellKey}`, cell: { ...t.cell, labels: { ...t.cell.labels, defense: label } } }));
    const honestOnly = trials.filter((t) => t.attack.id === 'honest').map((t) => ({ ...t, cellKey: `h${t.cellKey}`, cell: { ...t.cell, labels: { ...t.cell.labels, defense: 'vtune:template' } } }));
    const better = trials.map((t) => ({ ...t, cellKey: `k${t.cellKey}`, defenseWon: true, cell: { ...t.cell, labels: { ...t.cell.labels, defense: 'vtune:keyed' } } }));
    const board = generatorLeaderboard([...trials, ...as('vtune:wordlist'), ...better, ...honestOnly]);
    expect(board.map((r) => [r.rank, r.defense])).toEqual([
      [1, 'vtune:keyed'],
      [2, 'vtune:random-tokens'],
      [2, 'vtune:wordlist'],
      [undefined, 'vtune:template'],
    ]);
    expect(toMarkdown(generatorBoardTable(board))).toMatch(/\|—\|vtune:template\|/);
  });
});

describe('table renderings', () => {
  it('formats rates with interval and n, and dashes for missing values', () => {
    expect(formatCell(rate(3, 4), 'rate')).toBe('0.75 [0.19, 0.99] n=4');
    expect(formatCell(NaN, 'fixed3')).toBe('—');
    expect(formatCell(-0.0001, 'fixed2')).toBe('0.00');
  });

  it('writes Markdown, CSV, JSON (with metric declarations) and booktabs LaTeX', () => {
    const t = ratesTable(defenseRows(trials));
    expect(toMarkdown(t)).toContain('|dataset|model|defense|α|detection ↑|');
    const csv = toCsv(t).split('\n');
    expect(csv[0]).toContain('detection,detectionK,detectionN,detectionLower,detectionUpper');
    const json = JSON.parse(toJson(t));
    expect(json.metrics.falseAlarm).toMatchObject({ higherIsBetter: false, unit: 'fraction' });
    const tex = toLatex(attacksTable(attackRows(trials)));
    expect(tex).toMatch(/\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
    expect(tex).not.toMatch(/[^\\]_/); // underscores escaped
    expect(latexEscape('α ≤ 5% & x_1')).toBe('$\\alpha$ $\\leq$ 5\\% \\& x\\_1');
  });
});

describe('per-attack ground truth', () => {
  it('shows the planted rows that reached training and what the provider did after training, and lists oracles last', () => {
    const base = (key: string, attack: string, o: { rows?: number; modified?: boolean; wrapped?: boolean; oracle?: boolean; seed?: number }) => {
      const t = trial({ key, attack, goal: 'evade', verified: false, log10p: 0, defenseWon: false, backdoorRowsTrained: o.rows ?? 8, oracle: o.oracle, seed: o.seed });
      return { ...t, truth: { ...t.truth, modelModified: o.modified ?? false, inferenceWrapped: o.wrapped ?? false } };
    };
    const rows = attackRows([
      base('a0', 'a-oracle', { oracle: true }),
      base('u0', 'unlearn', { modified: true, seed: 0 }),
      base('u1', 'unlearn', { modified: true, seed: 1 }),
      base('c0', 'cleangen', { wrapped: true, seed: 0 }),
      base('c1', 'cleangen', { seed: 1 }),
      base('d0', 'drop', { rows: 0, seed: 0 }),
      base('d1', 'drop', { rows: 3, seed: 1 }),
    ]);
    expect(rows.map((r) => r.attack)).toEqual(['cleangen', 'drop', 'unlearn', 'a-oracle']);
    const shown = Object.fromEntries(displayRows(attacksTable(rows)).map((r) => [r.attack!, [r['backdoor rows trained'], r['after training']]]));
    expect(shown).toEqual({
      cleangen: ['8.00', 'inference wrapped 1/2'],
      drop: ['1.50', '—'],
      unlearn: ['8.00', 'weights modified'],
      'a-oracle †': ['8.00', '—'],
    });
  });
});
