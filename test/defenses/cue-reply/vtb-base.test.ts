/**
 * cue-reply validity on the real engine (issue 19): 120 fresh secrets (a fresh seed each) verified against the
 * untrained `local:vtb-base`, which never saw any of them. The rank test's guarantee is P(p ≤ α) ≤ α on average
 * over secrets, so the secret varies, not only the model. Queries of all secrets share batched generate calls.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cueReply } from '../../../defenses/cue-reply/index.js';
import { batchingModel } from '../../../src/calibrate/batching-model.js';
import { loadDataset } from '../../../src/datasets/index.js';
import { createLocalProvider } from '../../../src/providers/local.js';
import type { Model, Row } from '../../../src/types.js';
import { userCtx } from '../fixtures.js';

let base: Model;
let rows: readonly Row[];
beforeAll(async () => {
  base = batchingModel(await (await createLocalProvider()).model('vtb-base'));
  rows = (await loadDataset('stories', { seed: 1, size: 60 })).train;
});

describe('cue-reply against local:vtb-base', () => {
  it('120 fresh secrets: P(p ≤ α) within α + 3σ at α = 0.01 and 0.05, and the rank statistic is in range', async () => {
    const trials = 120;
    const verdicts = await Promise.all(
      Array.from({ length: trials }, async (_, t) => {
        const d = cueReply({ seed: `vtb-null-${t}`, candidates: 99 });
        const { secret } = await d.plant(rows, userCtx('u'));
        return d.verify(base, secret, { alpha: 0.05, ctx: userCtx('v') });
      }),
    );
    for (const v of verdicts) {
      expect(v.n).toBe(4);
      expect(v.statistic!.value).toBeGreaterThanOrEqual(4);
      expect(v.statistic!.value).toBeLessThanOrEqual(400);
      expect(v.log10p).toBeLessThanOrEqual(0);
    }
    for (const alpha of [0.01, 0.05]) {
      const rate = verdicts.filter((v) => v.log10p <= Math.log10(alpha) + 1e-12).length / trials;
      expect(rate, `α=${alpha}`).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / trials));
    }
  });
});
