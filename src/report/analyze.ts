/**
 * The numbers of a report, as pure functions of trial records (DESIGN.md §2, §7): rates with 95%
 * Clopper-Pearson intervals and n, Type-I error with its upper bound, median and IQR of log10 p, utility and
 * cost per attack, detector AUROC, and the verifier's ROC. Grouping runs through arquero; the interval
 * arithmetic through src/stats.
 */
import * as aq from 'arquero';
import { op } from 'arquero';
import { canonicalJson } from '../core/canonical-json.js';
import type { TrialRecord } from '../records/schema.js';
import { clopperPearson } from '../stats/index.js';

/** A rate with its 95% Clopper-Pearson interval. `rate` is NaN when n = 0. */
export interface Rate {
  readonly k: number;
  readonly n: number;
  readonly rate: number;
  readonly lower: number;
  readonly upper: number;
  /**
   * Distinct secrets among the n cells, when fewer than n: the interval is then computed over secrets, not
   * cells (see clusteredRate).
   */
  readonly secrets?: number;
}

/** k of n as a Rate. */
export function rate(k: number, n: number): Rate {
  const ci = clopperPearson(k, n, 0.95);
  return { k, n, rate: n === 0 ? NaN : k / n, lower: ci.lower, upper: ci.upper };
}

/**
 * The secret a trial's verdict depends on: every attack of one (dataset, model, defense, hyper, seed) is
 * verified against the same planted secret (src/pipeline/cell.ts pair key), so their outcomes are not
 * independent.
 */
export function secretOf(t: TrialRecord): string {
  const c = t.cell;
  return JSON.stringify([c.dataset.spec, c.dataset.size ?? null, c.dataset.heldOut ?? null, c.model, c.labels.defense, canonicalJson(c.defense.options), canonicalJson(c.hyper), c.seed]);
}

/**
 * A pooled rate with the secret as the unit (DESIGN.md §3 "Independence"): the point estimate is k/n over
 * cells, and the 95% interval is Clopper-Pearson over the s distinct secrets with k·s/n of them counted as
 * successes, rounded outward (lower bound from the floor, upper from the ceiling) — as if the cells sharing a
 * secret were fully dependent, which is the conservative reading. With one cell per secret it is the plain
 * Clopper-Pearson interval of k of n.
 */
export function clusteredRate(cells: readonly { readonly success: boolean; readonly secret: string }[]): Rate {
  return clusteredCounts(cells.filter((c) => c.success).length, cells.length, new Set(cells.map((c) => c.secret)).size);
}

/** clusteredRate from the counts: k successes of n cells over s distinct secrets. */
export function clusteredCounts(k: number, n: number, s: number): Rate {
  if (s === n) return rate(k, n);
  const kEff = (k * s) / n;
  const lower = clopperPearson(Math.floor(kEff + 1e-9), s, 0.95).lower;
  const upper = clopperPearson(Math.ceil(kEff - 1e-9), s, 0.95).upper;
  return { k, n, rate: k / n, lower, upper, secrets: s };
}

/** What a cell is evidence of, for the headline rates (DESIGN.md §2). */
export type Role = 'honest' | 'null' | 'pass' | 'evade';

/**
 * The role of a trial: the goal its attack declared (src/types.ts AttackGoal). Records written before the
 * goal told honest and null apart say `baseline`; those are read as they were then reported: the two null
 * baselines of that time by id, any other baseline as honest when its measured ground truth was.
 */
export function roleOf(t: TrialRecord): Role {
  if (t.attack.goal !== 'baseline') return t.attack.goal;
  const legacyNull = t.attack.id === 'return-base' || t.attack.id === 'train-without-backdoors';
  return t.attack.id === 'honest' || (t.truth.honest && !legacyNull) ? 'honest' : 'null';
}

/** Whether the returned model is independent of the secret: no planted row trained, no wrapper added. */
export function neverTrainedOnBackdoors(t: TrialRecord): boolean {
  return t.truth.backdoorRowsTrained === 0 && !t.truth.inferenceWrapped && !t.attack.oracle;
}

/** One row per (dataset, model, defense, attack): everything the per-attack table shows. */
export interface AttackRow {
  readonly dataset: string;
  readonly model: string;
  readonly defense: string;
  readonly generator: string;
  readonly nullMode: string;
  readonly attack: string;
  readonly attackId: string;
  readonly goal: string;
  readonly role: Role;
  readonly oracle: boolean;
  readonly alpha: number;
  /** The defense's win rate (detected / survived / no false alarm, per role). */
  readonly defenseWins: Rate;
  readonly verified: Rate;
  readonly log10pMedian: number;
  readonly log10pQ25: number;
  readonly log10pQ75: number;
  readonly hitRate: number;
  readonly backdoors: number;
  readonly trainedTokenFraction: number;
  readonly trainingSaved: number;
  /** Measured ground truth: mean planted rows that reached training, and the cells whose weights were changed after training or whose inference was wrapped. */
  readonly backdoorRowsTrained: number;
  readonly modelModified: number;
  readonly inferenceWrapped: number;
  /** Cells behind the row. */
  readonly cells: number;
  readonly heldOutLossNatsPerToken: number;
  /** Held-out loss minus the honest provider's in the same dataset/model/defense (nats/token; NaN if none). */
  readonly heldOutLossVsHonest: number;
  readonly taskMetric: number;
  readonly extraInferencePasses: number;
  readonly judgeUsd: number;
  readonly detectorAuroc: number;
  readonly detectorTprAt1Fpr: number;
}

/** One row per (dataset, model, defense): the headline rates. */
export interface DefenseRow {
  readonly dataset: string;
  readonly model: string;
  readonly defense: string;
  readonly generator: string;
  readonly generatorId: string;
  /** The generator options as the scenario gave them (calibration matches them after validation). */
  readonly generatorOptions: Readonly<Record<string, unknown>>;
  readonly datasetSpec: string;
  /** The defense id (vtune or a rival verifier) and its options as the scenario gave them. */
  readonly defenseId: string;
  readonly defenseOptions: Readonly<Record<string, unknown>>;
  readonly nullMode: string;
  /** The null mode the verdicts decided by (a rival verifier's test, e.g. rank-sum; vTune's is `nullMode`). */
  readonly decisionMode: string;
  readonly alpha: number;
  /** Backdoors per secret. */
  readonly backdoors: number;
  readonly detection: Rate;
  readonly survival: Rate;
  readonly falseAlarm: Rate;
  /** Type-I measured in the run itself: its null baselines (few cells; calibration gives thousands). */
  readonly typeI: Rate;
  /** Oracle cells left out of every rate of this row. */
  readonly oracleCells: number;
  /** −log10 p as a score separating models trained on the backdoors from those never trained on them. */
  readonly verifierAuroc: number;
}

const nan = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

/** The flat per-trial table everything else is grouped from. */
export function trialTable(trials: readonly TrialRecord[]): aq.ColumnTable {
  return aq.from(
    trials.map((t) => ({
      dataset: t.cell.labels.dataset,
      model: t.cell.labels.model,
      defense: t.cell.labels.defense,
      generator: t.cell.labels.generator,
      nullMode: t.cell.labels.nullMode,
      attack: t.cell.labels.attack,
      attackId: t.attack.id,
      goal: t.attack.goal,
      role: roleOf(t),
      oracle: t.attack.oracle,
      alpha: t.verdict.alpha,
      won01: t.defenseWon ? 1 : 0,
      verified01: t.verdict.verified ? 1 : 0,
      log10p: t.verdict.log10p,
      hitRate: t.verdict.n > 0 ? t.verdict.k / t.verdict.n : NaN,
      backdoors: t.verdict.n,
      trainedTokenFraction: t.cost.trainedTokenFraction,
      backdoorRowsTrained: t.truth.backdoorRowsTrained,
      modified01: t.truth.modelModified ? 1 : 0,
      wrapped01: t.truth.inferenceWrapped ? 1 : 0,
      loss: nan(t.utility.heldOutLossNatsPerToken),
      task: nan(t.utility.taskMetric),
      passes: t.cost.extraInferencePasses,
      judgeUsd: t.cost.judgeUsd,
      auroc: nan(t.detection?.auroc),
      tpr1: nan(t.detection?.tprAt1Fpr),
      nullModel01: neverTrainedOnBackdoors(t) ? 1 : 0,
      secret: secretOf(t),
    })),
  );
}

const meanOf = (xs: readonly number[]): number => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};

/** Per-attack rows, sorted by dataset, model, defense, then the attack label, oracle attacks last. */
export function attackRows(trials: readonly TrialRecord[]): AttackRow[] {
  if (trials.length === 0) return [];
  const grouped = trialTable(trials)
    .groupby('dataset', 'model', 'defense', 'generator', 'nullMode', 'attack', 'attackId', 'goal', 'role', 'oracle')
    .rollup({
      n: op.count(),
      secrets: (d: any) => op.distinct(d.secret),
      won: (d: any) => op.sum(d.won01),
      verified: (d: any) => op.sum(d.verified01),
      alpha: (d: any) => op.max(d.alpha),
      q25: (d: any) => op.quantile(d.log10p, 0.25),
      median: (d: any) => op.median(d.log10p),
      q75: (d: any) => op.quantile(d.log10p, 0.75),
      hitRate: (d: any) => op.mean(d.hitRate),
      backdoors: (d: any) => op.median(d.backdoors),
      ttf: (d: any) => op.mean(d.trainedTokenFraction),
      bdt: (d: any) => op.mean(d.backdoorRowsTrained),
      modified: (d: any) => op.sum(d.modified01),
      wrapped: (d: any) => op.sum(d.wrapped01),
      losses: (d: any) => op.array_agg(d.loss),
      tasks: (d: any) => op.array_agg(d.task),
      passes: (d: any) => op.mean(d.passes),
      judgeUsd: (d: any) => op.sum(d.judgeUsd),
      aurocs: (d: any) => op.array_agg(d.auroc),
      tprs: (d: any) => op.array_agg(d.tpr1),
    })
    // Oracle upper bounds after every realistic attack of their configuration: kept apart in the table.
    .orderby('dataset', 'model', 'defense', 'oracle', 'attack')
    .objects() as Record<string, any>[];
  const honestLoss = new Map<string, number>();
  for (const g of grouped) if (g.role === 'honest') honestLoss.set(`${g.dataset}\u0000${g.model}\u0000${g.defense}`, meanOf(g.losses));
  return grouped.map((g) => {
    const loss = meanOf(g.losses);
    const ref = honestLoss.get(`${g.dataset}\u0000${g.model}\u0000${g.defense}`);
    return {
      dataset: g.dataset,
      model: g.model,
      defense: g.defense,
      generator: g.generator,
      nullMode: g.nullMode,
      attack: g.attack,
      attackId: g.attackId,
      goal: g.goal,
      role: g.role,
      oracle: g.oracle,
      alpha: g.alpha,
      defenseWins: clusteredCounts(g.won, g.n, g.secrets),
      verified: clusteredCounts(g.verified, g.n, g.secrets),
      log10pMedian: g.median,
      log10pQ25: g.q25,
      log10pQ75: g.q75,
      hitRate: g.hitRate,
      backdoors: g.backdoors,
      trainedTokenFraction: g.ttf,
      trainingSaved: 1 - g.ttf,
      backdoorRowsTrained: g.bdt,
      modelModified: g.modified,
      inferenceWrapped: g.wrapped,
      cells: g.n,
      heldOutLossNatsPerToken: loss,
      heldOutLossVsHonest: ref === undefined ? NaN : loss - ref,
      taskMetric: meanOf(g.tasks),
      extraInferencePasses: g.passes,
      judgeUsd: g.judgeUsd,
      detectorAuroc: meanOf(g.aurocs),
      detectorTprAt1Fpr: meanOf(g.tprs),
    };
  });
}

/**
 * Headline rates per (dataset, model, defense). Oracle attacks (which see the backdoor mask) are out of every
 * rate; pooled rates count the secret as the unit (clusteredRate).
 */
export function defenseRows(trials: readonly TrialRecord[]): DefenseRow[] {
  const groups = new Map<string, TrialRecord[]>();
  for (const t of trials) {
    const key = JSON.stringify([t.cell.labels.dataset, t.cell.labels.model, t.cell.labels.defense]);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  const pooled = (ts: readonly TrialRecord[], success: (t: TrialRecord) => boolean): Rate => clusteredRate(ts.map((t) => ({ success: success(t), secret: secretOf(t) })));
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, mine]) => {
      const first = mine[0]!;
      const real = mine.filter((t) => !t.attack.oracle);
      const role = (r: Role) => real.filter((t) => roleOf(t) === r);
      return {
        dataset: first.cell.labels.dataset,
        model: first.cell.labels.model,
        defense: first.cell.labels.defense,
        generator: first.cell.labels.generator,
        generatorId: generatorIdOf(first),
        generatorOptions: generatorOptionsOf(first),
        datasetSpec: first.cell.dataset.spec,
        defenseId: first.cell.defense.id,
        defenseOptions: first.cell.defense.options,
        nullMode: first.cell.labels.nullMode,
        decisionMode: first.cell.defense.id === 'vtune' ? first.cell.labels.nullMode : first.verdict.nullMode,
        alpha: Math.max(...mine.map((t) => t.verdict.alpha)),
        backdoors: Math.max(...mine.map((t) => t.verdict.n)),
        detection: pooled([...role('pass'), ...role('null')], (t) => !t.verdict.verified),
        survival: pooled(role('evade'), (t) => t.verdict.verified),
        falseAlarm: pooled(role('honest'), (t) => !t.verdict.verified),
        typeI: pooled(mine.filter(neverTrainedOnBackdoors), (t) => t.verdict.verified),
        oracleCells: mine.length - real.length,
        verifierAuroc: rocOf(mine).auroc,
      };
    });
}

/** The generator id a trial's defense used ('wordlist' is the vtune default). */
function generatorIdOf(t: TrialRecord): string {
  const g = t.cell.defense.options.generator;
  return typeof g === 'string' ? g : t.cell.defense.id === 'vtune' ? 'wordlist' : t.cell.labels.generator;
}

/** The generator options a trial's defense was given (as written in the scenario). */
function generatorOptionsOf(t: TrialRecord): Readonly<Record<string, unknown>> {
  const o = t.cell.defense.options.generatorOptions;
  return o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : {};
}

/** The verifier's ROC: positives trained on backdoor rows, negatives never did; score −log10 p. */
export interface Roc {
  readonly points: readonly { readonly fpr: number; readonly tpr: number }[];
  /** NaN when either class is empty. */
  readonly auroc: number;
  readonly positives: number;
  readonly negatives: number;
}

/** ROC curve and AUROC (ties count half) of −log10 p over the given trials. */
export function rocOf(trials: readonly TrialRecord[]): Roc {
  const pos = trials.filter((t) => t.truth.backdoorRowsTrained > 0 && !t.attack.oracle).map((t) => -t.verdict.log10p);
  const neg = trials.filter(neverTrainedOnBackdoors).map((t) => -t.verdict.log10p);
  if (pos.length === 0 || neg.length === 0) return { points: [], auroc: NaN, positives: pos.length, negatives: neg.length };
  let wins = 0;
  for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
  const thresholds = [...new Set([...pos, ...neg])].sort((a, b) => b - a);
  const points = [{ fpr: 0, tpr: 0 }];
  for (const th of thresholds) {
    points.push({ fpr: neg.filter((s) => s >= th).length / neg.length, tpr: pos.filter((s) => s >= th).length / pos.length });
  }
  return { points, auroc: wins / (pos.length * neg.length), positives: pos.length, negatives: neg.length };
}

/**
 * Leaderboard: dishonest attacks ranked by success against each defense configuration (ties: more training
 * saved first). Ranked per configuration, not per generator: `copy` and `modify` insertion of one generator
 * are different defenses.
 */
export interface AttackBoardRow {
  readonly defense: string;
  readonly generator: string;
  /** Undefined for oracle attacks: they are listed (marked †) but never ranked. */
  readonly rank?: number;
  readonly attack: string;
  readonly goal: string;
  readonly oracle: boolean;
  readonly success: Rate;
  readonly trainingSaved: number;
}

/** Attacks ranked by success rate (1 − defense win rate) within each defense configuration, over all datasets and models. */
export function attackLeaderboard(trials: readonly TrialRecord[]): AttackBoardRow[] {
  const dishonest = trials.filter((t) => t.attack.goal === 'pass' || t.attack.goal === 'evade');
  if (dishonest.length === 0) return [];
  const grouped = trialTable(dishonest)
    .groupby('defense', 'generator', 'attack', 'goal', 'oracle')
    .rollup({ n: op.count(), secrets: (d: any) => op.distinct(d.secret), won: (d: any) => op.sum(d.won01), ttf: (d: any) => op.mean(d.trainedTokenFraction) })
    .objects() as Record<string, any>[];
  const rows = grouped.map((g) => ({
    defense: g.defense as string,
    generator: g.generator as string,
    attack: g.attack as string,
    goal: g.goal as string,
    oracle: Boolean(g.oracle),
    success: clusteredCounts(g.n - g.won, g.n, g.secrets),
    trainingSaved: 1 - g.ttf,
  }));
  // Oracles last within their defense, unranked.
  rows.sort(
    (a, b) =>
      cmp(a.defense, b.defense) || Number(a.oracle) - Number(b.oracle) || desc(a.success.rate, b.success.rate) || desc(a.trainingSaved, b.trainingSaved) || cmp(a.attack, b.attack),
  );
  let rank = 0;
  let defense: string | undefined;
  return rows.map((r) => {
    if (r.defense !== defense) rank = 0;
    defense = r.defense;
    return r.oracle ? r : { ...r, rank: ++rank };
  });
}

/** Leaderboard: generators (defense configurations) ranked by their worst-case detection over the attack suite. */
export interface GeneratorBoardRow {
  /**
   * Competition rank (1, 1, 3, …): configurations tied on worst case and false alarm share one. Undefined for a
   * configuration no dishonest attack has a cell against: there is nothing to rank it by.
   */
  readonly rank?: number;
  readonly defense: string;
  readonly generator: string;
  readonly nullMode: string;
  readonly alpha: number;
  /** The lowest defense win rate over the non-oracle dishonest attacks, and the attack that achieved it. */
  readonly worstCase: Rate;
  readonly worstAttack: string;
  readonly meanWinRate: number;
  readonly falseAlarm: Rate;
  readonly typeI: Rate;
}

/** Defense configurations ranked by worst-case detection (then fewer false alarms; full ties share a rank). */
export function generatorLeaderboard(trials: readonly TrialRecord[]): GeneratorBoardRow[] {
  const byDefense = new Map<string, TrialRecord[]>();
  for (const t of trials) byDefense.set(t.cell.labels.defense, [...(byDefense.get(t.cell.labels.defense) ?? []), t]);
  const rows: Omit<GeneratorBoardRow, 'rank'>[] = [];
  for (const [defense, ts] of byDefense) {
    const attacks = new Map<string, TrialRecord[]>();
    // Oracle attacks see the backdoor mask: an upper bound reported in the attack table, not a realistic worst case.
    for (const t of ts.filter((x) => (roleOf(x) === 'pass' || roleOf(x) === 'evade') && !x.attack.oracle)) {
      attacks.set(t.cell.labels.attack, [...(attacks.get(t.cell.labels.attack) ?? []), t]);
    }
    let worst: Rate = rate(0, 0);
    let worstAttack = '—';
    const winRates: number[] = [];
    for (const [attack, at] of [...attacks].sort((a, b) => cmp(a[0], b[0]))) {
      const r = clusteredRate(at.map((t) => ({ success: t.defenseWon, secret: secretOf(t) })));
      winRates.push(r.rate);
      if (worst.n === 0 || r.rate < worst.rate) {
        worst = r;
        worstAttack = attack;
      }
    }
    const honest = ts.filter((t) => roleOf(t) === 'honest' && !t.attack.oracle);
    const nulls = ts.filter(neverTrainedOnBackdoors);
    rows.push({
      defense,
      generator: ts[0]!.cell.labels.generator,
      nullMode: ts[0]!.cell.labels.nullMode,
      alpha: Math.max(...ts.map((t) => t.verdict.alpha)),
      worstCase: worst,
      worstAttack,
      meanWinRate: meanOf(winRates),
      falseAlarm: clusteredRate(honest.map((t) => ({ success: !t.verdict.verified, secret: secretOf(t) }))),
      typeI: clusteredRate(nulls.map((t) => ({ success: t.verdict.verified, secret: secretOf(t) }))),
    });
  }
  const order = (a: (typeof rows)[number], b: (typeof rows)[number]): number => desc(a.worstCase.rate, b.worstCase.rate) || asc(a.falseAlarm.rate, b.falseAlarm.rate);
  rows.sort((a, b) => order(a, b) || cmp(a.defense, b.defense));
  const ranked = rows.filter((r) => r.worstCase.n > 0);
  return rows.map((r) => (r.worstCase.n > 0 ? { rank: 1 + ranked.findIndex((o) => order(o, r) === 0), ...r } : r));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sort comparator for ascending numbers with NaN (not measured) last (desc with its arguments swapped puts NaN first). */
function asc(a: number, b: number): number {
  return Number.isNaN(a) || Number.isNaN(b) ? desc(a, b) : a - b;
}

/** Sort comparator for descending numbers with NaN last. */
function desc(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (Number.isNaN(a)) return 1;
  if (Number.isNaN(b)) return -1;
  return b - a;
}
