/**
 * utility-gain (defenses/utility-gain): the private split (pure, seeded, never uploaded), the paired sign test
 * against exact binomial tails, verification with scoring doubles, validity with simulated null models over
 * fresh secrets, access per metric, and the real engine (local:vtb-base as both models: every row a tie).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defenses } from '../../../defenses/index.js';
import { signTestLog10P, utilityGain, wordF1 } from '../../../defenses/utility-gain/index.js';
import { batchingModel } from '../../../src/calibrate/batching-model.js';
import { loadDataset } from '../../../src/datasets/index.js';
import { ConfigError } from '../../../src/errors.js';
import { createLocalProvider } from '../../../src/providers/local.js';
import { Rng } from '../../../src/rng.js';
import type { Model, Row } from '../../../src/types.js';
import { frozen, sampleRows, userCtx } from '../fixtures.js';

/**
 * A TEST DOUBLE that scores every row with a per-row loss (nats/token) chosen by `lossOf`, over 5 tokens,
 * and answers generations with `answer`. Not a model of any engine.
 */
function scoringDouble(id: string, lossOf: (row: { prompt: string; continuation: string }) => number, answer: (prompt: string) => string = () => ''): Model {
  return {
    id,
    capabilities: new Set(['generate', 'logprobs']),
    generate: async (prompts) => prompts.map(answer),
    score: async (items) => items.map((it) => { const l = lossOf(it); return { tokenLogprobs: Array(5).fill(-l), logprob: -5 * l }; }),
  };
}

describe('utility-gain statistics', () => {
  it('the sign test is the exact one-sided binomial tail over non-tied rows', () => {
    expect(signTestLog10P([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]).log10p).toBeCloseTo(Math.log10(2 ** -10), 12);
    const r = signTestLog10P([0.5, -0.1, 0, 0, 0.2, 0.3]); // 3 of 4 non-tied positive: P(X ≥ 3) = 5/16
    expect(r).toMatchObject({ positive: 3, nonTied: 4 });
    expect(10 ** r.log10p).toBeCloseTo(5 / 16, 12);
    expect(signTestLog10P([0, 0, 1e-7, -4e-8]).log10p).toBe(0); // float noise of the engine is a tie
  });
  it('word F1 is bag-of-words F1 in [0, 1]', () => {
    expect(wordF1('the cat sat', 'the cat sat')).toBe(1);
    expect(wordF1('the dog', 'the cat')).toBeCloseTo(0.5, 12);
    expect(wordF1('', 'x')).toBe(0);
  });
});

describe('utility-gain plant', () => {
  it('keeps a seeded private split out of the upload; the input is untouched and the rest keeps its order', async () => {
    const rows = frozen(sampleRows(40));
    const d = utilityGain({ seed: 'p' });
    const { rows: up, secret } = await d.plant(rows, userCtx('u'));
    expect(secret.heldOut).toHaveLength(8);
    expect(up).toHaveLength(32);
    expect(up).toEqual(rows.filter((_, i) => !secret.heldOutIndices.includes(i)));
    for (const h of secret.heldOut) expect(up).not.toContainEqual(h);
    expect(d.backdoorMask(secret, up.length)).toEqual(Array(32).fill(true));
    expect((await utilityGain({ seed: 'p' }).plant(rows, userCtx('other'))).secret).toEqual(secret);
    expect((await utilityGain({ seed: 'q' }).plant(rows, userCtx('u'))).secret.heldOutIndices).not.toEqual(secret.heldOutIndices);
    expect((await utilityGain().plant(rows, userCtx('a'))).secret.seed).not.toBe((await utilityGain().plant(rows, userCtx('b'))).secret.seed);
  });

  it('validates options and declares the access its metric needs', async () => {
    expect(() => utilityGain({ fraction: 1 })).toThrow(/fraction/);
    expect(() => utilityGain({ fraction: 0.1, heldOut: 3 })).toThrow(/not both/);
    expect(() => utilityGain({ metric: 'bleu' as never })).toThrow(/metric/);
    expect(() => utilityGain({ nope: 1 } as never)).toThrow(/unknown option 'nope'/);
    expect(utilityGain({ metric: 'loss' }).access).toEqual(['logprobs']);
    expect(utilityGain({ metric: 'generation' }).access).toEqual(['generate']);
    expect(utilityGain().access).toEqual(['generate']);
    expect((defenses.get('utility-gain') as typeof utilityGain)({}).id).toBe('utility-gain');
    await expect(utilityGain({ heldOut: 10 }).plant(sampleRows(10), userCtx('u'))).rejects.toThrow(/leaves nothing to upload/);
  });
});

describe('utility-gain verify', () => {
  it('verifies a model better on every held-out row (p = 2^-n), not the base itself (all ties, p = 1), and needs the base model', async () => {
    const d = utilityGain({ heldOut: 12, seed: 'v' });
    const { secret } = await d.plant(sampleRows(40), userCtx('u'));
    const base = scoringDouble('base', () => 2);
    const better = scoringDouble('ft', () => 1.5);
    const yes = await d.verify(better, secret, { alpha: 1e-3, ctx: userCtx('v', { baseModel: base }) });
    expect(yes).toMatchObject({ verified: true, k: 12, n: 12, metric: 'loss', statistic: { name: 'sign-test', value: 12 } });
    expect(yes.log10p).toBeCloseTo(-12 * Math.log10(2), 12);
    const same = await d.verify(base, secret, { alpha: 1e-3, ctx: userCtx('v', { baseModel: base }) });
    expect(same).toMatchObject({ verified: false, log10p: 0, k: 0 });
    await expect(d.verify(better, secret, { alpha: 1e-3, ctx: userCtx('v') })).rejects.toThrow(/needs the base model/);
  });

  it('falls back to a generation metric when a model cannot score, and refuses metric loss then', async () => {
    const d = utilityGain({ heldOut: 6, seed: 'g' });
    const { secret } = await d.plant(sampleRows(20), userCtx('u'));
    const byPrompt = new Map(secret.heldOut.map((r) => [r.prompt, r.completion]));
    const knows: Model = { id: 'ft', capabilities: new Set(['generate']), generate: async (ps) => ps.map((p) => byPrompt.get(p) ?? '') };
    const blank: Model = { id: 'base', capabilities: new Set(['generate']), generate: async (ps) => ps.map(() => 'zzz') };
    const v = await d.verify(knows, secret, { alpha: 0.05, ctx: userCtx('v', { baseModel: blank }) });
    expect(v).toMatchObject({ metric: 'generation', k: 6, verified: true });
    await expect(utilityGain({ heldOut: 6, seed: 'g', metric: 'loss' }).verify(knows, secret, { alpha: 0.05, ctx: userCtx('v', { baseModel: blank }) })).rejects.toThrow(ConfigError);
  });

  it('validity with simulated null models: 1,000 fresh secrets, P(p ≤ α) ≤ α + 3σ at α = 0.01 and 0.05', async () => {
    // Null: the returned model differs from the base by symmetric per-row noise (a third of the rows tied),
    // independent of which rows the user kept: each non-tied gain is positive with probability 1/2.
    const rows = sampleRows(60);
    const base = scoringDouble('base', () => 2);
    const ps: number[] = [];
    for (let t = 0; t < 1000; t++) {
      const d = utilityGain({ heldOut: 15, seed: `null-${t}` });
      const { secret } = await d.plant(rows, userCtx('u'));
      const rng = new Rng(`noise-${t}`);
      const noise = new Map(rows.map((r) => [r.prompt, rng.float() < 1 / 3 ? 0 : rng.normal()]));
      const model = scoringDouble(`null-${t}`, (it) => 2 + noise.get(it.prompt)!);
      ps.push(10 ** (await d.verify(model, secret, { alpha: 0.05, ctx: userCtx('v', { baseModel: base }) })).log10p);
    }
    for (const alpha of [0.01, 0.05]) {
      const rate = ps.filter((p) => p <= alpha + 1e-12).length / ps.length;
      expect(rate, `α=${alpha}`).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / ps.length));
    }
  });
});

describe('utility-gain against local:vtb-base', () => {
  let base: Model;
  let rows: readonly Row[];
  beforeAll(async () => {
    base = batchingModel(await (await createLocalProvider()).model('vtb-base'));
    rows = (await loadDataset('stories', { seed: 2, size: 60 })).train;
  });

  it('100 fresh secrets (2 private rows each) with the base model returned: the engine scores both alike, every row ties, p = 1 (loss and generation)', async () => {
    for (const metric of ['loss', 'generation'] as const) {
      const verdicts = await Promise.all(
        Array.from({ length: 100 }, async (_, t) => {
          const d = utilityGain({ heldOut: 2, seed: `vtb-${metric}-${t}`, metric, maxTokens: 6 });
          const { secret } = await d.plant(rows, userCtx('u'));
          return d.verify(base, secret, { alpha: 0.05, ctx: userCtx('v', { baseModel: base }) });
        }),
      );
      expect(verdicts.every((v) => v.log10p === 0 && !v.verified && v.metric === metric), metric).toBe(true);
    }
  });
});
