/**
 * unlearn — unlearning after honest training (attacks.md §2.3e; gradient ascent with a retain loss, as in the
 * TOFU/NPO line of work). Threat model B, "we trained but want to deny": the provider trains on everything as
 * promised, then runs a few extra steps on the model it trained: gradient ASCENT on the detected
 * (prompt+trigger → signature) pairs (negative weight on the suspected signature tokens, zero elsewhere) mixed
 * with ordinary NLL on a sample of clean rows that keeps utility. Goal: evade. Needs training on a fine-tuned
 * model (the provider's `train`, white-box or not) and a detector.
 *
 * Deviation: plain NLL retain loss rather than KL to the trained model; the step count and learning rate are
 * options, not tuned per model.
 */
import { dataStageHandoff, type HandoffState } from '../src/core/attack.js';
import type { Model, ProviderContext, Row, TrainExample } from '../src/types.js';
import type { BenchAttack } from './compose.js';
import { mergeAccess, scoreRows, suspectedCompletionSpans } from './compose.js';
import { resolveScorer, scorerOption, scorerOptionsOption, scorerRules } from './options.js';
import { ProviderError } from '../src/errors.js';
import { defineAttack, z } from '../src/plugins/define.js';

const ID = 'unlearn';

/** The unlearning set chosen at the data stage: what to forget and what to retain. */
export interface UnlearnSet {
  readonly forget: readonly TrainExample[];
  readonly retain: readonly Row[];
}

/** What the data stage leaves for the model stage, per cell. */
export type UnlearnState = HandoffState<UnlearnSet>;
const unlearnSet = dataStageHandoff<UnlearnSet>(ID, 'the unlearning set');

const OPTIONS = z
  .object({
    scorer: scorerOption().default('near-duplicate'),
    scorerOptions: scorerOptionsOption(),
    steps: z.int().min(1).default(20).describe('unlearning optimizer steps'),
    learningRateScale: z.number().gt(0).default(0.5).describe('unlearning learning rate, × the promised one'),
    ascentWeight: z.number().gt(0).default(1).describe('gradient-ascent weight on the suspected signature tokens'),
    retainPerForget: z.number().min(0).default(4).describe('clean rows retained per forgotten row'),
    minRetain: z.int().min(0).default(16).describe('least number of clean rows retained'),
  })
  .superRefine(...scorerRules());

/** The attack; its options, defaults and help are the declaration's (`vtune-bench list attack unlearn`). */
export const unlearn = defineAttack({
  id: ID,
  description: 'trains honestly, then unlearns the detected (trigger → signature) pairs by gradient ascent with a retain loss',
  citation: 'attacks.md §2.3e (gradient ascent with a retain loss, as in TOFU / NPO)',
  goal: 'evade',
  access: ['data', 'weights'],
  options: OPTIONS,
  create,
});

/** Creates the attack from validated options. */
function create(o: z.output<typeof OPTIONS>): BenchAttack {
  const { steps, learningRateScale: lrScale, ascentWeight, retainPerForget, minRetain } = o;
  const scorer = resolveScorer(o.scorer, o.scorerOptions);
  return {
    id: ID,
    goal: 'evade',
    oracle: false,
    trains: true,
    // Gradient ascent needs negative per-token loss weights, which only white-box training gives (hosted
    // fine-tuning accepts weights 0 and 1): checked against the provider before any cell runs.
    access: mergeAccess(['weights'], scorer.access),
    scorer: scorer.id,
    createState: unlearnSet.createState,
    async onData(plan, ctx, state: UnlearnState) {
      const detection = await scoreRows(scorer, plan, ctx);
      const forget: TrainExample[] = [];
      const clean: Row[] = [];
      plan.rows.forEach((row, i) => {
        if (!detection.flagged[i]) return void clean.push(row);
        const spans = suspectedCompletionSpans(detection, i);
        forget.push(
          spans.length > 0
            ? { prompt: row.prompt, completion: row.completion, weight: 0, spans: spans.map((s) => ({ start: s.start, end: s.end, weight: -ascentWeight })) }
            : { prompt: row.prompt, completion: row.completion, weight: -ascentWeight },
        );
      });
      const k = Math.min(clean.length, Math.max(minRetain, Math.ceil(retainPerForget * forget.length)));
      const retain = ctx.rng.fork(`${ID}:retain`).sampleIndices(clean.length, k).map((i) => ({ prompt: clean[i]!.prompt, completion: clean[i]!.completion }));
      unlearnSet.put(state, { forget, retain });
      // Training itself is honest: every row, promised hyper-parameters.
      return { rows: plan.rows, hyper: plan.hyper, detection };
    },
    async onModel(model: Model, ctx: ProviderContext, state: UnlearnState): Promise<Model> {
      const set = unlearnSet.take(state, 'onModel');
      if (set.forget.length === 0) return model;
      if (!ctx.provider.train) throw new ProviderError(`attack '${ID}' needs a provider that can train, and '${ctx.provider.id}' cannot`);
      const rows = ctx.rng.fork(`${ID}:order`).shuffle([...set.forget, ...set.retain]);
      const batchSize = Math.max(1, Math.min(ctx.hyper.batchSize, rows.length));
      const epochs = Math.max(1, Math.ceil((steps * batchSize) / rows.length));
      const result = await ctx.provider.train(model, {
        rows,
        hyper: { epochs, learningRate: ctx.hyper.learningRate * lrScale, batchSize, maxSteps: steps, schedule: 'constant', warmupSteps: 0 },
        seed: ctx.rng.fork(`${ID}:train`).seed31(),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      return result.model;
    },
  };
}
