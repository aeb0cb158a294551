/**
 * The contract rules of the plugin kinds a researcher adds (generators, attacks, scorers), callable outside
 * vitest: `vtune-bench check <module>` runs them on every plugin a module registers, and the contract suites
 * under test/ run the same code on every registry entry. Each rule is named (src/check/types.ts), so a failure
 * says which promise a plugin broke.
 *
 * The standard environment is the real vtune defense and the built-in `qa` dataset against the
 * `test-memorizer` provider — a fast deterministic TEST DOUBLE (it memorises what it trains on), so a check
 * takes seconds and needs no model file; an attack that needs weights or embeddings skips the cell rules, with
 * the reason.
 */
import type { AttackFactory } from '../../attacks/compose.js';
import { attacks } from '../../attacks/index.js';
import { scorers } from '../../attacks/scorers/index.js';
import { defenses } from '../../defenses/index.js';
import { generators } from '../../defenses/vtune/generators/index.js';
import type { GeneratorFactory } from '../../defenses/vtune/generators/types.js';
import type { RowScorerFactory } from '../../attacks/scorers/types.js';
import { loadDataset } from '../datasets/index.js';
import { ConfigError } from '../errors.js';
import { createCostMeter } from '../pipeline/cost.js';
import type { DefenseFactory } from '../pipeline/cell.js';
import { createTestMemorizerProvider } from '../providers/test-memorizer.js';
import { Rng } from '../rng.js';
import type { Model, ProviderContext, Row } from '../types.js';
import { checkAttack } from './attack.js';
import { checkGenerator, type GeneratorCheckEnv } from './generator.js';
import { checkScorer, type ScorerCheckEnv } from './scorer.js';
import type { CheckedKind, RuleResult } from './types.js';

export { barrierViolations, checkAttack, instrumentAttack, instrumentingAttacks, runCellWithAttack, secretParts, standardAttackSetup, traceViolations } from './attack.js';
export { checkGenerator, generatorBarrier } from './generator.js';
export { checkScorer, scorerBarrier } from './scorer.js';
export { describeFailures, type CheckedKind, type RuleName, type RuleResult } from './types.js';
export { deepFreeze, firstDifference, reachable, snapshot, withoutMathRandom } from './walk.js';

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };

/**
 * The standard generator environment: 40 rows of `stories` (completions long enough for splice and template to
 * draw from), the test-memorizer base model (a TEST DOUBLE).
 */
export async function standardGeneratorEnv(options: Readonly<Record<string, unknown>> = {}): Promise<GeneratorCheckEnv> {
  const rows = (await loadDataset('stories', { seed: 1, size: 40, heldOut: 0 })).train;
  const model = await (await createTestMemorizerProvider()).model('base');
  // A key option's value must never reach the generator's recorded options (they go into the secret file).
  const secretTexts = Object.entries(options).filter(([k, v]) => /key|secret|token|password/i.test(k) && typeof v === 'string').map(([, v]) => v as string);
  return { rows, model, options, secretTexts };
}

/** The standard scorer environment: 60 rows of `qa` planted by vtune (3 backdoors), contexts over test-memorizer. */
export async function standardScorerEnv(options: Readonly<Record<string, unknown>> = {}): Promise<ScorerCheckEnv> {
  const clean = (await loadDataset('qa', { seed: 1, size: 60, heldOut: 0 })).train;
  const vtune = (defenses.get('vtune') as DefenseFactory)({ count: 3 });
  const rows: readonly Row[] = (await vtune.plant(clean, { rng: new Rng('check|scorer|planting'), log: silent })).rows;
  const provider = await createTestMemorizerProvider();
  const base: Model = await provider.model('base');
  return {
    rows,
    options,
    context: (seed): ProviderContext => ({
      rng: new Rng(seed),
      base,
      provider,
      hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
      log: silent,
      cost: createCostMeter().meter,
      openModel: async (ref) => {
        throw new ConfigError(`check: a scorer asked for model '${ref}'; the standard scorer environment opens no other model`);
      },
    }),
  };
}

/** A plugin to check: its kind and registered id, and options for its factory (a keyed generator's key). */
export interface CheckTarget {
  readonly kind: CheckedKind;
  readonly id: string;
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Runs the kind's rules on a registered plugin in the standard environment. */
export async function checkPlugin(target: CheckTarget): Promise<RuleResult[]> {
  const options = target.options ?? {};
  switch (target.kind) {
    case 'attack':
      return checkAttack(target.id, attacks.get(target.id) as AttackFactory, { options });
    case 'generator':
      return checkGenerator(target.id, generators.get(target.id) as GeneratorFactory, await standardGeneratorEnv(options));
    case 'scorer':
      return checkScorer(target.id, scorers.get(target.id) as RowScorerFactory, await standardScorerEnv(options));
    default:
      throw new ConfigError(`check: no contract rules for plugin kind '${String((target as CheckTarget).kind)}' (generators, attacks and scorers have them)`);
  }
}
