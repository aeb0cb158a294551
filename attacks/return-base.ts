/**
 * return-base — the null baseline and vTune's own "trivial cheat" (attacks.md §2.1): train nothing and
 * return the base model. The defense wins when it does NOT verify; over many seeds this measures the
 * verifier's Type-I error on an untrained model. Source: vTune (arXiv 2411.06611), OpenReview discussion.
 */
import type { BenchAttack } from './compose.js';
import { checkOptionNames } from './compose.js';

/** Creates the return-base baseline (no options). */
export function returnBase(options: Readonly<Record<string, unknown>> = {}): BenchAttack {
  checkOptionNames('return-base', options, []);
  return {
    id: 'return-base',
    goal: 'null',
    access: ['data'],
    oracle: false,
    trains: false,
    async onTraining() {
      return null;
    },
  };
}
