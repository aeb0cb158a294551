import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { cellKey, pairKey, runCell } from '../../src/pipeline/cell.js';
import { doubleDeps, doubleSpec, memorizerProviderDouble, memoryTrainCache, perfectScorerDouble } from './doubles.js';

// All figures here use the test doubles in ./doubles.ts (memorizer provider, exact-binomial defense).
describe('runCell with test doubles', () => {
  it('honest: verified, measured honest, trained everything once', async () => {
    const out = await runCell(doubleSpec('honest'), doubleDeps());
    expect(out.verdict.verified).toBe(true);
    expect(out.truth.honest).toBe(true);
    expect(out.truth.rowsTrained).toBe(210);
    expect(out.truth.backdoorRowsTrained).toBe(10);
    expect(out.truth.stepsRun).toBe(out.truth.stepsPromised);
    expect(out.cost.trainedTokenFraction).toBeCloseTo(1, 10);
    expect(out.cost.extraInferencePasses).toBe(0);
    expect(out.defenseWon).toBe(true);
    expect(out.utility?.taskMetric).toBe(0); // held-out rows were never trained: the memorizer cannot answer them
    expect(out.utility?.heldOutLossNatsPerToken).toBeCloseTo(Math.log(1000), 6);
  });

  it('return-base and train-without-backdoors are never verified over 20 seeds', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      for (const id of ['return-base', 'train-without-backdoors']) {
        const out = await runCell(doubleSpec(id, {}, seed), doubleDeps());
        expect(out.verdict.verified, `${id} seed ${seed}`).toBe(false);
        expect(out.defenseWon).toBe(true);
        expect(out.truth.backdoorRowsTrained).toBe(0);
      }
    }
  });

  it('train-without-backdoors: the pipeline withholds the planted rows and the rest is an honest fine-tune', async () => {
    const out = await runCell(doubleSpec('train-without-backdoors'), doubleDeps());
    expect(out.truth.plantedRowsWithheld).toBe(10);
    expect(out.truth.rowsSubmitted).toBe(200);
    expect(out.truth.backdoorRowsSubmitted).toBe(0);
    expect(out.truth.honest).toBe(true);
  });

  it('return-base trains nothing and needs no training capability', async () => {
    const deps = doubleDeps({ provider: memorizerProviderDouble({ train: false }) });
    const out = await runCell(doubleSpec('return-base'), deps);
    expect(out.truth.rowsTrained).toBe(0);
    expect(out.truth.stepsRun).toBe(0);
    expect(out.cost.trainedTokenFraction).toBe(0);
    expect(out.truth.honest).toBe(false);
  });

  it('oracle-keep-only-flagged passes verification while training < 5% of the rows', async () => {
    const out = await runCell(doubleSpec('oracle-keep-only-flagged'), doubleDeps());
    expect(out.attack.oracle).toBe(true);
    expect(out.verdict.verified).toBe(true);
    expect(out.defenseWon).toBe(false);
    expect(out.truth.rowsTrained / out.truth.rowsSubmitted).toBeLessThan(0.05);
    expect(out.detection).toMatchObject({ auroc: 1, tprAt1Fpr: 1 });
  });

  it('random-subset f=0.5 trains half the rows; fewer-steps runs the fraction of steps', async () => {
    const rs = await runCell(doubleSpec('random-subset', { fraction: 0.5 }), doubleDeps());
    expect(rs.truth.rowsTrained).toBe(105);
    expect(rs.cost.trainedTokenFraction).toBeGreaterThan(0.4);
    expect(rs.cost.trainedTokenFraction).toBeLessThan(0.6);
    expect(rs.truth.honest).toBe(false);
    const fs = await runCell(doubleSpec('fewer-steps', { stepFraction: 0.25 }), doubleDeps());
    expect(fs.truth.stepsRun).toBe(Math.round(0.25 * fs.truth.stepsPromised));
    expect(fs.cost.trainedTokenFraction).toBeCloseTo(fs.truth.stepsRun / fs.truth.stepsPromised, 6);
    expect(fs.truth.honest).toBe(false);
  });

  it('weight-noise on the base model: not verified, measured as modified, no training', async () => {
    const out = await runCell(doubleSpec('weight-noise'), doubleDeps());
    expect(out.truth.modelModified).toBe(true);
    expect(out.truth.rowsTrained).toBe(0);
    expect(out.verdict.verified).toBe(false);
    expect(out.attack.goal).toBe('pass');
    expect(out.defenseWon).toBe(true);
  });

  it('detect-then-filter with a perfect span scorer (double) evades; lookup-wrapper passes with zero training', async () => {
    const perfect = perfectScorerDouble;
    const filt = await runCell(doubleSpec('detect-then-filter', { scorer: perfect }), doubleDeps());
    expect(filt.verdict.verified).toBe(false);
    expect(filt.defenseWon).toBe(false);
    expect(filt.truth.backdoorRowsTrained).toBe(0);
    const strip = await runCell(doubleSpec('detect-then-filter', { scorer: perfect, policy: 'strip-spans' }), doubleDeps());
    expect(strip.truth.rowsTrained).toBe(210);
    expect(strip.truth.backdoorRowsTrained).toBe(0);
    expect(strip.verdict.verified).toBe(false);
    const look = await runCell(doubleSpec('lookup-wrapper', { scorer: perfect }), doubleDeps());
    expect(look.truth.rowsTrained).toBe(0);
    expect(look.truth.inferenceWrapped).toBe(true);
    expect(look.verdict.verified).toBe(true);
    expect(look.defenseWon).toBe(false);
    const lazy = await runCell(doubleSpec('detect-then-train', { scorer: perfect }), doubleDeps());
    expect(lazy.truth.rowsTrained).toBe(10);
    expect(lazy.verdict.verified).toBe(true);
    expect(lazy.detection?.auroc).toBe(1);
  });

  it('honest and an inference-stage attack share one fine-tune through the training cache', async () => {
    const cache = memoryTrainCache();
    const provider = memorizerProviderDouble();
    const a = await runCell(doubleSpec('honest'), doubleDeps({ provider, trainCache: cache }));
    const b = await runCell(doubleSpec('honest'), doubleDeps({ provider, trainCache: cache }));
    expect(a.trainCached).toBe(false);
    expect(b.trainCached).toBe(true);
    expect(provider.trainCalls).toBe(1);
    expect(b.truth).toEqual(a.truth);
    // A different attack of the same pair (weight-noise after training) reuses the fine-tune too.
    const c = await runCell(doubleSpec('weight-noise', { train: true }), doubleDeps({ provider, trainCache: cache }));
    expect(c.trainCached).toBe(true);
    expect(provider.trainCalls).toBe(1);
    expect(c.verdict.verified).toBe(false);
    expect(c.attack.goal).toBe('evade');
  });

  it('train-without-backdoors cells of two generators train the same rows and share one cached fine-tune', async () => {
    const cache = memoryTrainCache();
    const provider = memorizerProviderDouble();
    // Two defense configurations (generators), everything else equal.
    const withGen = (generator: string) => doubleSpec('train-without-backdoors', {}, 1, { defense: { id: 'defense-double', options: { alpha: 1e-3, generator } } });
    const a = await runCell(withGen('wordlist'), doubleDeps({ provider, trainCache: cache }));
    const b = await runCell(withGen('random-tokens'), doubleDeps({ provider, trainCache: cache }));
    expect(a.truth.plantedRowsWithheld).toBe(10);
    expect(a.trainCached).toBe(false);
    expect(b.trainCached).toBe(true);
    expect(provider.trainCalls).toBe(1);
    expect(cache.size()).toBe(1);
    // The honest cells of the two generators still train different (planted) rows: two fine-tunes.
    await runCell(doubleSpec('honest', {}, 1, { defense: { id: 'defense-double', options: { alpha: 1e-3, generator: 'wordlist' } } }), doubleDeps({ provider, trainCache: cache }));
    await runCell(doubleSpec('honest', {}, 1, { defense: { id: 'defense-double', options: { alpha: 1e-3, generator: 'random-tokens' } } }), doubleDeps({ provider, trainCache: cache }));
    expect(provider.trainCalls).toBe(3);
  });

  it('disposes the base model it opened and the models it trained without a cache, even on failure', async () => {
    const provider = memorizerProviderDouble();
    let disposed = 0;
    const open = provider.model.bind(provider);
    provider.model = async (name) => ({ ...(await open(name)), dispose: () => void disposed++ });
    await runCell(doubleSpec('return-base'), doubleDeps({ provider }));
    expect(disposed).toBe(1);
    await expect(runCell(doubleSpec('weight-noise'), doubleDeps({ provider: Object.assign(provider, { weights: undefined }) }))).rejects.toThrow(ConfigError);
    expect(disposed).toBe(2);
  });

  it('keys: stable, attack-dependent; the pair key ignores the attack', () => {
    const a = doubleSpec('honest');
    const b = doubleSpec('return-base');
    expect(a.key).toBe(doubleSpec('honest').key);
    expect(a.key).not.toBe(b.key);
    const { key: _a, ...fa } = a;
    const { key: _b, ...fb } = b;
    expect(pairKey(fa)).toBe(pairKey(fb));
    expect(cellKey(fa)).toBe(a.key);
  });

  describe('options are validated before any work', () => {
    const cases: [string, string, Record<string, unknown>, RegExp][] = [
      ['fraction 0', 'random-subset', { fraction: 0 }, / fraction: expected a number in \(0, 1\]/],
      ['fraction 1.5', 'random-subset', { fraction: 1.5 }, / fraction: /],
      ['unknown scorer', 'detect-then-train', { scorer: 'perplexty' }, / scorer: unknown scorer 'perplexty'. Did you mean 'perplexity'/],
      ['policy without scorer', 'detect-then-filter', { policy: 'drop-flagged' }, / scorer: required: expected a row scorer id/],
      ['wrong policy for goal', 'detect-then-train', { scorer: 'perplexity', policy: 'drop-flagged' }, / policy: .*does not fit/],
      ['unknown option', 'honest', { fracton: 1 }, /unknown option 'fracton'/],
      ['unknown attack', 'honset', {}, /Did you mean 'honest'/],
      ['weights on a closed model', 'weight-noise', {}, /'weight-noise' needs 'weights' access.*cannot give/],
      ['training on a provider that cannot train', 'honest', {}, /'honest' trains, but/],
    ];
    for (const [name, id, options, re] of cases) {
      it(name, async () => {
        const closed = memorizerProviderDouble({ weights: false, train: name.includes('training') ? false : true });
        const deps = doubleDeps({ provider: closed });
        const err = await runCell(doubleSpec(id, options), deps).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toMatch(re);
        expect(deps.calls.dataset).toBe(0);
      });
    }
    it('a spec whose key does not match its fields', async () => {
      const spec = { ...doubleSpec('honest'), seed: 99 };
      await expect(runCell(spec, doubleDeps())).rejects.toThrow(/does not match its fields/);
    });
  });
});
