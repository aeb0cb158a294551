/**
 * Findings: the short section a report and the published leaderboard open with, written by code from the trial
 * records alone (issue 17). Every sentence carries its figures (rates with 95% interval and n, training saved,
 * utility cost); nothing is written by hand, so re-running the report on the same records gives the same text.
 *
 * The rules behind the words, stated in the section itself:
 * - an attack *beats* a defense configuration when it gets its way in more than half of the cells
 *   (success rate > BEATS_ABOVE, pooled over datasets, models and seeds);
 * - the *cheapest* such attack trains the least (largest training saved), then spends the fewest extra
 *   inference passes, then costs the user the least held-out loss;
 * - the defense *holds* against an attack when its win rate's 95% lower bound is at least HOLDS_FROM;
 * - `modify` *changes* an attack when the defense win rate moves by at least CHANGE_FROM against the same
 *   generator configuration with `copy` insertion.
 * Oracle attacks (†, they see the backdoor mask) are left out of every finding.
 */
import type { ManifestRecord, TrialRecord } from '../records/schema.js';
import { clopperPearson } from '../stats/index.js';
import { clusteredRate, generatorLeaderboard, neverTrainedOnBackdoors, roleOf, secretOf, type Rate } from './analyze.js';
import { formatCell } from './tables.js';

/** Success rate above which an attack "beats" a configuration. */
export const BEATS_ABOVE = 0.5;
/** 95% lower bound of the defense win rate from which the defense "holds". */
export const HOLDS_FROM = 0.8;
/** Change of the defense win rate that counts as a change made by `modify`. */
export const CHANGE_FROM = 0.2;

/** One (defense configuration × attack), pooled over datasets, models and seeds. */
export interface ConfigAttack {
  readonly defense: string;
  readonly attack: string;
  readonly attackId: string;
  readonly goal: string;
  readonly oracle: boolean;
  /** The defense's win rate (secrets as the unit). */
  readonly defenseWins: Rate;
  /** The attack's success rate: 1 − defense wins, over the same cells. */
  readonly success: Rate;
  readonly verified: Rate;
  readonly trainingSaved: number;
  readonly extraInferencePasses: number;
  /** Mean over cells of held-out loss minus the honest provider's mean in the same dataset, model and defense (NaN if none). */
  readonly lossVsHonest: number;
  /**
   * Mean over cells of the task metric minus the honest provider's mean in the same place (NaN if either is not
   * measured): generation-level utility, which held-out loss misses when an attack changes decoding (cleangen).
   */
  readonly taskVsHonest: number;
}

const finite = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : NaN);
const mean = (xs: readonly number[]): number => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Every (defense configuration × attack) of the records, sorted by defense then attack label. */
export function configAttacks(trials: readonly TrialRecord[]): ConfigAttack[] {
  const place = (t: TrialRecord): string => JSON.stringify([t.cell.labels.dataset, t.cell.labels.model, t.cell.labels.defense]);
  const honestMean = (value: (t: TrialRecord) => number): Map<string, number> => {
    const cells = new Map<string, number[]>();
    for (const t of trials) if (roleOf(t) === 'honest' && !t.attack.oracle) cells.set(place(t), [...(cells.get(place(t)) ?? []), value(t)]);
    return new Map([...cells].map(([k, v]) => [k, mean(v)]));
  };
  const honestLoss = honestMean((t) => finite(t.utility.heldOutLossNatsPerToken));
  const honestTask = honestMean((t) => finite(t.utility.taskMetric));
  const groups = new Map<string, TrialRecord[]>();
  for (const t of trials) {
    const k = JSON.stringify([t.cell.labels.defense, t.cell.labels.attack]);
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  return [...groups.values()]
    .map((ts) => {
      const f = ts[0]!;
      return {
        defense: f.cell.labels.defense,
        attack: f.cell.labels.attack,
        attackId: f.attack.id,
        goal: f.attack.goal,
        oracle: f.attack.oracle,
        defenseWins: clusteredRate(ts.map((t) => ({ success: t.defenseWon, secret: secretOf(t) }))),
        success: clusteredRate(ts.map((t) => ({ success: !t.defenseWon, secret: secretOf(t) }))),
        verified: clusteredRate(ts.map((t) => ({ success: t.verdict.verified, secret: secretOf(t) }))),
        trainingSaved: 1 - mean(ts.map((t) => t.cost.trainedTokenFraction)),
        extraInferencePasses: mean(ts.map((t) => t.cost.extraInferencePasses)),
        lossVsHonest: mean(ts.map((t) => finite(t.utility.heldOutLossNatsPerToken) - (honestLoss.get(place(t)) ?? NaN))),
        taskVsHonest: mean(ts.map((t) => finite(t.utility.taskMetric) - (honestTask.get(place(t)) ?? NaN))),
      };
    })
    .sort((a, b) => cmp(a.defense, b.defense) || cmp(a.attack, b.attack));
}

/** A dishonest attack: lazy (pass) or evasive, and not an oracle upper bound. */
export const dishonest = (c: ConfigAttack): boolean => !c.oracle && (c.goal === 'pass' || c.goal === 'evade');

/** A rate as the tables print it: `0.95 [0.76, 1.00] n=21`. */
const r = (x: Rate): string => formatCell(x, 'rate');
const f2 = (x: number): string => formatCell(x, 'fixed2');
/** A signed difference with three decimals and a true minus sign. */
const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
/** A signed loss difference in nats/token, or "not measured". */
const dLoss = (x: number): string => (Number.isFinite(x) ? `${signed(x)} nats/token` : 'not measured');

/** The cheapest-first order: most training saved, fewest extra passes, least utility cost, then most successful. */
function cheapestFirst(a: ConfigAttack, b: ConfigAttack): number {
  const num = (x: number, y: number): number => (Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : Number.isNaN(y) ? -1 : x - y);
  return num(b.trainingSaved, a.trainingSaved) || num(a.extraInferencePasses, b.extraInferencePasses) || num(a.lossVsHonest, b.lossVsHonest) || num(b.success.rate, a.success.rate) || cmp(a.attack, b.attack);
}

/**
 * The highest 95% lower bound a rate over this many secrets can reach (all of them won): below HOLDS_FROM, no
 * result at this n could say the defense holds.
 */
const bestLower = (x: Rate): number => {
  const s = x.secrets ?? x.n;
  return s > 0 ? clopperPearson(s, s, 0.95).lower : 0;
};

/** The sentence(s) about one defense configuration: cheapest attack that beats it, and where it holds. */
function configurationSentence(defense: string, rows: readonly ConfigAttack[], honest: Rate | undefined): string {
  const attacks = rows.filter(dishonest);
  const beating = attacks.filter((c) => c.success.n > 0 && c.success.rate > BEATS_ABOVE).sort(cheapestFirst);
  const parts: string[] = [];
  if (beating.length > 0) {
    const c = beating[0]!;
    parts.push(
      `the cheapest of the ${beating.length} attack(s) that beat it is ${c.attack} (success ${r(c.success)}, training saved ${f2(c.trainingSaved)}, ` +
        `held-out loss vs honest ${dLoss(c.lossVsHonest)}${Number.isFinite(c.taskVsHonest) ? `, task metric vs honest ${signed(c.taskVsHonest)}` : ''}, ${f2(c.extraInferencePasses)} extra passes)`,
    );
  } else if (attacks.length > 0) {
    const best = [...attacks].sort((a, b) => b.success.rate - a.success.rate || cmp(a.attack, b.attack))[0]!;
    parts.push(`no attack beats it in more than half of its cells; the most successful is ${best.attack} (success ${r(best.success)}, training saved ${f2(best.trainingSaved)})`);
  } else {
    parts.push('no dishonest attack has a cell against it');
  }
  const holds = attacks.filter((c) => c.defenseWins.n > 0 && c.defenseWins.lower >= HOLDS_FROM);
  // Won every cell, yet too few secrets for any result to reach the bound: "holds" cannot be told at this n.
  const untold = attacks.filter((c) => c.defenseWins.n > 0 && c.defenseWins.k === c.defenseWins.n && bestLower(c.defenseWins) < HOLDS_FROM);
  if (attacks.length > 0) {
    parts.push(
      holds.length === 0
        ? `it holds against none of its ${attacks.length} attacks`
        : `it holds against ${holds.length} of ${attacks.length} attacks: ${holds.map((c) => `${c.attack} ${r(c.defenseWins)}`).join('; ')}`,
    );
    if (untold.length > 0) {
      parts.push(
        `it won every cell against ${untold.length} of them, over too few secrets for a 95% lower bound of ${HOLDS_FROM.toFixed(2)} at any score: ` +
          untold.map((c) => `${c.attack} ${r(c.defenseWins)}`).join('; '),
      );
    }
  }
  if (honest && honest.n > 0) parts.push(`an honest fine-tune verifies in ${r(honest)}`);
  return `**${defense}**: ${parts.join('; ')}.`;
}

/** The configurations that differ only in `insertion`: [generator-level name, copy label, modify label]. */
function insertionPairs(trials: readonly TrialRecord[]): [string, string, string][] {
  const byKey = new Map<string, { copy?: string; modify?: string; name: string }>();
  const seen = new Set<string>();
  for (const t of trials) {
    const label = t.cell.labels.defense;
    if (seen.has(label)) continue;
    seen.add(label);
    const { insertion, ...rest } = t.cell.defense.options as Record<string, unknown>;
    const mode = insertion === 'modify' ? 'modify' : 'copy';
    const key = JSON.stringify([t.cell.defense.id, Object.entries(rest).sort(([a], [b]) => cmp(a, b))]);
    const entry = byKey.get(key) ?? { name: t.cell.labels.generator };
    entry[mode] = label;
    byKey.set(key, entry);
  }
  return [...byKey.values()]
    .filter((e): e is { copy: string; modify: string; name: string } => e.copy !== undefined && e.modify !== undefined)
    .map((e): [string, string, string] => [e.name, e.copy, e.modify])
    .sort((a, b) => cmp(a[1], b[1]));
}

/** What `modify` insertion changes against `copy`, per generator that ran both. */
function modifySentences(trials: readonly TrialRecord[], all: readonly ConfigAttack[]): string[] {
  const out: string[] = [];
  const board = generatorLeaderboard(trials);
  for (const [name, copy, modify] of insertionPairs(trials)) {
    const a = new Map(all.filter((c) => c.defense === copy && dishonest(c)).map((c) => [c.attack, c]));
    const b = new Map(all.filter((c) => c.defense === modify && dishonest(c)).map((c) => [c.attack, c]));
    const moves = [...a.keys()]
      .filter((k) => b.has(k))
      .map((k) => ({ attack: k, from: a.get(k)!.defenseWins, to: b.get(k)!.defenseWins }))
      .filter((m) => m.from.n > 0 && m.to.n > 0)
      .sort((x, y) => Math.abs(y.to.rate - y.from.rate) - Math.abs(x.to.rate - x.from.rate) || cmp(x.attack, y.attack));
    const big = moves.filter((m) => Math.abs(m.to.rate - m.from.rate) >= CHANGE_FROM - 1e-12);
    const move = (m: (typeof moves)[number]): string => `${m.attack} ${r(m.from)} → ${r(m.to)}`;
    // A move whose two intervals overlap may be noise at this n.
    const disjoint = (ms: readonly (typeof moves)[number][]): number => ms.filter((m) => m.from.upper < m.to.lower || m.to.upper < m.from.lower).length;
    const wc = (label: string): string => {
      const g = board.find((x) => x.defense === label);
      return g && g.worstCase.n > 0 ? `${r(g.worstCase)} (${g.worstAttack})` : '— (no dishonest attack)';
    };
    const head = `**${name}**, ${modify} instead of ${copy}`;
    const changes =
      big.length > 0
        ? `moves the defense win rate by at least ${CHANGE_FROM.toFixed(2)} against ${big.length} of ${moves.length} attacks (${disjoint(big)} of them with disjoint 95% intervals): ${big.map(move).join('; ')}`
        : moves.length > 0
          ? `moves no attack's defense win rate by ${CHANGE_FROM.toFixed(2)} or more (largest: ${move(moves[0]!)})`
          : 'shares no attack with it';
    out.push(`${head} ${changes}; worst case ${wc(copy)} → ${wc(modify)}.`);
  }
  return out;
}

/**
 * What the run's manifests planned against what the records hold: '' for a complete run (or for records of more
 * than one run), else a sentence with the finished share and the datasets, configurations and attacks (by their
 * scenario labels) that have no cell yet.
 */
function coverageSentence(trials: readonly TrialRecord[], manifests: readonly ManifestRecord[]): string {
  // Records of different runs (scenarios) can share cells, so their planned counts do not add up: only one
  // run's manifests (its shards included) say what was planned.
  if (new Set(manifests.map((m) => m.scenario.hash)).size !== 1) return '';
  const planned = manifests.reduce((a, m) => a + m.cellCount, 0);
  if (trials.length >= planned) return '';
  const labelsOf = (key: 'datasets' | 'defenses' | 'attacks'): string[] => {
    const out = new Set<string>();
    for (const m of manifests) {
      const list = (m.scenario.definition as Record<string, unknown> | null)?.[key];
      if (!Array.isArray(list)) continue;
      for (const e of list) {
        // Only labels the records are sure to carry: an explicit label, an attack given as a bare id, a dataset's spec.
        const o = e as { label?: unknown; spec?: unknown } | null;
        const label = typeof e === 'string' ? (key === 'defenses' ? undefined : e) : (o?.label ?? (key === 'datasets' ? o?.spec : undefined));
        if (typeof label === 'string') out.add(label);
      }
    }
    return [...out];
  };
  const seen = (f: (t: TrialRecord) => string): Set<string> => new Set(trials.map(f));
  const defenses = seen((t) => t.cell.labels.defense);
  const attacks = seen((t) => t.cell.labels.attack);
  const datasets = seen((t) => t.cell.labels.dataset);
  const missingDatasets = labelsOf('datasets').filter((l) => !datasets.has(l));
  const missingDefenses = labelsOf('defenses').filter((l) => !defenses.has(l));
  const missingAttacks = labelsOf('attacks').filter((l) => !attacks.has(l));
  const pct = Math.floor((100 * trials.length) / planned);
  return (
    `These records are a partial run: ${trials.length} of the ${planned} planned cells (${pct}%) have finished, so every figure below covers those cells only` +
    (missingDatasets.length ? `; no cell yet for dataset(s) ${missingDatasets.join(', ')}` : '') +
    (missingDefenses.length ? `; no cell yet for configuration(s) ${missingDefenses.join(', ')}` : '') +
    (missingAttacks.length ? `; no cell yet for attack(s) ${missingAttacks.join(', ')}` : '') +
    '.'
  );
}

/** Each configuration's worst case over a shared set of dishonest attacks (worstOverCommon). */
export interface CommonWorst {
  /** The dishonest attacks every compared configuration ran, and those only some ran (left out of the comparison). */
  readonly common: readonly string[];
  readonly partial: readonly string[];
  /** Per configuration with a dishonest attack: its lowest defense win rate over `common`, most robust first. Empty when `common` is. */
  readonly board: readonly { readonly defense: string; readonly worst: Rate; readonly attack: string }[];
}

/**
 * Worst cases compared over the dishonest (non-oracle) attacks every configuration ran: a configuration measured
 * against fewer attacks would otherwise look more robust. Shared by the Findings and the verifier leaderboard.
 */
export function worstOverCommon(all: readonly ConfigAttack[]): CommonWorst {
  const byConfig = new Map<string, ConfigAttack[]>();
  for (const c of all.filter(dishonest).filter((c) => c.defenseWins.n > 0)) byConfig.set(c.defense, [...(byConfig.get(c.defense) ?? []), c]);
  const sets = [...byConfig.values()].map((cs) => new Set(cs.map((c) => c.attack)));
  const union = [...new Set(sets.flatMap((x) => [...x]))].sort(cmp);
  const common = union.filter((a) => sets.every((x) => x.has(a)));
  const partial = union.filter((a) => !common.includes(a));
  if (common.length === 0) return { common, partial, board: [] };
  const board = [...byConfig.entries()]
    .map(([defense, cs]) => {
      const worst = cs.filter((c) => common.includes(c.attack)).sort((a, b) => a.defenseWins.rate - b.defenseWins.rate || cmp(a.attack, b.attack))[0]!;
      return { defense, worst: worst.defenseWins, attack: worst.attack };
    })
    .sort((a, b) => b.worst.rate - a.worst.rate || cmp(a.defense, b.defense));
  return { common, partial, board };
}

/** The clause naming the attacks left out of a worst-case comparison ('' when none). */
export function leftOutClause({ common, partial }: CommonWorst): string {
  return partial.length === 0 ? '' : ` Compared over the ${common.length} dishonest attack(s) every configuration ran; left out, as not run against every configuration: ${partial.join(', ')}.`;
}

/**
 * Which configuration is most robust by worst case (worstOverCommon), with ties named and overlapping
 * intervals said.
 */
function robustnessSentence(trials: readonly TrialRecord[], all: readonly ConfigAttack[]): string {
  const worst = worstOverCommon(all);
  const { common, partial, board } = worst;
  if (common.length === 0 && partial.length === 0) return '';
  if (common.length === 0) return `By worst case no configuration can be compared with another: no dishonest attack ran against every configuration (${partial.join(', ')}).`;
  const scope = leftOutClause(worst);
  const nulls = (label: string): string => {
    const ns = trials.filter((t) => t.cell.labels.defense === label && neverTrainedOnBackdoors(t));
    return ns.length ? `, in-run Type-I ${formatCell(clusteredRate(ns.map((t) => ({ success: t.verdict.verified, secret: secretOf(t) }))), 'smallRate')}` : '';
  };
  const text = (g: (typeof board)[number], typeI = true): string => `${g.defense} (worst case ${r(g.worst)} against ${g.attack}${typeI ? nulls(g.defense) : ''})`;
  const top = board.filter((g) => g.worst.rate === board[0]!.worst.rate);
  if (top.length === board.length && board.length > 1) return `By worst case no configuration is more robust than another: ${top.map((g) => text(g)).join(', ')}.${scope}`;
  const last = board.at(-1)!;
  // Told apart only when the least robust one's interval lies wholly below every top one's.
  const overlap = board.length > top.length && top.some((g) => g.worst.lower <= last.worst.upper);
  return (
    `Most robust by worst case: ${top.map((g) => text(g)).join(', ')}${top.length > 1 ? ', tied' : ''}` +
    (board.length > top.length ? `; least robust: ${text(last, false)}` : '') +
    (overlap ? '; their 95% intervals overlap, so these cells do not tell them apart' : '') +
    `.${scope}`
  );
}

/**
 * The Findings section: paragraphs of generated text (Markdown), empty when the records hold no dishonest
 * attack. `manifests` (the run's) let it say how much of a partial run the records cover.
 */
export function findings(trials: readonly TrialRecord[], manifests: readonly ManifestRecord[] = []): string[] {
  const all = configAttacks(trials);
  if (!all.some(dishonest)) return [];
  const defenses = [...new Set(all.map((c) => c.defense))].sort(cmp);
  const oracleCells = trials.filter((t) => t.attack.oracle).length;
  const coverage = coverageSentence(trials, manifests);
  const out: string[] = [
    `Generated from ${trials.length} cells of ${defenses.length} defense configuration(s)${oracleCells ? `; the ${oracleCells} oracle cells (†) are left out of every finding` : ''}. ` +
      `Rates pool datasets, models and seeds, with 95% Clopper-Pearson intervals over secrets and n cells. An attack beats a configuration when its success rate is above ${BEATS_ABOVE.toFixed(2)}; ` +
      `the cheapest saves the most training (then fewest extra passes, then least held-out loss vs honest); the defense holds when its win rate's 95% lower bound is at least ${HOLDS_FROM.toFixed(2)}.` +
      (coverage ? ` ${coverage}` : ''),
  ];
  for (const d of defenses) {
    const honest = trials.filter((t) => t.cell.labels.defense === d && roleOf(t) === 'honest' && !t.attack.oracle);
    const honestRate = honest.length ? clusteredRate(honest.map((t) => ({ success: t.verdict.verified, secret: secretOf(t) }))) : undefined;
    out.push(configurationSentence(d, all.filter((c) => c.defense === d), honestRate));
  }
  const robust = robustnessSentence(trials, all);
  if (robust) out.push(robust);
  out.push(...modifySentences(trials, all));
  return out;
}

/** The Findings section as Markdown (a heading and one paragraph per finding), or '' when there is nothing to say. */
export function findingsMarkdown(trials: readonly TrialRecord[], manifests: readonly ManifestRecord[] = []): string {
  const paragraphs = findings(trials, manifests);
  return paragraphs.length ? `## Findings\n\n${paragraphs.join('\n\n')}\n` : '';
}
