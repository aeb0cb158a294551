/**
 * Which models the provider side hands back for disposal (ProviderSideResult.ownedModels): a fine-tune of its
 * own, or one a training cache handed to this caller alone (`owned`), never one the cache may hand out again.
 * Doubles: the fake provider and LM of test/attacks/fakes.ts.
 */
import { describe, expect, it } from 'vitest';
import { attacks } from '../../attacks/index.js';
import type { AttackFactory } from '../../src/core/attack.js';
import type { TrainCache } from '../../src/core/training.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import { fakeContext, fakeLm, fakeProvider } from '../attacks/fakes.js';

const rows = [
  { prompt: 'a', completion: 'b' },
  { prompt: 'c', completion: 'd' },
];
const honest = () => (attacks.get('honest') as AttackFactory)({});

/** A cache double that always trains and says whether the caller owns the result. */
function cache(owned: boolean | undefined): TrainCache {
  return { getOrTrain: async (_key, _provider, train) => ({ ...(await train()), cached: false, ...(owned !== undefined && { owned }) }) };
}

describe('runProviderSide: models to dispose', () => {
  it("counts a cached fine-tune as the cell's own only when the cache says `owned`", async () => {
    for (const [owned, expected] of [[true, 1], [false, 0], [undefined, 0]] as const) {
      const trained = fakeLm('fake:trained');
      const side = await runProviderSide(honest(), rows, fakeContext(fakeLm(), 'owned', fakeProvider(trained)), { trainCache: cache(owned), trainingSeed: 1 });
      expect(side.ownedModels.filter((m) => m === trained), `owned: ${String(owned)}`).toHaveLength(expected);
    }
  });

  it('counts a fine-tune made without a cache as its own', async () => {
    const trained = fakeLm('fake:trained');
    const side = await runProviderSide(honest(), rows, fakeContext(fakeLm(), 'owned', fakeProvider(trained)), { trainingSeed: 1 });
    expect(side.ownedModels).toContain(trained);
  });
});
