/**
 * The report's tables as data (one definition each), and their renderings: Markdown and CSV through arquero,
 * JSON with the metric declarations, and LaTeX with booktabs rules. Every rendering is a pure, deterministic
 * function of the rows, so two runs with equal records give byte-identical files.
 */
import * as aq from 'arquero';
import { METRICS, type MetricDeclaration } from '../records/schema.js';
import type { CalibrationRecord } from '../calibrate/records.js';
import type { AttackBoardRow, AttackRow, DefenseRow, GeneratorBoardRow, Rate } from './analyze.js';
import { calibrationOfRow, typeIByMode, typeIByModeText } from './calibration.js';
import { ALPHA_COLUMN, log10pMedianColumn, PLACE_COLUMNS, sig, type ColumnKind, type ReportTable } from './table-model.js';

export type { Column, ColumnKind, ReportTable } from './table-model.js';
export { sig } from './table-model.js';

const isRate = (v: unknown): v is Rate => typeof v === 'object' && v !== null && 'k' in v && 'n' in v && 'lower' in v;
const dash = '—';

/** The display text of one cell. */
export function formatCell(v: unknown, kind: ColumnKind): string {
  if (v === undefined || v === null) return dash;
  switch (kind) {
    case 'rate': {
      if (!isRate(v)) return dash;
      if (v.n === 0) return `${dash} (n=0)`;
      return `${v.rate.toFixed(2)} [${v.lower.toFixed(2)}, ${v.upper.toFixed(2)}] n=${v.n}${secretsNote(v)}`;
    }
    case 'smallRate': {
      // Type-I at α = 1e-3 needs significant digits, not two decimals.
      if (!isRate(v)) return dash;
      if (v.n === 0) return `${dash} (n=0)`;
      return `${v.k}/${v.n} = ${sig(v.rate)} [${sig(v.lower)}, ${sig(v.upper)}]${secretsNote(v)}`;
    }
    case 'bool':
      return v ? 'yes' : 'no';
    case 'text':
      return String(v);
  }
  const x = Number(v);
  if (!Number.isFinite(x)) return dash;
  switch (kind) {
    case 'int':
      return String(Math.round(x));
    case 'fixed2':
      return signedZero(x.toFixed(2));
    case 'fixed3':
      return signedZero(x.toFixed(3));
    case 'usd':
      return `$${x.toFixed(2)}`;
    case 'log10p':
      return signedZero(Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));
  }
}

const secretsNote = (v: Rate): string => (v.secrets !== undefined && v.secrets < v.n ? ` (${v.secrets} secrets)` : '');

// "-0.00" reads as a sign that is not there.
const signedZero = (s: string): string => (/^-0(\.0+)?$/.test(s) ? s.slice(1) : s);

/** Rows with every cell formatted, keyed by header. */
export function displayRows(t: ReportTable): Record<string, string>[] {
  return t.rows.map((r) => Object.fromEntries(t.columns.map((c) => [c.header, formatCell(r[c.key], c.kind)])));
}

/** Rows flattened for machines: a Rate becomes `<key>`, `<key>K`, `<key>N`, `<key>Lower`, `<key>Upper`. */
export function flatRows(t: ReportTable): Record<string, string | number | boolean | null>[] {
  return t.rows.map((r) => {
    const out: Record<string, string | number | boolean | null> = {};
    for (const c of t.columns) {
      const v = r[c.key];
      if (isRate(v)) {
        out[c.key] = num(v.rate);
        out[`${c.key}K`] = v.k;
        out[`${c.key}N`] = v.n;
        out[`${c.key}Lower`] = num(v.lower);
        out[`${c.key}Upper`] = num(v.upper);
        // Present in every row (arquero takes the columns of the first): null when each cell had its own secret.
        out[`${c.key}Secrets`] = v.secrets ?? null;
      } else if (typeof v === 'number') out[c.key] = num(v);
      else if (typeof v === 'boolean' || typeof v === 'string') out[c.key] = v;
      else out[c.key] = null;
    }
    return out;
  });
}

// Fixed precision keeps the machine outputs byte-stable across platforms' last-bit float differences.
const num = (x: number): number | null => (Number.isFinite(x) ? Number(x.toPrecision(12)) : null);

/** GitHub-flavoured Markdown (through arquero), preceded by the title and caption. */
export function toMarkdown(t: ReportTable): string {
  const body = t.rows.length === 0 ? '_(no rows)_\n' : aq.from(displayRows(t)).toMarkdown();
  return `### ${t.title}\n\n${t.caption}\n\n${body.trimEnd()}\n`;
}

/** CSV of the flat rows (through arquero). */
export function toCsv(t: ReportTable): string {
  if (t.rows.length === 0) return `${t.columns.map((c) => c.key).join(',')}\n`;
  return `${aq.from(flatRows(t)).toCSV().trimEnd()}\n`;
}

/** JSON: the flat rows plus the declarations (unit, direction) of the metrics they hold. */
export function toJson(t: ReportTable): string {
  const metrics: Record<string, MetricDeclaration> = {};
  for (const c of t.columns) {
    const m = METRICS.find((x) => x.name === c.metric);
    if (m) metrics[c.key] = m;
  }
  return `${JSON.stringify({ id: t.id, title: t.title, caption: t.caption, metrics, rows: flatRows(t) }, null, 2)}\n`;
}

/** A LaTeX `table` with booktabs rules (\toprule, \midrule, \bottomrule). */
export function toLatex(t: ReportTable): string {
  const align = t.columns.map((c) => (c.kind === 'text' || c.kind === 'rate' ? 'l' : 'r')).join('');
  const lines = [
    '% requires \\usepackage{booktabs}',
    '\\begin{table}[ht]',
    '\\centering',
    '\\small',
    `\\caption{${latexEscape(t.title)}. ${latexEscape(t.caption)}}`,
    `\\label{tab:${t.id}}`,
    `\\begin{tabular}{${align}}`,
    '\\toprule',
    `${t.columns.map((c) => latexEscape(c.header)).join(' & ')} \\\\`,
    '\\midrule',
    ...displayRows(t).map((r) => `${t.columns.map((c) => latexEscape(r[c.header]!)).join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
    '\\end{table}',
  ];
  return `${lines.join('\n')}\n`;
}

/** Escapes LaTeX specials and maps the few non-ASCII symbols the tables use. */
export function latexEscape(s: string): string {
  return s
    .replace(/\\/g, '\\textbackslash{}')
    .replace(/([&%$#_{}])/g, '\\$1')
    .replace(/~/g, '\\textasciitilde{}')
    .replace(/\^/g, '\\textasciicircum{}')
    .replace(/—/g, '---')
    .replace(/–/g, '--')
    .replace(/α/g, '$\\alpha$')
    .replace(/≤/g, '$\\leq$')
    .replace(/−/g, '$-$')
    .replace(/Δ/g, '$\\Delta$')
    .replace(/₁₀/g, '$_{10}$')
    .replace(/⁻/g, '$^{-}$');
}

/** Legend text shared by every table with pooled rates (DESIGN.md §3 "Independence"). */
const POOLED_RATES_LEGEND =
  'Pooled rates count the secret as the unit: all attacks of one (dataset, model, defense, seed) are verified against one planted secret, so their cells are ' +
  'not independent. The rate is k/n over cells; its 95% Clopper-Pearson interval is computed over the s distinct secrets (k·s/n of them, rounded outward), as if cells ' +
  'sharing a secret were fully dependent; "(s secrets)" is shown when s < n.';

/**
 * The headline rates per defense configuration (DESIGN.md §2). Oracle attacks are out of every rate. Type-I
 * comes from calibration records (per null mode, with n) when they match the row; the run's own null
 * baselines are shown beside it.
 */
export function ratesTable(rows: readonly DefenseRow[], calibration: readonly CalibrationRecord[] = []): ReportTable {
  return {
    id: 'rates',
    title: 'Headline rates per defense configuration',
    caption:
      'Detection = P(not verified | lazy or null provider); survival = P(verified | evasive provider); false alarm = P(not verified | honest); ' +
      'Type-I = P(verified | model never trained on the planted rows), which must stay ≤ α: measured by calibration (`vtune-bench calibrate`: fresh secrets against the base model ' +
      'and backdoor-free fine-tunes, same generator, options, backdoor count, base model and dataset), per null mode with n, at the row\'s α; * marks the decision mode, and ✗ exceeds α a mode whose count is above what a valid test gives (α + 3σ; for α ≤ 0.01 the 99th percentile of Binomial(n, α)). ' +
      "The run's own null baselines (return-base, train-without-backdoors) give the in-run Type-I, with few cells. " +
      'Oracle attacks († in the other tables; they see the backdoor mask) are excluded from every rate here. ' +
      POOLED_RATES_LEGEND,
    columns: [
      ...PLACE_COLUMNS,
      ALPHA_COLUMN,
      { key: 'detection', header: 'detection ↑', kind: 'rate', metric: 'detectionRate' },
      { key: 'survival', header: 'survival ↑', kind: 'rate', metric: 'survivalRate' },
      { key: 'falseAlarm', header: 'false alarm ↓', kind: 'rate', metric: 'falseAlarmRate' },
      { key: 'typeICalibration', header: 'Type-I ↓ (calibration, decision mode)', kind: 'smallRate', metric: 'typeIError' },
      { key: 'typeIByMode', header: 'Type-I by null mode (calibration)', kind: 'text', metric: 'typeIError' },
      { key: 'typeI', header: 'Type-I in run (null baselines)', kind: 'rate', metric: 'typeIError' },
      { key: 'oracleCells', header: 'oracle cells left out', kind: 'int' },
      { key: 'verifierAuroc', header: 'verifier AUROC ↑', kind: 'fixed3', metric: 'verifierAuroc' },
    ],
    rows: rows.map((r) => {
      const byMode = typeIByMode(calibrationOfRow(calibration, r), r.alpha);
      return { ...r, alphaShown: r.alpha.toExponential(0), typeICalibration: byMode.get(r.decisionMode), typeIByMode: typeIByModeText(byMode, r.decisionMode, r.alpha) };
    }),
  };
}

/** What a provider did to the trained model, from the measured ground truth: `weights modified`, `inference wrapped` (k/n when not every cell), or `—`. */
function afterTraining(r: AttackRow): string {
  const part = (k: number, what: string): string[] => (k === 0 ? [] : [k === r.cells ? what : `${what} ${k}/${r.cells}`]);
  const parts = [...part(r.modelModified, 'weights modified'), ...part(r.inferenceWrapped, 'inference wrapped')];
  return parts.length ? parts.join(', ') : dash;
}

/** Everything per attack: who won, how strongly, what it cost, what it did to utility. */
export function attacksTable(rows: readonly AttackRow[]): ReportTable {
  return {
    id: 'attacks',
    title: 'Per-attack results',
    caption:
      "Defense wins: a lazy (pass) or null attack not verified, an evasive attack or the honest provider verified. log10 p: median [IQR]. " +
      'Training saved and utility are relative to the honest provider; † marks oracle attacks (they see the backdoor mask: an upper bound, out of every headline rate). ' +
      'Per-attack rates have one cell per secret (one per seed). ' +
      'Ground truth, as measured: backdoor rows trained = mean planted rows that reached training (of the backdoors per secret); after training = what the provider did to the ' +
      'trained model (weights modified, inference wrapped), with k/n cells when not every cell did.',
    columns: [
      ...PLACE_COLUMNS,
      { key: 'attackShown', header: 'attack', kind: 'text' },
      { key: 'goal', header: 'goal', kind: 'text' },
      { key: 'defenseWins', header: 'defense wins ↑', kind: 'rate', metric: 'defenseWinRate' },
      { key: 'verified', header: 'verified', kind: 'rate' },
      log10pMedianColumn('log10pMedian'),
      { key: 'log10pIqr', header: 'log10 p IQR', kind: 'text', metric: 'log10p' },
      { key: 'hitRate', header: 'K/n', kind: 'fixed2', metric: 'hitRate' },
      { key: 'trainingSaved', header: 'training saved', kind: 'fixed2', metric: 'trainingSaved' },
      { key: 'backdoorRowsTrained', header: 'backdoor rows trained', kind: 'fixed2' },
      { key: 'afterTraining', header: 'after training', kind: 'text' },
      { key: 'heldOutLossNatsPerToken', header: 'held-out loss (nats/tok)', kind: 'fixed3', metric: 'heldOutLossNatsPerToken' },
      { key: 'heldOutLossVsHonest', header: 'Δ loss vs honest', kind: 'fixed3', metric: 'heldOutLossNatsPerToken' },
      { key: 'taskMetric', header: 'task metric', kind: 'fixed3', metric: 'taskMetric' },
      { key: 'extraInferencePasses', header: 'extra passes', kind: 'fixed2', metric: 'extraInferencePasses' },
      { key: 'judgeUsd', header: 'judge $', kind: 'usd', metric: 'judgeUsd' },
      { key: 'detectorAuroc', header: 'detector AUROC', kind: 'fixed3', metric: 'detectorAuroc' },
    ],
    rows: rows.map((r) => ({
      ...r,
      attackShown: r.oracle ? `${r.attack} †` : r.attack,
      log10pIqr: `[${formatCell(r.log10pQ25, 'log10p')}, ${formatCell(r.log10pQ75, 'log10p')}]`,
      afterTraining: afterTraining(r),
    })),
  };
}

/** Leaderboard of attacks per defense configuration (generator, insertion, null mode…). */
export function attackBoardTable(rows: readonly AttackBoardRow[]): ReportTable {
  return {
    id: 'leaderboard-attacks',
    title: 'Leaderboard: attacks ranked by success against each defense configuration',
    caption:
      'Success = the attack got what it wanted (a lazy provider verified, an evasive one not verified), over all datasets, models and seeds. Ties: more training saved ranks higher. ' +
      '† = oracle (sees the backdoor mask): listed after the ranked attacks, never ranked. ' +
      POOLED_RATES_LEGEND,
    columns: [
      { key: 'defense', header: 'defense', kind: 'text' },
      { key: 'rank', header: 'rank', kind: 'int' },
      { key: 'attackShown', header: 'attack', kind: 'text' },
      { key: 'goal', header: 'goal', kind: 'text' },
      { key: 'success', header: 'success ↑', kind: 'rate', metric: 'attackSuccessRate' },
      { key: 'trainingSaved', header: 'training saved', kind: 'fixed2', metric: 'trainingSaved' },
    ],
    rows: rows.map((r) => ({ ...r, attackShown: r.oracle ? `${r.attack} †` : r.attack })),
  };
}

/**
 * Leaderboard of generators (vTune configurations) by worst-case detection. `headline` (the rates rows) ties
 * each defense to the calibration records that match it, which give the Type-I column per null mode.
 */
export function generatorBoardTable(rows: readonly GeneratorBoardRow[], calibration: readonly CalibrationRecord[] = [], headline: readonly DefenseRow[] = []): ReportTable {
  return {
    id: 'leaderboard-generators',
    title: 'Leaderboard: generators ranked by worst-case detection over the attack suite',
    caption:
      'Worst case = the lowest defense win rate over the dishonest attacks (oracle upper bounds excluded), at the stated α. False alarm and Type-I error must stay low for a ranking to mean anything. ' +
      'Configurations tied on worst case and false alarm share a rank; — = no dishonest attack ran against it. Configurations measured against different attacks are not comparable by worst case. ' +
      'Type-I by null mode: calibration trials at the stated α with n (* = decision mode); in run: the null baselines of the run. ' +
      POOLED_RATES_LEGEND,
    columns: [
      { key: 'rank', header: 'rank', kind: 'int' },
      { key: 'defense', header: 'defense', kind: 'text' },
      { key: 'generator', header: 'generator', kind: 'text' },
      { key: 'nullMode', header: 'null mode', kind: 'text' },
      ALPHA_COLUMN,
      { key: 'worstCase', header: 'worst-case defense wins ↑', kind: 'rate', metric: 'defenseWinRate' },
      { key: 'worstAttack', header: 'worst attack', kind: 'text' },
      { key: 'meanWinRate', header: 'mean defense wins', kind: 'fixed2', metric: 'defenseWinRate' },
      { key: 'falseAlarm', header: 'false alarm ↓', kind: 'rate', metric: 'falseAlarmRate' },
      { key: 'typeIByMode', header: 'Type-I by null mode (calibration)', kind: 'text', metric: 'typeIError' },
      { key: 'typeI', header: 'Type-I in run', kind: 'rate', metric: 'typeIError' },
    ],
    rows: rows.map((r) => {
      const mine = headline.filter((h) => h.defense === r.defense);
      const matched = [...new Set(mine.flatMap((h) => calibrationOfRow(calibration, h)))];
      return { ...r, alphaShown: r.alpha.toExponential(0), typeIByMode: typeIByModeText(typeIByMode(matched, r.alpha), mine[0]?.decisionMode ?? r.nullMode, r.alpha) };
    }),
  };
}
