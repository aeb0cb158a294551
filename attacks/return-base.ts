/**
 * return-base — the null baseline and vTune's own "trivial cheat" (attacks.md §2.1): train nothing and
 * return the base model. The defense wins when it does NOT verify; over many seeds this measures the
 * verifier's Type-I error on an untrained model. Source: vTune (arXiv 2411.06611), OpenReview discussion.
 */
import { defineAttack } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';

/** The return-base baseline (no options). */
export const returnBase = defineAttack({
  id: 'return-base',
  description: 'the null baseline and trivial cheat: train nothing, return the base model',
  citation: 'vTune, arXiv 2411.06611 (OpenReview discussion)',
  goal: 'baseline',
  access: ['data'],
  create: (): BenchAttack => ({
    id: 'return-base',
    goal: 'baseline',
    access: ['data'],
    oracle: false,
    trains: false,
    async onTraining() {
      return null;
    },
  }),
});
