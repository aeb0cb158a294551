/**
 * fewer-steps — the lazy provider trains all rows but does less work than promised (attacks.md §2.3b): a
 * fraction of the optimizer steps, fewer epochs, a lower learning rate or a lower LoRA rank. Goal: pass.
 * The pipeline measures steps run vs promised; the hyper-parameters actually used are in the trace.
 */
import { ConfigError } from '../src/errors.js';
import { promisedSteps } from '../src/core/training.js';
import type { HyperParams } from '../src/types.js';
import type { BenchAttack } from './compose.js';
import { checkOptionNames } from './compose.js';
import { fractionOption } from './policies.js';

function positiveInt(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 1)) throw new ConfigError(`option '${option}': expected a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Creates the attack. Options: `stepFraction` in (0, 1] (fraction of the promised steps; default 0.5 when no
 * other option is given), `epochs` (a positive integer), `learningRateFactor` in (0, 1], `loraRank`.
 */
export function fewerSteps(options: Readonly<Record<string, unknown>> = {}): BenchAttack {
  checkOptionNames('fewer-steps', options, ['stepFraction', 'epochs', 'learningRateFactor', 'loraRank']);
  const anyGiven = Object.values(options).some((v) => v !== undefined);
  const stepFraction = options.stepFraction !== undefined || !anyGiven ? fractionOption(options.stepFraction, 'stepFraction', 0.5) : undefined;
  const epochs = positiveInt(options.epochs, 'epochs');
  const lrFactor = options.learningRateFactor !== undefined ? fractionOption(options.learningRateFactor, 'learningRateFactor') : undefined;
  const loraRank = positiveInt(options.loraRank, 'loraRank');
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
