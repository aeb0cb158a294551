import { describe, expect, it } from 'vitest';
import type { ManifestRecord, TrialRecord } from '../../src/records/schema.js';
import { attackRows } from '../../src/report/analyze.js';
import { configAttacks, findings, findingsMarkdown } from '../../src/report/findings.js';
import { trial } from './helpers.js';

const N = 21;
/** N cells (one secret each) of one attack against one defense; the defense wins in `wins` of them. */
function cells(o: { defense: string; attack: string; goal: 'baseline' | 'pass' | 'evade'; wins: number; ttf?: number; loss?: number; oracle?: boolean; insertion?: 'copy' | 'modify'; passes?: number; n?: number }): TrialRecord[] {
  return Array.from({ length: o.n ?? N }, (_, i) => {
    const won = i < o.wins;
    const verified = o.attack === 'honest' || o.goal === 'evade' ? won : !won;
    const t = trial({ key: `${o.defense}/${o.attack}/${i}`, attack: o.attack, goal: o.goal, verified, log10p: verified ? -8 : -0.5, defenseWon: won, defense: o.defense, seed: i, ttf: o.ttf ?? 1, loss: o.loss ?? 2, oracle: o.oracle });
    return {
      ...t,
      cell: { ...t.cell, defense: { id: 'vtune', options: { generator: 'wordlist', ...(o.insertion && { insertion: o.insertion }) } }, labels: { ...t.cell.labels, generator: 'wordlist' } },
      cost: { ...t.cost, extraInferencePasses: o.passes ?? 0 },
    };
  });
}

const COPY = 'wordlist (copy)';
const MODIFY = 'wordlist (modify)';
const board = [
  ...cells({ defense: COPY, attack: 'honest', goal: 'baseline', wins: 21, insertion: 'copy' }),
  // Both beat it; lookup trains nothing, so it is the cheapest despite the larger utility cost.
  ...cells({ defense: COPY, attack: 'lookup', goal: 'pass', wins: 0, ttf: 0, loss: 2.8, passes: 0.1, insertion: 'copy' }),
  ...cells({ defense: COPY, attack: 'subset50', goal: 'pass', wins: 7, ttf: 0.5, loss: 2.2, insertion: 'copy' }),
  // Success 11/21 = 0.52 > 0.5 but trains everything.
  ...cells({ defense: COPY, attack: 'drop', goal: 'evade', wins: 10, ttf: 0.95, insertion: 'copy' }),
  // The defense holds: 21/21, lower bound 0.84 ≥ 0.80.
  ...cells({ defense: COPY, attack: 'subset10', goal: 'pass', wins: 21, ttf: 0.1, insertion: 'copy' }),
  // An oracle that beats everything for free: never a finding.
  ...cells({ defense: COPY, attack: 'oracle', goal: 'pass', wins: 0, ttf: 0, oracle: true, insertion: 'copy' }),
  ...cells({ defense: MODIFY, attack: 'honest', goal: 'baseline', wins: 20, insertion: 'modify' }),
  ...cells({ defense: MODIFY, attack: 'lookup', goal: 'pass', wins: 21, ttf: 0, loss: 2.8, insertion: 'modify' }),
  ...cells({ defense: MODIFY, attack: 'subset50', goal: 'pass', wins: 12, ttf: 0.5, loss: 2.2, insertion: 'modify' }),
  ...cells({ defense: MODIFY, attack: 'drop', goal: 'evade', wins: 21, ttf: 0.95, insertion: 'modify' }),
  ...cells({ defense: MODIFY, attack: 'subset10', goal: 'pass', wins: 21, ttf: 0.1, insertion: 'modify' }),
];

describe('generated findings', () => {
  const text = findings(board);
  const about = (label: string) => text.find((p) => p.startsWith(`**${label}**:`))!;

  it('names the cheapest attack that beats each configuration, with its success interval, n, training saved and utility cost', () => {
    expect(about(COPY)).toContain('the cheapest of the 3 attack(s) that beat it is lookup (success 1.00 [0.84, 1.00] n=21, training saved 1.00, held-out loss vs honest +0.800 nats/token, 0.10 extra passes)');
    // Under modify only subset50 (9/21 defense wins → success 0.43) … does not beat it: nothing does.
    expect(about(MODIFY)).toContain('no attack beats it in more than half of its cells; the most successful is subset50 (success 0.43 [0.22, 0.66] n=21, training saved 0.50)');
  });

  it('says where the defense holds (95% lower bound ≥ 0.80), and how often an honest fine-tune verifies', () => {
    expect(about(COPY)).toContain('it holds against 1 of 4 attacks: subset10 1.00 [0.84, 1.00] n=21');
    expect(about(MODIFY)).toContain('it holds against 3 of 4 attacks: drop 1.00 [0.84, 1.00] n=21; lookup 1.00 [0.84, 1.00] n=21; subset10 1.00 [0.84, 1.00] n=21');
    expect(about(MODIFY)).toContain('an honest fine-tune verifies in 0.95 [0.76, 1.00] n=21');
  });

  it('ranks the most robust configuration by its worst case, and leaves the oracle out', () => {
    const robust = text.find((p) => p.startsWith('Most robust'))!;
    expect(robust).toMatch(/^Most robust by worst case: wordlist \(modify\) \(worst case 0\.57 \[0\.34, 0\.78\] n=21 against subset50/);
    expect(robust).toContain('least robust: wordlist (copy) (worst case 0.00 [0.00, 0.16] n=21 against lookup)');
    expect(text.join(' ')).not.toMatch(/oracle \(/);
    expect(text[0]).toContain(`the ${N} oracle cells (†) are left out of every finding`);
  });

  it('says what modify changes against copy: the attacks it moves by ≥ 0.20, and the worst case', () => {
    const m = text.find((p) => p.startsWith('**wordlist**, '))!;
    expect(m).toContain('wordlist (modify) instead of wordlist (copy) moves the defense win rate by at least 0.20 against 3 of 4 attacks (2 of them with disjoint 95% intervals)');
    expect(m).toContain('lookup 0.00 [0.00, 0.16] n=21 → 1.00 [0.84, 1.00] n=21');
    expect(m).toContain('drop 0.48 [0.26, 0.70] n=21 → 1.00 [0.84, 1.00] n=21');
    expect(m).toContain('subset50 0.33 [0.15, 0.57] n=21 → 0.57 [0.34, 0.78] n=21');
    expect(m).not.toContain('subset10 1.00');
    expect(m).toContain('worst case 0.00 [0.00, 0.16] n=21 (lookup) → 0.57 [0.34, 0.78] n=21 (subset50)');
  });

  it('every finding carries its figures; the Markdown section opens with a heading', () => {
    for (const p of text) expect(p).toMatch(/\d\.\d\d \[\d\.\d\d, \d\.\d\d\] n=\d+|\d+ cells/);
    expect(findingsMarkdown(board)).toMatch(/^## Findings\n\nGenerated from 231 cells of 2 defense configuration\(s\)/);
  });

  it('the pooled figures behind them: training saved and loss relative to the honest provider of the same configuration', () => {
    const lookup = configAttacks(board).find((c) => c.defense === COPY && c.attack === 'lookup')!;
    expect(lookup.trainingSaved).toBe(1);
    expect(lookup.lossVsHonest).toBeCloseTo(0.8, 12);
    expect(lookup.success).toMatchObject({ k: 21, n: 21 });
  });

  it('when every configuration has the same worst case, none is called the most robust', () => {
    const flat = board.filter((t) => t.cell.labels.defense === COPY);
    const twin = flat.map((t) => ({ ...t, cellKey: `twin/${t.cellKey}`, cell: { ...t.cell, labels: { ...t.cell.labels, defense: 'keyed (copy)' } } }));
    const text = findings([...flat, ...twin]);
    expect(text.some((p) => p.startsWith('Most robust'))).toBe(false);
    expect(text).toContain(
      'By worst case no configuration is more robust than another: keyed (copy) (worst case 0.00 [0.00, 0.16] n=21 against lookup), wordlist (copy) (worst case 0.00 [0.00, 0.16] n=21 against lookup).',
    );
  });

  it('no dishonest attack, no findings', () => {
    expect(findings(board.filter((t) => t.attack.id === 'honest'))).toEqual([]);
    expect(findingsMarkdown([])).toBe('');
  });

  it('counts secrets as the tables do: each hyper-parameter setting plants its own (analyze.ts secretOf)', () => {
    // The same 21 seeds at two learning rates: 42 secrets (src/pipeline/cell.ts pairKey includes the hyper).
    const lr = (ts: TrialRecord[], learningRate: number) => ts.map((t) => ({ ...t, cellKey: `${learningRate}/${t.cellKey}`, cell: { ...t.cell, hyper: { ...t.cell.hyper, learningRate } } }));
    const drop = cells({ defense: COPY, attack: 'drop', goal: 'evade', wins: 10 });
    const both = [...lr(drop, 1e-3), ...lr(drop, 3e-3)];
    const [c] = configAttacks(both);
    // (clusteredRate leaves `secrets` out when every cell has its own secret.)
    expect(c!.defenseWins).toMatchObject({ k: 20, n: 42 });
    expect(c!.defenseWins.secrets ?? c!.defenseWins.n).toBe(42);
    expect(c!.defenseWins).toEqual(attackRows(both)[0]!.defenseWins);
  });

  it('at a perfect score over too few secrets it says the bound cannot be reached, instead of "holds against none" alone', () => {
    const small = [
      ...cells({ defense: COPY, attack: 'honest', goal: 'baseline', wins: 7, n: 7 }),
      ...cells({ defense: COPY, attack: 'drop', goal: 'evade', wins: 7, n: 7 }),
      ...cells({ defense: COPY, attack: 'lookup', goal: 'pass', wins: 0, ttf: 0, n: 7 }),
    ];
    const text = findings(small).find((p) => p.startsWith(`**${COPY}**:`))!;
    // 7/7 has a 95% lower bound of 0.59: no result over 7 secrets can reach 0.80.
    expect(text).toContain('it holds against none of its 2 attacks; it won every cell against 1 of them, over too few secrets for a 95% lower bound of 0.80 at any score: drop 1.00 [0.59, 1.00] n=7');
    // At n = 21 the same perfect score holds, and no such clause is written.
    expect(findings(board).join(' ')).not.toContain('too few secrets');
  });

  it('a configuration with no dishonest attack says so rather than only its honest rate', () => {
    const only = [...board, ...cells({ defense: 'template (modify)', attack: 'honest', goal: 'baseline', wins: 21 })];
    expect(findings(only)).toContain('**template (modify)**: no dishonest attack has a cell against it; an honest fine-tune verifies in 1.00 [0.84, 1.00] n=21.');
    // And it is left out of the robustness comparison, which has no attack to rank it by.
    expect(findings(only).find((p) => p.startsWith('Most robust'))).not.toContain('template');
  });

  it('compares worst cases only over the attacks every configuration ran, naming the ones left out', () => {
    // Under copy alone a new attack wins every cell; without the common-set rule modify would look more robust
    // simply because the attack never ran against it.
    const extra = [...board, ...cells({ defense: COPY, attack: 'unlearn', goal: 'evade', wins: 21 }), ...cells({ defense: MODIFY, attack: 'cleangen', goal: 'evade', wins: 0 })];
    const robust = findings(extra).find((p) => p.startsWith('Most robust'))!;
    expect(robust).toContain('Compared over the 4 dishonest attack(s) every configuration ran; left out, as not run against every configuration: cleangen, unlearn.');
    // modify's worst case over the common four stays subset50, not the cleangen it alone faced.
    expect(robust).toMatch(/^Most robust by worst case: wordlist \(modify\) \(worst case 0\.57 \[0\.34, 0\.78\] n=21 against subset50/);
    const none = findings([...cells({ defense: COPY, attack: 'lookup', goal: 'pass', wins: 0 }), ...cells({ defense: MODIFY, attack: 'drop', goal: 'evade', wins: 21 })]);
    expect(none).toContain('By worst case no configuration can be compared with another: no dishonest attack ran against every configuration (drop, lookup).');
  });

  it('says when the most and least robust configurations\' intervals overlap', () => {
    const close = [...cells({ defense: COPY, attack: 'drop', goal: 'evade', wins: 10 }), ...cells({ defense: MODIFY, attack: 'drop', goal: 'evade', wins: 12 })];
    const robust = findings(close).find((p) => p.startsWith('Most robust'))!;
    expect(robust).toContain('least robust: wordlist (copy) (worst case 0.48 [0.26, 0.70] n=21 against drop); their 95% intervals overlap, so these cells do not tell them apart.');
    expect(findings(board).find((p) => p.startsWith('Most robust'))).not.toContain('overlap');
  });

  it('on a partial run it says how many planned cells have finished and which configurations and attacks have none yet', () => {
    const manifest = {
      kind: 'manifest',
      schemaVersion: 1,
      runId: 'r',
      scenario: {
        name: 'leaderboard',
        hash: 'r',
        definition: {
          datasets: [{ spec: 'builtin:tiny', size: 60 }, { spec: 'code', size: 60 }, 'math'],
          defenses: [{ label: COPY }, { label: MODIFY }, { label: 'splice (copy)' }, { options: {} }],
          attacks: ['honest', 'lookup', { id: 'x', label: 'unlearn' }, { id: 'y' }],
        },
      },
      seeds: [0],
      cellCount: 400,
      packageVersions: {},
      machine: { platform: 'linux', arch: 'x64', cpuModel: 'cpu', cpuCount: 2, memoryBytes: 1, node: 'v22' },
      startedAt: '2026-01-01T00:00:00Z',
    } satisfies ManifestRecord;
    const text = findings(board, [manifest])[0]!;
    expect(text).toContain(
      'These records are a partial run: 231 of the 400 planned cells (57%) have finished, so every figure below covers those cells only; no cell yet for dataset(s) code, math; no cell yet for configuration(s) splice (copy); no cell yet for attack(s) unlearn.',
    );
    expect(findings(board, [{ ...manifest, cellCount: 231 }])[0]).not.toContain('partial run');
    // Shards of one run add up; records of two runs (which may share cells) say nothing about what was planned.
    expect(findings(board, [{ ...manifest, cellCount: 200 }, { ...manifest, cellCount: 200 }])[0]).toContain('231 of the 400 planned cells');
    expect(findings(board, [manifest, { ...manifest, runId: 'other', scenario: { ...manifest.scenario, hash: 'other' } }])[0]).not.toContain('partial run');
  });

  it('the cheapest attack carries its task-metric cost beside held-out loss, which misses a change of decoding', () => {
    // Like cleangen on the leaderboard: the held-out loss of the wrapped model equals honest, its generations score 0.
    const withTask = (ts: TrialRecord[], task: number) => ts.map((t) => ({ ...t, utility: { ...t.utility, taskMetric: task } }));
    const rows = [
      ...withTask(cells({ defense: COPY, attack: 'honest', goal: 'baseline', wins: 21 }), 0.28),
      ...withTask(cells({ defense: COPY, attack: 'decode', goal: 'evade', wins: 0, passes: 3 }), 0),
    ];
    expect(findings(rows).find((p) => p.startsWith(`**${COPY}**:`))).toContain(
      'the cheapest of the 1 attack(s) that beat it is decode (success 1.00 [0.84, 1.00] n=21, training saved 0.00, held-out loss vs honest +0.000 nats/token, task metric vs honest −0.280, 3.00 extra passes)',
    );
  });
});
