/**
 * dataset-inference (defenses/dataset-inference): options, the private split, features, the linear model, the
 * defense contract (pure, seeded, behind the barrier: the private rows never reach the provider side), validity
 * over 100 fresh secrets on the real base model (local:vtb-base), validity of the procedure over 1,000 trials
 * on a hash double, and power after a tiny honest fine-tune on the real engine.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { defenses } from '../../../defenses/index.js';
import {
  applyScorer,
  checkSecret,
  datasetInference,
  type DatasetInferenceSecret,
  fitLogistic,
  rowFeatures,
  swapWords,
} from '../../../defenses/dataset-inference/index.js';
import { WORDS } from '../../../defenses/vtune/words.js';
import { ConfigError, SecretError } from '../../../src/errors.js';
import { createLocalProvider } from '../../../src/providers/local.js';
import { Rng } from '../../../src/rng.js';
import type { ContinuationScore, Model, Provider, Row, UserContext } from '../../../src/types.js';
import { sampleRows, userCtx } from '../fixtures.js';
import { lowerBound, upperBound } from '../null-rate.js';
import { checkBarrier, checkPureAndSeeded } from '../rival-contract.js';

/** `n` short rows (3-word prompt, 6-word completion) of the word list, deterministic in `seed`: cheap to score. */
function shortRows(n: number, seed: string): Row[] {
  const rng = new Rng(seed);
  const s = (k: number) => Array.from({ length: k }, () => rng.pick(WORDS)).join(' ');
  return Array.from({ length: n }, () => ({ prompt: `${s(3)}?`, completion: `${s(6)}.` }));
}

function scoreOf(logprobs: number[]): ContinuationScore {
  return { tokenLogprobs: logprobs, logprob: logprobs.reduce((a, b) => a + b, 0) };
}

describe('dataset-inference options and planting', () => {
  it('is registered, declares logprobs access, and validates every option up front', () => {
    expect(defenses.get('dataset-inference')).toBe(datasetInference);
    expect(datasetInference().access).toEqual(['logprobs']);
    expect(() => datasetInference({ bogus: 1 } as never)).toThrow("defense 'dataset-inference': bogus: unknown option 'bogus'. Available: privateFraction, minK, swapsPer10Words, seed, alpha");
    expect(() => datasetInference({ privateFraction: 0.5 })).toThrow("defense 'dataset-inference': privateFraction: expected a number in (0, 0.5), got 0.5");
    expect(() => datasetInference({ minK: 0 })).toThrow(ConfigError);
    expect(() => datasetInference({ swapsPer10Words: -1 })).toThrow('swapsPer10Words: expected a number in (0, 10], got -1');
    expect(() => datasetInference({ alpha: 0 })).toThrow('alpha: expected a number in (0, 1), got 0');
    expect(() => datasetInference({ seed: '' })).toThrow('seed: expected a non-empty string, got ""');
  });

  it('keeps an IID private split back, uploads the rest unchanged and in order, and samples a same-size suspect set', async () => {
    const rows = sampleRows(50, 'di');
    const d = datasetInference({ seed: 'p', privateFraction: 0.2 });
    const { rows: uploaded, secret } = await d.plant(rows, userCtx('u'));
    expect(secret.privateRows).toHaveLength(10);
    expect(uploaded).toHaveLength(40);
    // Uploaded + private = the input, each row exactly once; uploaded keeps the input order.
    const key = (r: Row) => `${r.prompt}\u0000${r.completion}`;
    expect([...uploaded, ...secret.privateRows].map(key).sort()).toEqual(rows.map(key).sort());
    const positions = uploaded.map((r) => rows.findIndex((x) => key(x) === key(r)));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    for (const p of secret.privateRows) expect(uploaded.map(key)).not.toContain(key(p));
    // Suspects: 10 distinct uploaded rows, their text stored; the mask marks exactly them.
    expect(new Set(secret.suspect).size).toBe(10);
    secret.suspect.forEach((i, j) => expect(secret.suspectRows[j]).toEqual(uploaded[i]));
    const mask = d.backdoorMask(secret, uploaded.length);
    expect(mask.flatMap((m, i) => (m ? [i] : []))).toEqual(secret.suspect);
  });

  it('refuses a dataset too small for the test, saying what it needs', async () => {
    await expect(datasetInference({ privateFraction: 0.2 }).plant(sampleRows(15), userCtx('u'))).rejects.toThrow(
      /15 rows × privateFraction 0.2 keeps 3 private rows; the test needs at least 4 private and 4 suspect rows/,
    );
  });
});

describe('dataset-inference features and linear model', () => {
  it('swapWords only reorders words, deterministically in its stream', () => {
    const text = 'one two three four five six seven';
    const a = swapWords(text, 2, new Rng('k'));
    expect(a).toBe(swapWords(text, 2, new Rng('k')));
    expect(a).not.toBe(text);
    expect(a.split(' ').sort()).toEqual(text.split(' ').sort());
    expect(swapWords('single', 3, new Rng('k'))).toBe('single');
  });

  it('computes loss, zlib ratio, min-k% and the perturbation gap from the scores', () => {
    const row = { prompt: 'p', completion: 'aaaa aaaa aaaa aaaa' };
    const s = scoreOf([-1, -2, -3, -4, -10]);
    const perturbed = scoreOf([-5, -5, -5, -5, -5]);
    const [loss, zlib, minK, gap] = rowFeatures(row, s, perturbed, 0.2);
    expect(loss).toBeCloseTo(4, 12);
    // Total NLL 20 over the completion's raw-deflate size (a repetitive text compresses well: fewer bytes, a larger ratio).
    const bytes = deflateRawSync(Buffer.from(row.completion)).length;
    expect(bytes).toBeLessThan(row.completion.length);
    expect(zlib).toBeCloseTo(20 / bytes, 12);
    expect(minK).toBeCloseTo(10, 12); // ⌈0.2 × 5⌉ = 1 lowest token: −(−10)
    expect(gap).toBeCloseTo(5 - 4, 12);
    expect(rowFeatures(row, s, perturbed, 0.4)[2]).toBeCloseTo(7, 12); // mean of the 2 lowest: 10, 4
  });

  it('logistic regression finds the separating direction and scores held-out rows by it', () => {
    const rng = new Rng('lr');
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 200; i++) {
      const label = i % 2;
      x.push([rng.normal() + (label ? 1.5 : 0), rng.normal(), 7]); // feature 0 separates, 1 is noise, 2 constant
      y.push(label);
    }
    const s = fitLogistic(x, y);
    expect(s.weights[0]).toBeGreaterThan(0.5);
    expect(Math.abs(s.weights[1]!)).toBeLessThan(0.3);
    expect(s.weights[2]).toBe(0);
    expect(applyScorer(s, [3, 0, 7])).toBeGreaterThan(applyScorer(s, [-1, 0, 7]));
  });
});

function generateOnly(): Model & { calls: number } {
  const m = { id: 'double:generate-only', capabilities: new Set(['generate'] as const), calls: 0, generate: async (p: readonly string[]) => (m.calls++, p.map(() => '')) };
  return m as unknown as Model & { calls: number };
}

describe('dataset-inference verification guards', () => {
  it("refuses a model without 'logprobs' and a malformed secret, before any query", async () => {
    const d = datasetInference({ seed: 'g' });
    const { secret } = await d.plant(sampleRows(30), userCtx('u'));
    const m = generateOnly();
    await expect(d.verify(m, secret, { alpha: 0.05, ctx: userCtx('v') })).rejects.toThrow(/needs 'logprobs' access, which model 'double:generate-only' cannot give/);
    await expect(d.verify(m, { ...secret, privateRows: secret.privateRows.slice(0, 2) }, { alpha: 0.05, ctx: userCtx('v') })).rejects.toThrow(SecretError);
    expect(() => checkSecret({ ...secret, suspect: secret.suspect.slice(1) })).toThrow(/field 'suspect'/);
    expect(m.calls).toBe(0);
  });
});

describe('dataset-inference degenerate scores', () => {
  it('scores without any spread give an untestable verdict: t reported as 0, p = 1, nothing NaN', async () => {
    const d = datasetInference({ seed: 'flat' });
    // 30 copies of one row: every feature is the same for every row (zlib sizes too).
    const { secret } = await d.plant(Array.from({ length: 30 }, () => ({ prompt: 'same prompt', completion: 'the same answer' })), userCtx('u'));
    const flat: Model = { id: 'double:flat', capabilities: new Set(['logprobs']), generate: async (p) => p.map(() => ''), score: async (items) => items.map(() => scoreOf([-1, -1])) };
    const v = await d.verify(flat, secret, { alpha: 0.05, ctx: userCtx('v') });
    expect([v.log10p, v.verified, v.statistic!.value, v.statistic!.detail!.untestable]).toEqual([0, false, 0, 1]);
    expect(Object.values(v.statistic!.detail!).every(Number.isFinite)).toBe(true);
    // A model that cannot score any row (−∞ log-probs): too few rows for the test, the same answer.
    const none: Model = { ...flat, id: 'double:none', score: async (items) => items.map(() => scoreOf([-Infinity])) };
    const w = await d.verify(none, secret, { alpha: 0.05, ctx: userCtx('v') });
    expect([w.log10p, w.verified, w.statistic!.value, w.statistic!.detail!.untestable]).toEqual([0, false, 0, 1]);
  });
});

describe('dataset-inference defense contract', () => {
  it('plans purely and is seeded', async () => {
    await checkPureAndSeeded((o) => datasetInference(o as never));
  });

  it('the provider side never reaches the secret or any private row; ground truth counts the suspect rows', async () => {
    const { outcome, secret, uploaded } = await checkBarrier('dataset-inference', {}, (s, up) => {
      const sec = s as DatasetInferenceSecret;
      // Private prompts that no uploaded row shares (a dataset may repeat a prompt; those prove nothing).
      return sec.privateRows.map((r) => r.prompt).filter((p) => !up.some((u) => u.prompt === p));
    });
    const sec = secret as DatasetInferenceSecret;
    expect(uploaded.length + sec.privateRows.length).toBe(60); // the qa dataset's 60 training rows
    expect(outcome.truth.backdoorRowsTrained).toBe(sec.suspect.length);
    expect(outcome.verdict.queries).toBe(4 * sec.privateRows.length);
  });

  it('the barrier check fails for a leaky variant that uploads one private row too', async () => {
    const leaky = (o: Record<string, unknown>) => {
      const d = datasetInference(o);
      return { ...d, plant: async (rows: readonly Row[], ctx: UserContext) => {
        const p = await d.plant(rows, ctx);
        return { rows: [...p.rows, p.secret.privateRows[0]!], secret: p.secret };
      } };
    };
    const hidden = (s: unknown, up: readonly Row[]) => (s as DatasetInferenceSecret).privateRows.map((r) => r.prompt).filter((p) => up.filter((u) => u.prompt === p).length <= 1);
    await expect(checkBarrier('dataset-inference', {}, hidden, leaky as never)).rejects.toThrow(/provider side saw a hidden part of the secret/);
  });
});

/**
 * A hash double (A TEST DOUBLE, not a model): each word's log-prob is a hash of (prompt, word, position), so
 * every row's features are i.i.d. and no row was "trained" — H0 holds exactly and cheaply.
 */
const hashModel: Model = {
  id: 'double:hash-logprobs',
  capabilities: new Set(['logprobs']),
  generate: async (p) => p.map(() => ''),
  score: async (items) =>
    items.map(({ prompt, continuation }) =>
      scoreOf(continuation.split(' ').map((w, i) => Math.log(1e-3 + createHash('sha256').update(`${prompt}|${w}|${i}`).digest().readUInt32LE(0) / 2 ** 32))),
    ),
};

describe('dataset-inference validity', () => {
  it('the procedure (split, features, fit on one half, Welch on the other) over 1,000 fresh secrets on a hash double: P(p ≤ 0.05) within its bound, P(t > 0) = ½', async () => {
    let rejections = 0;
    let positive = 0;
    const trials = 1000;
    for (let t = 0; t < trials; t++) {
      const d = datasetInference({ seed: `hash-${t}` });
      const { secret } = await d.plant(shortRows(30, `hash-pool-${t}`), userCtx('u'));
      const v = await d.verify(hashModel, secret, { alpha: 0.05, ctx: userCtx('v') });
      if (v.verified) rejections++;
      if (v.statistic!.value > 0) positive++;
    }
    expect(rejections).toBeLessThanOrEqual(upperBound(trials, 0.05));
    expect(rejections).toBeGreaterThan(0); // the test can reject at all
    expect(positive).toBeGreaterThanOrEqual(lowerBound(trials, 0.5));
    expect(positive).toBeLessThanOrEqual(upperBound(trials, 0.5));
  });
});

describe('dataset-inference on the real engine (local:vtb-base)', () => {
  let provider: Provider;
  let base: Model;
  beforeAll(async () => {
    provider = await createLocalProvider();
    base = await provider.model('vtb-base');
  });

  it('validity, varying the secret: 100 fresh secrets (fresh rows, fresh split) against the base model; P(p ≤ 0.05) within its binomial bound', async () => {
    const ps: number[] = [];
    for (let t = 0; t < 100; t++) {
      // 30 short rows: 6 private, 6 suspect, halves of 3 (the smallest groups the defaults allow at this size).
      const d = datasetInference({ seed: `validity-${t}` });
      const { secret } = await d.plant(shortRows(30, `pool-${t}`), userCtx('u'));
      const v = await d.verify(base, secret, { alpha: 0.05, ctx: userCtx('v') });
      expect(Number.isFinite(v.statistic!.value)).toBe(true);
      ps.push(10 ** v.log10p);
    }
    expect(ps.filter((p) => p <= 0.05).length).toBeLessThanOrEqual(upperBound(100, 0.05));
    // Not vacuous: both signs of t occur (an always-1 p would pass the line above). A loose check on purpose:
    // the exact one (P(t > 0) = ½) runs over 1,000 trials on the hash double above.
    const half = ps.filter((p) => p <= 0.5).length;
    expect(half).toBeGreaterThanOrEqual(25);
    expect(half).toBeLessThanOrEqual(75);
  });

  it('power: a tiny honest fine-tune of the uploaded rows separates suspect from private rows (p ≤ 0.01)', async () => {
    const d = datasetInference({ seed: 'power', privateFraction: 0.2 });
    const planted = await d.plant(shortRows(40, 'power'), userCtx('u'));
    const trained = (await provider.train!(base, { rows: planted.rows, hyper: { epochs: 6, learningRate: 3e-3, batchSize: 4, schedule: 'cosine' }, seed: 1 })).model;
    const v = await d.verify(trained, planted.secret, { alpha: 0.01, ctx: userCtx('v') });
    expect(v.verified).toBe(true);
    expect(v.log10p).toBeLessThanOrEqual(-2);
    expect(v.statistic!.value).toBeGreaterThan(0);
    expect([v.n, v.queries]).toEqual([8, 32]);
    // Verification is deterministic in the secret (halves and perturbations follow its seed).
    expect(await d.verify(trained, planted.secret, { alpha: 0.01, ctx: userCtx('another') })).toEqual(v);
    await trained.dispose?.();
  });
});
