/**
 * fewer-steps — the lazy provider trains all rows but does less work than promised (attacks.md §2.3b): a
 * fraction of the optimizer steps, fewer epochs, a lower learning rate or a lower LoRA rank. Goal: pass.
 * The pipeline measures steps run vs promised; the hyper-parameters actually used are in the trace.
 */
import { promisedSteps } from '../src/pipeline/ground-truth.js';
import { defineAttack, z } from '../src/plugins/define.js';
import type { HyperParams } from '../src/types.js';
import type { BenchAttack } from './compose.js';
import { fraction } from './policies.js';

const OPTIONS = z.object({
  stepFraction: fraction().optional().describe('share of the promised optimizer steps run (default 0.5 when no other option is given)'),
  epochs: z.int().min(1).optional().describe('epochs run instead of the promised ones'),
  learningRateFactor: fraction().optional().describe('factor on the promised learning rate'),
  loraRank: z.int().min(1).optional().describe('LoRA rank used instead of the promised one'),
});

/**
 * The attack. Options: `stepFraction` in (0, 1] (fraction of the promised steps; default 0.5 when no
 * other option is given), `epochs` (a positive integer), `learningRateFactor` in (0, 1], `loraRank`.
 */
export const fewerSteps = defineAttack({
  id: 'fewer-steps',
  description: 'the lazy provider trains all rows but does less work than promised (steps, epochs, learning rate, LoRA rank)',
  citation: 'attacks.md §2.3b',
  goal: 'pass',
  access: ['data'],
  options: OPTIONS,
  create,
});

/** Creates the attack from validated options. */
function create(options: z.output<typeof OPTIONS>): BenchAttack {
  const anyGiven = Object.values(options).some((v) => v !== undefined);
  const stepFraction = options.stepFraction ?? (anyGiven ? undefined : 0.5);
  const { epochs, learningRateFactor: lrFactor, loraRank } = options;
  return {
    id: 'fewer-steps',
    goal: 'pass',
    access: ['data'],
    oracle: false,
    trains: true,
    async onData(plan) {
      let hyper: HyperParams = { ...plan.hyper };
      if (epochs !== undefined) hyper = { ...hyper, epochs };
      if (stepFraction !== undefined) {
        hyper = { ...hyper, maxSteps: Math.max(1, Math.round(stepFraction * promisedSteps(plan.rows.length, hyper))) };
      }
      if (lrFactor !== undefined) hyper = { ...hyper, learningRate: hyper.learningRate * lrFactor };
      if (loraRank !== undefined) hyper = { ...hyper, lora: { ...hyper.lora, rank: loraRank } };
      return { rows: plan.rows, hyper };
    },
  };
}
