import { describe, expect, it } from 'vitest';
import { perplexity } from '../../../attacks/scorers/perplexity.js';
import { defenses } from '../../../defenses/index.js';
import { loadDataset } from '../../../src/datasets/index.js';
import { auroc } from '../../../src/pipeline/detection-metrics.js';
import { providers } from '../../../src/providers/index.js';
import { Rng } from '../../../src/rng.js';
import { sharedPath } from '../../../src/shared-path.js';
import { fakeContext } from '../fakes.js';

const model = sharedPath('models/stories260K.gguf');

describe('perplexity scorer on the real engine', () => {
  it.skipIf(!model)('separates random-token backdoors planted by vtune under stories260K (skipped without ../shared/models/stories260K.gguf)', async () => {
    const { train } = await loadDataset('stories', { seed: 3, size: 60 });
    const defense = defenses.get('vtune')({ generator: 'random-tokens', count: 3, seed: 'engine-test' });
    const planted = await defense.plant(train, { rng: new Rng('engine-test'), log: fakeContext().log });
    const mask = defense.backdoorMask(planted.secret, planted.rows.length);
    const provider = await providers.get('local')({});
    const base = await provider.model('stories260K');
    try {
      const r = await perplexity().score(planted.rows, fakeContext(base));
      expect(auroc(r.scores, mask)).toBeGreaterThanOrEqual(0.95);
    } finally {
      await base.dispose?.();
      await provider.close?.();
    }
  }, 120_000);
});
