/**
 * The verifier leaderboard (issue 19): every verifier (a defense configuration: vTune with a generator, or a
 * rival such as data-watermark, dataset-inference, cue-reply, utility-gain) under the same attacks, from trial
 * and calibration records alone, whatever the defense id:
 * - verifier × attack: the defense's win rate with its 95% interval and n;
 * - per verifier: measured Type-I (calibration records, else the run's null baselines), power (an honest
 *   fine-tune verified) and power against partial training (verified under random-subset at each fraction),
 *   cost (rows the verifier changed or added, queries to the returned model, tokens when the verdict records
 *   them) and utility cost (held-out loss of the honest fine-tune minus that of the same data without the
 *   verifier's rows, matched per dataset, model and seed);
 * - a Findings paragraph generated from those figures;
 * - the power table (`verifierPower`): per verifier, the honest fine-tunes verified (k/n over secrets with a 95%
 *   Clopper-Pearson interval), their median log10 p, "no power at default sizes" when the interval's upper bound
 *   is below NO_POWER_UPPER, and the return-base false accusations beside it (scenarios/verifier-power.ts;
 *   `vtune-bench report` prints it).
 *
 * Nothing here reads vTune-only fields except to match vTune's calibration records: a rival's verdict may
 * have k = n = 0 and carry a `statistic` instead of hits.
 */
import { alphaCell, reaches } from '../calibrate/analyze.js';
import type { CalibrationRecord } from '../calibrate/records.js';
import type { TrialRecord } from '../records/schema.js';
import { clusteredRate, defenseRows, neverTrainedOnBackdoors, rate, roleOf, secretOf, type Rate } from './analyze.js';
import { matchingCalibration, rivalCalibrationMatches, typeIByMode } from './calibration.js';
import { formatCell, sig, type Column, type ReportTable } from './tables.js';
import { log10pMedianColumn, VERIFIER_COLUMNS } from './table-model.js';
import { configAttacks, dishonest, leftOutClause, worstOverCommon } from './findings.js';

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const pooled = (ts: readonly TrialRecord[], success: (t: TrialRecord) => boolean): Rate => clusteredRate(ts.map((t) => ({ success: success(t), secret: secretOf(t) })));
const finite = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : NaN);
const mean = (xs: readonly number[]): number => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};

/** A random-subset attack's fraction, read from its options (undefined for any other attack). */
function subsetFraction(t: TrialRecord): number | undefined {
  if (t.attack.id !== 'random-subset') return undefined;
  const f = t.cell.attack.options.fraction;
  return typeof f === 'number' ? f : undefined;
}

/** Type-I of one verifier with where it came from. */
export interface VerifierTypeI {
  readonly rate: Rate;
  /** 'calibration' (null trials of `vtune-bench calibrate`) or 'run' (the run's own null baselines). */
  readonly source: 'calibration' | 'run';
  /** Above what a valid test gives at α (α + 3σ, or the 99th percentile of Binomial(n, α) for α ≤ 0.01). */
  readonly exceedsAlpha: boolean;
}

/** One verifier's summary row. */
export interface VerifierRow {
  /** The configuration's label (a scenario's defense label). */
  readonly verifier: string;
  /** The defense id (vtune, data-watermark, …). */
  readonly id: string;
  readonly alpha: number;
  readonly typeI: VerifierTypeI;
  /** Verified under the honest provider. */
  readonly power: Rate;
  /** Verified under random-subset, per fraction (ascending). */
  readonly ladder: readonly { readonly fraction: number; readonly verified: Rate }[];
  /** Mean rows the verifier planted or changed per secret (over the honest cells, which upload every planted row). */
  readonly rowsChanged: number;
  /** Mean queries to the returned model per verification. */
  readonly queries: number;
  /** Mean tokens per verification, when the verdict records them (`queryTokens`); NaN otherwise. */
  readonly tokens: number;
  /** Honest held-out loss minus train-without-backdoors' (nats/token), matched per dataset, model and seed; NaN if either is missing. */
  readonly utilityCost: number;
}

/**
 * Calibration records of a verifier: vTune's are matched to the configuration (generator, options, count,
 * base model, dataset) and read in the decision null mode; a rival's are those of the same defense id, options
 * (α aside), dataset and base model (rivalCalibrationMatches), and carry their decision `log10p` (or
 * `log10pByNullMode` with `nullMode`, or a single mode).
 */
function calibrationTypeI(trials: readonly TrialRecord[], calibration: readonly CalibrationRecord[], alpha: number): Rate | undefined {
  const first = trials[0]!;
  if (first.cell.defense.id === 'vtune') {
    const heads = defenseRows(trials);
    const matched = [...new Set(heads.flatMap((h) => matchingCalibration(calibration, h)))];
    if (matched.length === 0) return undefined;
    return typeIByMode(matched, alpha).get(first.verdict.nullMode);
  }
  let k = 0;
  let n = 0;
  for (const rec of calibration as readonly (CalibrationRecord & { log10p?: number; nullMode?: string })[]) {
    if (!trials.some((t) => rivalCalibrationMatches(rec, t))) continue;
    const modes = Object.values(rec.log10pByNullMode ?? {});
    const lp = typeof rec.log10p === 'number' ? rec.log10p : rec.nullMode !== undefined ? rec.log10pByNullMode?.[rec.nullMode] : modes.length === 1 ? modes[0] : undefined;
    if (typeof lp !== 'number') continue;
    n++;
    if (reaches(lp, alpha)) k++;
  }
  return n > 0 ? rate(k, n) : undefined;
}

/** The summary row of every verifier (defense configuration), sorted by label. */
export function verifierRows(trials: readonly TrialRecord[], calibration: readonly CalibrationRecord[] = []): VerifierRow[] {
  const groups = new Map<string, TrialRecord[]>();
  for (const t of trials) groups.set(t.cell.labels.defense, [...(groups.get(t.cell.labels.defense) ?? []), t]);
  return [...groups.entries()]
    .sort(([a], [b]) => cmp(a, b))
    .map(([verifier, ts]) => {
      const real = ts.filter((t) => !t.attack.oracle);
      const alpha = Math.max(...ts.map((t) => t.verdict.alpha));
      const cal = calibrationTypeI(ts, calibration, alpha);
      const typeIRate = cal ?? pooled(real.filter(neverTrainedOnBackdoors), (t) => t.verdict.verified);
      const cell = alphaCell(alpha, typeIRate.k, typeIRate.n);
      const fractions = [...new Set(real.map(subsetFraction).filter((f): f is number => f !== undefined))].sort((a, b) => a - b);
      const honest = real.filter((t) => roleOf(t) === 'honest');
      const withheld = real.filter((t) => t.attack.id === 'train-without-backdoors');
      const place = (t: TrialRecord): string => JSON.stringify([t.cell.labels.dataset, t.cell.model, t.cell.seed]);
      const withheldLoss = new Map<string, number>();
      for (const t of withheld) withheldLoss.set(place(t), finite(t.utility.heldOutLossNatsPerToken));
      const tokens = real.map((t) => finite((t.verdict as { queryTokens?: unknown }).queryTokens));
      return {
        verifier,
        id: ts[0]!.cell.defense.id,
        alpha,
        typeI: { rate: typeIRate, source: cal ? 'calibration' : 'run', exceedsAlpha: typeIRate.n > 0 && (!cell.withinThreeSigma || cell.withinBinomial99 === false) },
        power: pooled(honest, (t) => t.verdict.verified),
        ladder: fractions.map((fraction) => ({ fraction, verified: pooled(real.filter((t) => subsetFraction(t) === fraction), (t) => t.verdict.verified) })),
        rowsChanged: mean((honest.length ? honest : real).map((t) => t.truth.backdoorRowsSubmitted)),
        queries: mean(real.map((t) => t.verdict.queries)),
        tokens: mean(tokens),
        utilityCost: mean(honest.map((t) => finite(t.utility.heldOutLossNatsPerToken) - (withheldLoss.get(place(t)) ?? NaN))),
      };
    });
}

const pct = (f: number): string => `${Number((f * 100).toPrecision(3))}%`;

/** The verifier summary table. */
export function verifierTable(rows: readonly VerifierRow[]): ReportTable {
  const fractions = [...new Set(rows.flatMap((r) => r.ladder.map((l) => l.fraction)))].sort((a, b) => a - b);
  const columns: Column[] = [
    ...VERIFIER_COLUMNS,
    { key: 'typeIRate', header: 'Type-I ↓', kind: 'smallRate', metric: 'typeIError' },
    { key: 'typeISource', header: 'Type-I from', kind: 'text' },
    { key: 'power', header: 'honest verified ↑', kind: 'rate' },
    ...fractions.map((f, i): Column => ({ key: `ladder${i}`, header: `verified, ${pct(f)} subset`, kind: 'rate' })),
    { key: 'rowsChanged', header: 'rows changed', kind: 'fixed2' },
    { key: 'queries', header: 'queries', kind: 'fixed2' },
    { key: 'tokens', header: 'tokens', kind: 'fixed2' },
    { key: 'utilityCost', header: 'utility cost (Δ held-out loss, nats/tok)', kind: 'fixed3', metric: 'heldOutLossNatsPerToken' },
  ];
  return {
    id: 'verifiers',
    title: 'Verifier leaderboard: Type-I, power, cost and utility cost',
    caption:
      'One row per verifier configuration, pooled over datasets, models and seeds. Type-I = P(verified | a model that never saw the verifier\'s rows): from calibration records ' +
      '(fresh secrets against null models) when they match, else the run\'s null baselines (return-base, train-without-backdoors); ✗ marks a rate above α + 3σ (or the 99th percentile of Binomial(n, α) for α ≤ 0.01). ' +
      'Power: P(verified) for an honest fine-tune, and under random-subset training of each fraction of the rows (a lazy provider: a good verifier is not fooled, so lower is better there). ' +
      'Cost: rows the verifier planted or changed per secret, queries to the returned model per verification, and tokens when the verdict records them (— otherwise). ' +
      "Utility cost: the honest fine-tune's held-out loss minus that of the same data without the verifier's rows (train-without-backdoors), matched per dataset, model and seed.",
    columns,
    rows: rows.map((r) => {
      const row: Record<string, unknown> = {
        ...r,
        alphaShown: r.alpha.toExponential(0),
        typeIRate: r.typeI.rate,
        typeISource: `${r.typeI.source}${r.typeI.exceedsAlpha ? ' ✗ exceeds α' : ''}`,
      };
      fractions.forEach((f, i) => (row[`ladder${i}`] = r.ladder.find((l) => l.fraction === f)?.verified));
      return row;
    }),
  };
}

/** Verifier × attack: the defense's win rate per attack (rows) and verifier (columns). */
export function verifierAttackTable(trials: readonly TrialRecord[]): ReportTable {
  const verifiers = [...new Set(trials.map((t) => t.cell.labels.defense))].sort(cmp);
  const attacks: { attack: string; goal: string; oracle: boolean }[] = [];
  for (const t of trials) if (!attacks.some((a) => a.attack === t.cell.labels.attack)) attacks.push({ attack: t.cell.labels.attack, goal: t.attack.goal, oracle: t.attack.oracle });
  // Scenario order is not in the records; attacks sort by goal (baselines first), then label.
  const goalOrder = ['baseline', 'pass', 'evade'];
  attacks.sort((a, b) => Number(a.oracle) - Number(b.oracle) || goalOrder.indexOf(a.goal) - goalOrder.indexOf(b.goal) || cmp(a.attack, b.attack));
  return {
    id: 'verifier-attacks',
    title: 'Verifier × attack: defense win rates',
    caption:
      'Defense wins: a lazy (pass) or null attack not verified, an evasive attack or the honest provider verified; 95% Clopper-Pearson interval over secrets, n cells. ' +
      'Attacks built around vTune\'s row shape (near-duplicate, trigger scorers) run unchanged against every verifier. † = oracle (sees the planted rows): an upper bound.',
    columns: [
      { key: 'attackShown', header: 'attack', kind: 'text' },
      { key: 'goal', header: 'goal', kind: 'text' },
      ...verifiers.map((v, i): Column => ({ key: `v${i}`, header: v, kind: 'rate', metric: 'defenseWinRate' })),
    ],
    rows: attacks.map((a) => {
      const row: Record<string, unknown> = { attackShown: a.oracle ? `${a.attack} †` : a.attack, goal: a.goal };
      verifiers.forEach((v, i) => {
        const ts = trials.filter((t) => t.cell.labels.defense === v && t.cell.labels.attack === a.attack);
        row[`v${i}`] = ts.length ? pooled(ts, (t) => t.defenseWon) : undefined;
      });
      return row;
    }),
  };
}

/** The generated Findings paragraph of the verifier leaderboard ('' without trials). */
export function verifierFindings(trials: readonly TrialRecord[], rows: readonly VerifierRow[]): string {
  if (rows.length === 0) return '';
  const r = (x: Rate): string => formatCell(x, 'rate');
  const sentences: string[] = [];
  // Worst case over the dishonest (non-oracle) attacks every verifier ran (Findings' worstOverCommon).
  const all = configAttacks(trials);
  const worst = worstOverCommon(all);
  const attacked = new Set(all.filter(dishonest).map((c) => c.defense));
  const unattacked = rows.map((v) => v.verifier).filter((v) => !attacked.has(v));
  const none = unattacked.length ? ` No dishonest attack has a cell against ${unattacked.join(', ')}.` : '';
  if (worst.board.length > 0) {
    sentences.push(`By worst case over the dishonest attacks: ${worst.board.map((w) => `${w.defense} ${r(w.worst)} (against ${w.attack})`).join('; ')}.${leftOutClause(worst)}${none}`);
  } else if (worst.partial.length > 0) {
    sentences.push(`By worst case no verifier can be compared with another: no dishonest attack ran against every verifier (${worst.partial.join(', ')}).${none}`);
  } else if (none) sentences.push(none.trim());
  const fractions = [...new Set(rows.flatMap((v) => v.ladder.map((l) => l.fraction)))].sort((a, b) => a - b);
  for (const f of fractions) {
    const at = rows
      .map((v) => ({ v: v.verifier, rate: v.ladder.find((l) => l.fraction === f)?.verified }))
      .filter((x): x is { v: string; rate: Rate } => x.rate !== undefined && x.rate.n > 0)
      .sort((a, b) => a.rate.rate - b.rate.rate || cmp(a.v, b.v));
    if (at.length > 0) sentences.push(`Trained on a random ${pct(f)} of the rows, the model is verified by ${at.map((x) => `${x.v} in ${r(x.rate)}`).join(', ')}.`);
  }
  const powered = rows.filter((v) => v.power.n > 0);
  if (powered.length > 0) sentences.push(`An honest fine-tune is verified by ${powered.map((v) => `${v.verifier} in ${r(v.power)}`).join(', ')}.`);
  const powerless = verifierPower(trials).filter((p) => p.status === 'no power');
  if (powerless.length > 0) {
    sentences.push(
      `No power at the default sizes (95% upper bound on honest fine-tunes verified below ${NO_POWER_UPPER}): ` +
        `${powerless.map((p) => `${p.verifier} ${formatCell(p.verified, 'smallRate')} over ${p.secrets} secrets`).join('; ')}.`,
    );
  }
  const bad = rows.filter((v) => v.typeI.exceedsAlpha);
  const typeIText = (v: VerifierRow): string => `${v.verifier} ${formatCell(v.typeI.rate, 'smallRate')} at α = ${sig(v.alpha)} (${v.typeI.source})`;
  const measured = rows.filter((v) => v.typeI.rate.n > 0);
  if (measured.length > 0) {
    sentences.push(
      bad.length > 0
        ? `Type-I above what a valid test gives: ${bad.map(typeIText).join('; ')}; within: ${measured.filter((v) => !v.typeI.exceedsAlpha).map(typeIText).join('; ') || 'none'}.`
        : `Every measured Type-I is within α + 3σ: ${measured.map(typeIText).join('; ')}.`,
    );
  }
  const costs = rows.filter((v) => Number.isFinite(v.rowsChanged)).sort((a, b) => a.rowsChanged - b.rowsChanged || a.queries - b.queries || cmp(a.verifier, b.verifier));
  if (costs.length > 0) {
    sentences.push(
      `Cost per secret (rows changed, queries${costs.some((v) => Number.isFinite(v.tokens)) ? ', tokens' : ''}, utility cost): ` +
        costs
          .map(
            (v) =>
              `${v.verifier} ${formatCell(v.rowsChanged, 'fixed2')} rows, ${formatCell(v.queries, 'fixed2')} queries` +
              `${Number.isFinite(v.tokens) ? `, ${formatCell(v.tokens, 'fixed2')} tokens` : ''}, ${Number.isFinite(v.utilityCost) ? `${v.utilityCost >= 0 ? '+' : '−'}${Math.abs(v.utilityCost).toFixed(3)} nats/token` : 'utility cost not measured'}`,
          )
          .join('; ') +
        '.',
    );
  }
  return sentences.join(' ');
}

/**
 * Below this 95% upper bound on the rate an honest fine-tune is verified, a verifier is said to have no power at
 * the run's sizes: with 95% confidence it verifies fewer than one honest fine-tune in four (0 or 1 of 21 secrets).
 */
export const NO_POWER_UPPER = 0.25;
/** Above this 95% lower bound on the same rate, a verifier is said to have power: it verifies most honest fine-tunes. */
export const POWER_LOWER = 0.5;

/** The median of the finite values (NaN when there are none). */
function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** One verifier's power on honest fine-tunes (`verifierPower`). */
export interface VerifierPowerRow {
  readonly verifier: string;
  readonly id: string;
  readonly alpha: number;
  /** Distinct secrets behind the honest cells. */
  readonly secrets: number;
  /** Honest fine-tunes verified: k of n cells, 95% Clopper-Pearson interval over secrets. */
  readonly verified: Rate;
  /** Median log10 p of the honest cells. */
  readonly medianLog10p: number;
  /** The base model returned untouched (return-base) verified: a false accusation; undefined when not run. */
  readonly falseAccusations?: Rate;
  /** Median log10 p of the return-base cells (NaN when not run). */
  readonly medianLog10pBase: number;
  /**
   * 'no power' when the interval's upper bound is below NO_POWER_UPPER, 'power' when its lower bound is at least
   * POWER_LOWER, else 'undecided' (too few secrets to tell, or a rate in between).
   */
  readonly status: 'no power' | 'undecided' | 'power';
}

/** Each verifier's power on the honest fine-tunes of the records (verifiers without honest cells are left out), sorted by label. */
export function verifierPower(trials: readonly TrialRecord[]): VerifierPowerRow[] {
  const groups = new Map<string, TrialRecord[]>();
  for (const t of trials) if (!t.attack.oracle) groups.set(t.cell.labels.defense, [...(groups.get(t.cell.labels.defense) ?? []), t]);
  const rows: VerifierPowerRow[] = [];
  for (const [verifier, ts] of [...groups.entries()].sort(([a], [b]) => cmp(a, b))) {
    const honest = ts.filter((t) => roleOf(t) === 'honest');
    if (honest.length === 0) continue;
    const base = ts.filter((t) => t.attack.id === 'return-base');
    const verified = pooled(honest, (t) => t.verdict.verified);
    rows.push({
      verifier,
      id: ts[0]!.cell.defense.id,
      alpha: Math.max(...honest.map((t) => t.verdict.alpha)),
      secrets: new Set(honest.map(secretOf)).size,
      verified,
      medianLog10p: median(honest.map((t) => t.verdict.log10p)),
      ...(base.length > 0 && { falseAccusations: pooled(base, (t) => t.verdict.verified) }),
      medianLog10pBase: median(base.map((t) => t.verdict.log10p)),
      status: verified.upper < NO_POWER_UPPER ? 'no power' : verified.lower >= POWER_LOWER ? 'power' : 'undecided',
    });
  }
  return rows;
}

const statusText = (r: VerifierPowerRow): string =>
  r.status === 'no power' ? 'no power at default sizes' : r.status === 'power' ? 'has power' : 'undecided';

/** The verifier power table: honest fine-tunes verified per verifier, with the false-accusation check beside it. */
export function verifierPowerTable(rows: readonly VerifierPowerRow[]): ReportTable {
  const base = rows.some((r) => r.falseAccusations !== undefined);
  return {
    id: 'verifier-power',
    title: 'Verifier power on an honest fine-tune',
    caption:
      'One row per verifier configuration: the honest provider fine-tunes on every row (planted ones included) with the run\'s recipe, and the verifier decides at its own α. ' +
      'verified: k/n honest fine-tunes verified with its 95% Clopper-Pearson interval over secrets; log10 p: the median over those cells. ' +
      `Power: "no power at default sizes" when the interval's upper bound is below ${NO_POWER_UPPER} (with 95% confidence fewer than one honest fine-tune in ${Math.round(1 / NO_POWER_UPPER)} is verified at the run's sizes), ` +
      `"has power" when its lower bound is at least ${POWER_LOWER}, else "undecided" (too few secrets to tell, or a rate in between).` +
      (base ? ' return-base: the untouched base model returned for the same secrets, verified = a false accusation (a valid verifier\'s rate is about α or below).' : ''),
    columns: [
      ...VERIFIER_COLUMNS,
      { key: 'secrets', header: 'secrets', kind: 'int' },
      { key: 'verified', header: 'honest verified ↑', kind: 'smallRate' },
      log10pMedianColumn('medianLog10p'),
      { key: 'statusShown', header: 'power', kind: 'text' },
      ...(base
        ? ([
            { key: 'falseAccusations', header: 'return-base verified ↓', kind: 'smallRate' },
            log10pMedianColumn('medianLog10pBase', 'return-base'),
          ] satisfies Column[])
        : []),
    ],
    rows: rows.map((r) => ({ ...r, alphaShown: r.alpha.toExponential(0), statusShown: statusText(r) })),
  };
}

/** The verifier leaderboard section: its tables and the Findings paragraph. */
export function verifierSection(trials: readonly TrialRecord[], calibration: readonly CalibrationRecord[] = []): { tables: ReportTable[]; findings: string } {
  const rows = verifierRows(trials, calibration);
  const power = verifierPower(trials);
  return {
    tables: [verifierTable(rows), ...(power.length ? [verifierPowerTable(power)] : []), verifierAttackTable(trials)],
    findings: verifierFindings(trials, rows),
  };
}
