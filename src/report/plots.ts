/**
 * The report's charts as vega-lite specs, pure functions of trial records: defense win rates with intervals
 * per attack, −log10 p strip plots with the α line, power vs number of backdoors, the verifier's ROC per
 * vTune configuration, and the attacker's frontier (training saved vs pass rate).
 */
import type { TrialRecord } from '../records/schema.js';
import { attackRows, rate, rocOf, roleOf, type AttackRow } from './analyze.js';

/** A vega-lite spec (kept loose: the compiler validates it). */
export type VegaLiteSpec = Record<string, unknown>;

/** A named chart of the report. */
export interface Chart {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly spec: VegaLiteSpec;
}

const FONT = 'DejaVu Sans';
/** Shared look: fixed font (bundled, so PNGs are deterministic), horizontal labels, no chart border. */
export const CHART_CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, gridColor: '#e6e6e6' },
  axisX: { labelAngle: 0 },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 260 },
  title: { fontSize: 14, anchor: 'start', offset: 10 },
};

const base = (title: string, width = 560): VegaLiteSpec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title,
  width,
  background: 'white',
  padding: 12,
  config: CHART_CONFIG,
});

const GOAL_COLOR: Readonly<Record<string, string>> = { baseline: '#4c78a8', honest: '#4c78a8', null: '#54a24b', pass: '#e45756', evade: '#f58518' };
/** The goal colour scale: records written before honest and null were told apart keep their legacy domain (and chart). */
const goalColors = (goals: readonly string[]) => {
  const domain = goals.some((g) => g === 'honest' || g === 'null') ? ['honest', 'null', 'pass', 'evade'] : ['baseline', 'pass', 'evade'];
  return { domain, range: domain.map((g) => GOAL_COLOR[g]!) };
};

/** Every chart of a report. */
export function charts(trials: readonly TrialRecord[], rows: readonly AttackRow[]): Chart[] {
  const pooled = pooledAttackRows(trials, rows);
  return [winRateChart(pooled, pooled !== rows), log10pChart(trials), powerChart(trials), rocChart(trials), frontierChart(rows)];
}

/**
 * The per-attack rows pooled over datasets and models (one row per defense configuration and attack, its rate over
 * every secret of it), for a chart that draws one interval per configuration and attack: per-dataset rows would
 * be drawn on top of one another. `rows` as they are when the trials span one dataset and model.
 */
export function pooledAttackRows(trials: readonly TrialRecord[], rows: readonly AttackRow[]): readonly AttackRow[] {
  if (new Set(rows.map((r) => `${r.dataset}\u0000${r.model}`)).size <= 1) return rows;
  return attackRows(trials.map((t) => ({ ...t, cell: { ...t.cell, labels: { ...t.cell.labels, dataset: POOLED, model: POOLED } } })));
}
const POOLED = 'all';

const multi = (rows: readonly { defense: string }[]): boolean => new Set(rows.map((r) => r.defense)).size > 1;

/** Where an attack's role sits on a chart's attack axis: the honest provider, the nulls, lazy, evasive. */
const ROLE_ORDER: readonly string[] = ['honest', 'null', 'pass', 'evade'];
/**
 * The attack axis of a chart (shown labels, † on oracles): grouped by role in ROLE_ORDER, by label within a
 * role, and the oracle upper bounds last, apart from every realistic attack.
 */
export function attackOrder(items: readonly { readonly attack: string; readonly role: string; readonly oracle: boolean }[]): string[] {
  const seen = new Map<string, { role: number; oracle: boolean }>();
  for (const i of items) if (!seen.has(i.attack)) seen.set(i.attack, { role: ROLE_ORDER.indexOf(i.role), oracle: i.oracle });
  return [...seen.entries()]
    .sort(([a, x], [b, y]) => Number(x.oracle) - Number(y.oracle) || x.role - y.role || (a < b ? -1 : a > b ? 1 : 0))
    .map(([a]) => a);
}

/** Defense win rate per attack with its 95% Clopper-Pearson interval (`pooled`: the rows pool datasets and models). */
export function winRateChart(rows: readonly AttackRow[], pooled = false): Chart {
  const data = rows.map((r) => ({
    attack: r.oracle ? `${r.attack} †` : r.attack,
    role: r.role,
    oracle: r.oracle,
    defense: r.defense,
    goal: r.goal,
    rate: r.defenseWins.rate,
    lower: r.defenseWins.lower,
    upper: r.defenseWins.upper,
    n: r.defenseWins.n,
  }));
  const byDefense = multi(rows);
  const GOAL_COLORS = goalColors(data.map((d) => d.goal));
  const enc = {
    y: { field: 'attack', type: 'nominal', sort: attackOrder(data), title: null },
    ...(byDefense && { yOffset: { field: 'defense', type: 'nominal' } }),
  };
  return {
    id: 'defense-wins',
    title: 'Defense wins per attack',
    description:
      'Share of cells the defense won (DESIGN.md §2 rule per goal), with 95% Clopper-Pearson intervals' +
      (pooled ? ' over the secrets of every dataset and model, pooled: one interval per defense configuration and attack' : '') +
      '. Attacks run from the honest provider and the nulls to the lazy and the evasive ones; the oracle upper bounds (†) come last.',
    spec: {
      ...base('Defense wins per attack (95% Clopper-Pearson interval)'),
      // With yOffset the step is per (attack, defense) sub-band: 28 px per attack shared out, at least 10 px each.
      height: { step: byDefense ? Math.max(10, Math.round(28 / new Set(rows.map((r) => r.defense)).size)) : 22 },
      data: { values: data },
      encoding: enc,
      layer: [
        {
          mark: { type: 'rule', strokeWidth: 2 },
          encoding: {
            x: { field: 'lower', type: 'quantitative', scale: { domain: [0, 1] }, title: 'defense win rate' },
            x2: { field: 'upper' },
            color: byDefense ? { field: 'defense', type: 'nominal', title: 'defense' } : { field: 'goal', type: 'nominal', scale: GOAL_COLORS, title: 'attack goal' },
          },
        },
        {
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x: { field: 'rate', type: 'quantitative' },
            shape: { field: 'goal', type: 'nominal', title: 'attack goal' },
            color: byDefense ? { field: 'defense', type: 'nominal' } : { field: 'goal', type: 'nominal', scale: GOAL_COLORS },
            tooltip: [{ field: 'attack' }, { field: 'defense' }, { field: 'rate', format: '.2f' }, { field: 'lower', format: '.2f' }, { field: 'upper', format: '.2f' }, { field: 'n' }],
          },
        },
      ],
    },
  };
}

/** −log10 p of every trial per attack (deterministic jitter), with the verification threshold −log10 α. */
export function log10pChart(trials: readonly TrialRecord[]): Chart {
  const counters = new Map<string, number>();
  const data = trials.map((t) => {
    const attack = t.attack.oracle ? `${t.cell.labels.attack} †` : t.cell.labels.attack;
    const i = counters.get(attack) ?? 0;
    counters.set(attack, i + 1);
    return {
      attack,
      role: roleOf(t),
      oracle: t.attack.oracle,
      defense: t.cell.labels.defense,
      negLog10p: Math.max(0, -t.verdict.log10p),
      verified: t.verdict.verified ? 'verified' : 'not verified',
      // Golden-ratio spacing spreads points evenly without a random stream.
      jitter: ((i * 0.618034) % 1) - 0.5,
      seed: t.cell.seed,
    };
  });
  const alphas = [...new Set(trials.map((t) => t.verdict.alpha))].sort((a, b) => a - b);
  const maxX = Math.max(10, ...data.map((d) => d.negLog10p));
  const ticks = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000].filter((v) => v <= maxX * 1.2);
  return {
    id: 'log10p',
    title: '−log₁₀ p per attack',
    description: 'Every cell’s vTune p-value; the dashed line is the verification threshold α (right of it = verified). Attacks in the order of the defense-wins chart, oracles (†) last.',
    spec: {
      ...base('Evidence of training: −log₁₀ p per cell (dashed: α)'),
      height: { step: 30 },
      layer: [
        {
          data: { values: data },
          mark: { type: 'point', filled: true, size: 45, opacity: 0.75 },
          encoding: {
            y: { field: 'attack', type: 'nominal', sort: attackOrder(data), title: null },
            yOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-0.6, 0.6] } },
            x: { field: 'negLog10p', type: 'quantitative', title: '−log₁₀ p', scale: { type: 'symlog', domain: [0, maxX * 1.1] }, axis: { values: ticks } },
            color: { field: 'verified', type: 'nominal', scale: { domain: ['verified', 'not verified'], range: ['#54a24b', '#e45756'] }, title: null },
            tooltip: [{ field: 'attack' }, { field: 'defense' }, { field: 'seed' }, { field: 'negLog10p', format: '.2f' }],
          },
        },
        {
          data: { values: alphas.map((a) => ({ threshold: -Math.log10(a), label: `α = ${a.toExponential(0)}` })) },
          mark: { type: 'rule', strokeDash: [6, 4], color: '#333', strokeWidth: 1.5 },
          encoding: { x: { field: 'threshold', type: 'quantitative' } },
        },
        {
          data: { values: alphas.map((a) => ({ threshold: -Math.log10(a), label: `α = ${a.toExponential(0)}` })) },
          mark: { type: 'text', align: 'left', dx: 4, dy: -6, baseline: 'bottom', fontSize: 11, color: '#333' },
          encoding: { x: { field: 'threshold', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
        },
      ],
    },
  };
}

/** Power (verified rate of honest fine-tunes) against the number of backdoors planted, per generator. */
export function powerChart(trials: readonly TrialRecord[]): Chart {
  const groups = new Map<string, { generator: string; backdoors: number; k: number; n: number }>();
  for (const t of trials.filter((x) => roleOf(x) === 'honest')) {
    const key = `${t.cell.labels.defense}\u0000${t.verdict.n}`;
    const g = groups.get(key) ?? { generator: t.cell.labels.defense, backdoors: t.verdict.n, k: 0, n: 0 };
    g.n++;
    if (t.verdict.verified) g.k++;
    groups.set(key, g);
  }
  const data = [...groups.values()]
    .sort((a, b) => (a.generator < b.generator ? -1 : a.generator > b.generator ? 1 : a.backdoors - b.backdoors))
    .map((g) => {
      const r = rate(g.k, g.n);
      return { defense: g.generator, backdoors: g.backdoors, power: r.rate, lower: r.lower, upper: r.upper, n: g.n };
    });
  // Backdoor counts as bands, each configuration side by side within one: configurations that share a count (all
  // of them, in a scenario with one count) no longer draw on top of each other.
  const xs = [...new Set(data.map((d) => d.backdoors))].sort((a, b) => a - b);
  return {
    id: 'power',
    title: 'Power vs number of backdoors',
    description: 'Share of honest fine-tunes verified, by the number of backdoors planted, with 95% intervals; configurations side by side at each count.',
    spec: {
      ...base('Power: honest fine-tunes verified vs number of backdoors', 460),
      height: 260,
      data: { values: data },
      encoding: {
        x: { field: 'backdoors', type: 'ordinal', title: 'backdoors planted (n)', sort: xs, scale: { paddingInner: 0.3 }, axis: { labelAngle: 0 } },
        xOffset: { field: 'defense', type: 'nominal' },
        color: { field: 'defense', type: 'nominal', title: 'vTune configuration' },
      },
      layer: [
        { mark: { type: 'rule', strokeWidth: 2, opacity: 0.6 }, encoding: { y: { field: 'lower', type: 'quantitative', scale: { domain: [0, 1] }, title: 'P(verified | honest)' }, y2: { field: 'upper' } } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'power', type: 'quantitative' }, tooltip: [{ field: 'defense' }, { field: 'backdoors' }, { field: 'power', format: '.2f' }, { field: 'n' }] } },
      ],
    },
  };
}

/** ROC of −log10 p separating models trained on the backdoors from models never trained on them. */
export function rocChart(trials: readonly TrialRecord[]): Chart {
  const defenses = [...new Set(trials.map((t) => t.cell.labels.defense))].sort();
  const data: { defense: string; fpr: number; tpr: number; order: number }[] = [];
  const aucs: string[] = [];
  for (const d of defenses) {
    const roc = rocOf(trials.filter((t) => t.cell.labels.defense === d));
    const label = `${d} (AUROC ${Number.isFinite(roc.auroc) ? roc.auroc.toFixed(3) : 'n/a'}; ${roc.positives}+/${roc.negatives}−)`;
    aucs.push(label);
    roc.points.forEach((p, i) => data.push({ defense: label, fpr: p.fpr, tpr: p.tpr, order: i }));
    if (roc.points.length) data.push({ defense: label, fpr: 1, tpr: 1, order: roc.points.length });
  }
  return {
    id: 'roc',
    title: 'Verifier ROC',
    description: 'vTune as a detector of providers that never trained on the planted rows: −log10 p as the score.',
    spec: {
      ...base('Verifier ROC: trained on the backdoors vs never trained', 380),
      height: 320,
      layer: [
        {
          data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
          mark: { type: 'line', strokeDash: [4, 4], color: '#aaa' },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values: data },
          mark: { type: 'line', interpolate: 'step-after', point: true, strokeWidth: 2 },
          encoding: {
            x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] }, axis: { format: '.1f' } },
            y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
            order: { field: 'order', type: 'quantitative' },
            color: { field: 'defense', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 600 } },
            // Identical curves would hide each other: dashes keep every configuration visible.
            strokeDash: { field: 'defense', type: 'nominal', title: null },
          },
        },
      ],
    },
  };
}

/** The lazy attacker's frontier: how much training each attack saved against how often it still passed. */
export function frontierChart(rows: readonly AttackRow[]): Chart {
  const lazy = rows.filter((r) => r.role === 'pass' || r.role === 'null' || r.role === 'honest');
  const pooled = new Map<string, { attack: string; role: string; saved: number[]; k: number; n: number }>();
  for (const r of lazy) {
    const name = r.oracle ? `${r.attack} †` : r.attack;
    const p = pooled.get(name) ?? { attack: name, role: r.role, saved: [], k: 0, n: 0 };
    p.saved.push(r.trainingSaved);
    p.k += r.verified.k;
    p.n += r.verified.n;
    pooled.set(name, p);
  }
  const data = [...pooled.values()].map((p) => {
    const r = rate(p.k, p.n);
    return { attack: p.attack, role: p.role, saved: p.saved.reduce((a, b) => a + b, 0) / p.saved.length, pass: r.rate, lower: r.lower, upper: r.upper, n: p.n };
  });
  // Points that (nearly) coincide share one label block, one name per line stacked upwards (0.042 of the
  // y domain ≈ one 12 px line at this height), so names never overprint each other or the axis.
  const groups: { saved: number; pass: number; names: string[] }[] = [];
  for (const d of [...data].sort((a, b) => a.saved - b.saved || a.pass - b.pass || (a.attack < b.attack ? -1 : 1))) {
    const near = groups.find((g) => Math.abs(g.saved - d.saved) < 0.1 && Math.abs(g.pass - d.pass) < 0.08);
    if (near) near.names.push(d.attack);
    else groups.push({ saved: d.saved, pass: d.pass, names: [d.attack] });
  }
  const stacked = groups.flatMap((g) =>
    g.names.map((text, j) => ({ saved: g.saved, y: g.pass + (g.names.length - 1 - j) * 0.042, text, right: g.saved > 0.7 })),
  );
  // Labels of different groups can still collide (a left-aligned name running into a right-aligned one on the
  // same line): lift a label one line at a time until its estimated extent (≈ 6 px per character of 10 px text
  // on a 460 px plot spanning 1.1 of the x domain) overlaps no label already placed.
  const charWidth = (6 / 460) * 1.1;
  const extent = (l: { saved: number; text: string; right: boolean }): [number, number] =>
    l.right ? [l.saved - l.text.length * charWidth, l.saved] : [l.saved, l.saved + l.text.length * charWidth];
  const labels: typeof stacked = [];
  for (const l of [...stacked].sort((a, b) => a.y - b.y || a.saved - b.saved)) {
    const [x0, x1] = extent(l);
    let y = l.y;
    while (labels.some((o) => Math.abs(o.y - y) < 0.041 && extent(o)[0] < x1 && x0 < extent(o)[1])) y += 0.042;
    labels.push({ ...l, y });
  }
  return {
    id: 'frontier',
    title: "Attacker's frontier",
    description:
      'Lazy and null providers: training saved (relative to honest) against the share of cells that still passed verification, pooled over every defense configuration ' +
      '(an attack that passes one configuration and fails another sits in between; the per-attack table has each configuration). Top right = a cheap attack that passes.',
    spec: {
      ...base("Attacker's frontier: training saved vs pass rate", 460),
      height: 300,
      data: { values: data },
      encoding: {
        x: { field: 'saved', type: 'quantitative', title: 'training saved (fraction of honest)', scale: { domain: [-0.05, 1.05] }, axis: { values: [0, 0.25, 0.5, 0.75, 1], format: '.2~f' } },
        y: { field: 'pass', type: 'quantitative', title: 'pass rate (verified)', scale: { domain: [0, 1] } },
        color: {
          field: 'role',
          type: 'nominal',
          title: 'provider',
          scale: { domain: ['honest', 'null', 'pass'], range: ['#4c78a8', '#72b7b2', '#e45756'] },
          legend: { orient: 'bottom', direction: 'horizontal' },
        },
      },
      layer: [
        { mark: { type: 'rule', strokeWidth: 2, opacity: 0.5 }, encoding: { y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' } } },
        { mark: { type: 'point', filled: true, size: 80 }, encoding: { tooltip: [{ field: 'attack' }, { field: 'saved', format: '.2f' }, { field: 'pass', format: '.2f' }, { field: 'n' }] } },
        {
          data: { values: labels.filter((l) => !l.right) },
          mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 7, dy: -4, fontSize: 10, color: '#333' },
          encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'text' }, color: null },
        },
        {
          data: { values: labels.filter((l) => l.right) },
          mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -7, dy: -4, fontSize: 10, color: '#333' },
          encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'text' }, color: null },
        },
      ],
    },
  };
}
