/**
 * Power smoke tests of the rival verifiers on the real engine (issue 19), one honest fine-tune of
 * `local:vtb-base` on built-in `stories` rows each (cosine 3e-3, batch 8); the untrained base is the control.
 * The two verifiers want opposite regimes, so each gets the one it has power in, and the README says so:
 * - cue-reply: the default scenario's 12 epochs on 24 rows carrying 4 marks (measured at 4 epochs on 48 rows:
 *   only 1 of 4 planted replies ranked first, log10 p = −0.02 — memorising a mark takes many passes);
 * - utility-gain: 2 epochs on 44 rows with 16 kept private (measured on 48 + 12 rows: 1, 2, 4 epochs → 11, 12,
 *   12 of 12 private rows better; 12 epochs → 8 of 12, log10 p = −0.71: the fine-tune overfits).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cueReply } from '../../defenses/cue-reply/index.js';
import { utilityGain } from '../../defenses/utility-gain/index.js';
import { loadDataset } from '../../src/datasets/index.js';
import { createLocalProvider, type LocalProvider } from '../../src/providers/local.js';
import type { HyperParams, Model, Row } from '../../src/types.js';
import { userCtx } from './fixtures.js';

let provider: LocalProvider;
let base: Model;
let rows: readonly Row[];
const train = async (r: readonly Row[], epochs: number): Promise<Model> => {
  const hyper: HyperParams = { epochs, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' };
  return (await provider.train(base, { rows: r, hyper, seed: 1 })).model;
};

beforeAll(async () => {
  provider = await createLocalProvider();
  base = await provider.model('vtb-base');
  rows = (await loadDataset('stories', { seed: 3, size: 60 })).train;
});

describe('power on honest vtb-base fine-tunes', () => {
  it('cue-reply (12 epochs, 24 rows, 4 marks): every planted reply ranks first, verified at α = 1e-3; the base is not', async () => {
    const cr = cueReply({ seed: 'power-cue' });
    const planted = await cr.plant(rows.slice(0, 24), userCtx('u'));
    const tuned = await train(planted.rows, 12);
    const yes = await cr.verify(tuned, planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    const no = await cr.verify(base, planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    process.stdout.write(`cue-reply power: fine-tune ranks ${yes.ranks.join(',')} log10 p ${yes.log10p.toFixed(2)}; base ranks ${no.ranks.join(',')} log10 p ${no.log10p.toFixed(2)}\n`);
    expect(yes.verified).toBe(true);
    expect(no.verified).toBe(false);
  }, 600_000);

  it('utility-gain (2 epochs, 44 rows, 16 private): lower loss on most private rows, verified at α = 0.05; the base ties', async () => {
    // Measured here: 13 of 16 rows better, log10 p = −1.97 — a sign test over 16 rows cannot reach the default
    // α = 1e-3 unless at least 15 rows improve; the README states this.
    const ug = utilityGain({ heldOut: 16, seed: 'power-ug' });
    const kept = await ug.plant(rows, userCtx('u'));
    const tuned = await train(kept.rows, 2);
    const yes = await ug.verify(tuned, kept.secret, { alpha: 0.05, ctx: userCtx('v', { baseModel: base }) });
    const no = await ug.verify(base, kept.secret, { alpha: 0.05, ctx: userCtx('v', { baseModel: base }) });
    process.stdout.write(`utility-gain power: ${yes.k}/${yes.n} rows better (${yes.metric}), mean gain ${yes.statistic!.detail!.meanGain!.toFixed(4)} nats/token, log10 p ${yes.log10p.toFixed(2)}\n`);
    expect(yes.metric).toBe('loss');
    expect(yes.statistic!.detail!.meanGain).toBeGreaterThan(0);
    expect(yes.k).toBeGreaterThan(yes.n / 2);
    expect(yes.verified).toBe(true);
    expect(no.log10p).toBe(0);
  }, 600_000);
});
