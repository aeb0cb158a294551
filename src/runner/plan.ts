/**
 * `vtune-bench run <scenario> --plan`: what a run would do, without running anything — its cells, the secrets
 * they share, the cells that train (an upper bound on fine-tunes: the training cache is keyed by content, so
 * identical training sets, e.g. the honest plan that several attacks train unchanged, are trained once), and an
 * estimate of the sequential cell time from the measured cell durations of earlier records.
 */
import type { TrialRecord } from '../records/schema.js';
import type { Catalog } from './catalog.js';
import { expandCells, shardCells } from './expand.js';
import type { Scenario } from './scenario.js';

/** Counts of a scenario's matrix. */
export interface ScenarioPlan {
  readonly cells: number;
  /** Distinct (dataset, model, defense, seed): each plants one secret that all its attacks are verified against. */
  readonly secrets: number;
  /** Cells whose attack trains (at most this many fine-tunes; the cache trains identical sets once). */
  readonly trainingCells: number;
  /** Cells per attack label, in scenario order. */
  readonly perAttack: readonly { readonly attack: string; readonly id: string; readonly cells: number; readonly trains: boolean; readonly oracle: boolean }[];
  /** Independent secrets per (defense configuration × attack), pooled over datasets and models. */
  readonly secretsPerConfigurationAttack: number;
  readonly defenses: number;
  readonly attacks: number;
  readonly datasets: number;
  readonly seeds: number;
}

/** Counts the cells of a scenario (or of one shard of it). Attack factories are run to learn whether they train. */
export function planScenario(scenario: Scenario, catalog: Pick<Catalog, 'attacks' | 'cellKey'>, shard?: { index: number; count: number }): ScenarioPlan {
  const cells = shardCells(expandCells(scenario, catalog.cellKey), shard);
  const trainsOf = new Map<string, { trains: boolean; oracle: boolean }>();
  for (const a of scenario.attacks) {
    const attack = (catalog.attacks.get(a.id) as (o: Record<string, unknown>) => { trains?: boolean; oracle?: boolean })({ ...a.options });
    trainsOf.set(JSON.stringify([a.id, a.options]), { trains: attack.trains !== false, oracle: attack.oracle === true });
  }
  const perAttack = new Map<string, { attack: string; id: string; cells: number; trains: boolean; oracle: boolean }>();
  const secrets = new Set<string>();
  let trainingCells = 0;
  for (const c of cells) {
    const info = trainsOf.get(JSON.stringify([c.spec.attack.id, c.spec.attack.options]))!;
    const label = c.recorded.labels.attack;
    const entry = perAttack.get(label) ?? { attack: label, id: c.spec.attack.id, cells: 0, ...info };
    entry.cells++;
    perAttack.set(label, entry);
    if (info.trains) trainingCells++;
    secrets.add(JSON.stringify([c.spec.dataset, c.spec.model, c.spec.defense, c.spec.seed]));
  }
  return {
    cells: cells.length,
    secrets: secrets.size,
    trainingCells,
    perAttack: [...perAttack.values()],
    secretsPerConfigurationAttack: scenario.datasets.length * scenario.models.length * scenario.seeds.length,
    defenses: scenario.defenses.length,
    attacks: scenario.attacks.length,
    datasets: scenario.datasets.length,
    seeds: scenario.seeds.length,
  };
}

/**
 * Sequential cell time of a plan, priced by the mean measured duration of earlier trials of the same attack id
 * (the mean of all of them for an attack they never ran). Undefined when there are no trials to price from.
 */
export function estimateSeconds(plan: ScenarioPlan, reference: readonly TrialRecord[]): { seconds: number; unpriced: readonly string[] } | undefined {
  if (reference.length === 0) return undefined;
  const byId = new Map<string, number[]>();
  for (const t of reference) byId.set(t.attack.id, [...(byId.get(t.attack.id) ?? []), t.durationMs]);
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const overall = mean(reference.map((t) => t.durationMs));
  let ms = 0;
  const unpriced: string[] = [];
  for (const p of plan.perAttack) {
    const known = byId.get(p.id);
    if (!known) unpriced.push(p.attack);
    ms += p.cells * (known ? mean(known) : overall);
  }
  return { seconds: ms / 1000, unpriced };
}

/** The plan as printed by `run --plan`. */
export function planText(name: string, plan: ScenarioPlan, estimate?: { seconds: number; unpriced: readonly string[] }, referenceNote = ''): string {
  const lines = [
    `${name}: ${plan.cells} cells = ${plan.datasets} dataset(s) × ${plan.defenses} defense configuration(s) × ${plan.attacks} attack(s) × ${plan.seeds} seed(s)` +
      (plan.cells !== plan.datasets * plan.defenses * plan.attacks * plan.seeds ? ' (models and shard applied)' : ''),
    `secrets planted: ${plan.secrets}; independent secrets per (defense configuration × attack), pooled over datasets: ${plan.secretsPerConfigurationAttack}`,
    `cells that train: ${plan.trainingCells} (at most this many fine-tunes; identical training sets are trained once)`,
    ...plan.perAttack.map((a) => `  ${a.attack}${a.oracle ? ' †' : ''}: ${a.cells} cells${a.trains ? '' : ', no training'}`),
  ];
  if (estimate) {
    lines.push(
      `estimate: ${(estimate.seconds / 3600).toFixed(1)} h of sequential cell time${referenceNote}` +
        (estimate.unpriced.length ? `; attacks never measured there, priced at the mean cell: ${estimate.unpriced.join(', ')}` : ''),
    );
  }
  return `${lines.join('\n')}\n`;
}
