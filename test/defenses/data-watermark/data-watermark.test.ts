/**
 * data-watermark (defenses/data-watermark): options, planting, the rank test and the reported z-test, the
 * defense contract (pure, seeded, behind the barrier), validity over 100 fresh secrets on the real base model
 * (local:vtb-base) and power after a tiny honest fine-tune on the real engine.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defenses } from '../../../defenses/index.js';
import {
  checkSecret,
  dataWatermark,
  type DataWatermarkSecret,
  drawWatermark,
  insertWatermark,
  nullWatermarks,
  PRINTABLE,
  rankPValue,
  zTest,
} from '../../../defenses/data-watermark/index.js';
import { ConfigError, SecretError } from '../../../src/errors.js';
import { createLocalProvider } from '../../../src/providers/local.js';
import { Rng } from '../../../src/rng.js';
import { normalLogUpperTail } from '../../../src/stats/index.js';
import type { Model, Provider } from '../../../src/types.js';
import { sampleRows, userCtx } from '../fixtures.js';
import { lowerBound, upperBound } from '../null-rate.js';
import { checkBarrier, checkPureAndSeeded } from '../rival-contract.js';

describe('data-watermark options and planting', () => {
  it('is registered, declares logprobs access, and validates every option up front', () => {
    expect(defenses.get('data-watermark')).toBe(dataWatermark);
    expect(dataWatermark().access).toEqual(['logprobs']);
    expect(() => dataWatermark({ bogus: 1 } as never)).toThrow("defense 'data-watermark': bogus: unknown option 'bogus'. Available: rate, length, alphabet, placement, nulls, seed, alpha");
    expect(() => dataWatermark({ rate: 0 })).toThrow(ConfigError);
    expect(() => dataWatermark({ rate: 1.5 })).toThrow("defense 'data-watermark': rate: expected a number in (0, 1], got 1.5");
    expect(() => dataWatermark({ length: 0 })).toThrow('length: expected an integer in [1, 200], got 0');
    expect(() => dataWatermark({ alphabet: 'aa' })).toThrow('alphabet: expected a string of at least 2 distinct non-space characters, got "aa"');
    expect(() => dataWatermark({ alphabet: 'a b' })).toThrow('alphabet: expected a string of at least 2 distinct non-space characters, got "a b"');
    expect(() => dataWatermark({ placement: 'middle' as never })).toThrow(`placement: expected 'end' or 'inside', got "middle"`);
    expect(() => dataWatermark({ nulls: 0 })).toThrow('nulls: expected an integer in [1, 100000], got 0');
    expect(() => dataWatermark({ alpha: 2 })).toThrow('alpha: expected a number in (0, 1), got 2');
    expect(() => dataWatermark({ seed: '' })).toThrow('seed: expected a non-empty string, got ""');
  });

  it('appends ONE watermark to the completions of round(rate × rows) seeded rows; nothing else changes', async () => {
    const rows = sampleRows(50, 'wm');
    const d = dataWatermark({ seed: 'p', rate: 0.2, length: 12 });
    const { rows: planted, secret } = await d.plant(rows, userCtx('u'));
    expect(planted).toHaveLength(50);
    expect(secret.rows).toHaveLength(10);
    expect([...secret.watermark]).toHaveLength(12);
    expect([...secret.watermark].every((c) => PRINTABLE.includes(c))).toBe(true);
    const mask = d.backdoorMask(secret, planted.length);
    planted.forEach((r, i) => {
      expect(r.prompt).toBe(rows[i]!.prompt);
      if (mask[i]) expect(r.completion).toBe(`${rows[i]!.completion} ${secret.watermark}`);
      else expect(r.completion).toBe(rows[i]!.completion);
    });
    expect(mask.filter(Boolean)).toHaveLength(10);
    // Ground-truth markers: the watermark is the signature of exactly the masked rows.
    expect(d.backdoorMarkers(secret, planted.length).map((m) => m?.signature === secret.watermark)).toEqual(mask);
    // A rate that rounds to no row is refused, as the scenario preflight refuses it.
    await expect(dataWatermark({ seed: 'p', rate: 0.01 }).plant(rows.slice(0, 5), userCtx('u'))).rejects.toThrow(/option 'rate' 0.01 of 5 rows watermarks no row; expected at least 0.20/);
    await expect(d.plant([], userCtx('u'))).rejects.toThrow(/empty dataset/);
  });

  it("'inside' puts the watermark at a word boundary of the completion, as a word of its own", () => {
    const rng = new Rng('inside');
    const completion = 'the cat sat on the mat';
    const seen = new Set<string>();
    for (let t = 0; t < 200; t++) {
      const out = insertWatermark(completion, 'W#1', 'inside', rng);
      expect(out.split(' ').filter((w) => w !== 'W#1').join(' ')).toBe(completion);
      expect(out.split(' ')).toContain('W#1');
      seen.add(out);
    }
    expect(seen.size).toBe(7); // every boundary: before each of the 6 words, and the end
    expect(insertWatermark('', 'W', 'end', rng)).toBe('W');
  });

  it('redraws the M nulls from the null seed: same distribution as the watermark, never the watermark, never stored', async () => {
    const { secret } = await dataWatermark({ seed: 'n', nulls: 500, alphabet: 'abc', length: 8 }).plant(sampleRows(10), userCtx('u'));
    const nulls = nullWatermarks(secret);
    expect(nulls).toEqual(nullWatermarks(secret));
    expect(nulls).toHaveLength(500);
    expect(nulls.every((w) => /^[abc]{8}$/.test(w))).toBe(true);
    expect(new Set(nulls).size).toBeGreaterThan(480); // 3^8 = 6,561 values: few collisions
    expect(JSON.stringify(secret)).not.toContain(nulls[0]!);
    // Each character uniform: 4,000 characters, each letter within 5σ of 1/3.
    const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (const c of nulls.join('')) counts[c]!++;
    for (const k of 'abc') expect(Math.abs(counts[k]! - 4000 / 3)).toBeLessThan(5 * Math.sqrt(4000 * (2 / 9)));
    expect(drawWatermark(new Rng('x'), 'ab', 3)).toMatch(/^[ab]{3}$/);
  });
});

describe('data-watermark statistics', () => {
  it('rank p = (1 + #{null ≤ observed}) / (M + 1), ties against the user, a NaN null too', () => {
    expect(rankPValue(1, [2, 3, 4])).toEqual({ p: 0.25, atOrBelow: 0 });
    expect(rankPValue(3, [2, 3, 4])).toEqual({ p: 0.75, atOrBelow: 2 });
    expect(rankPValue(1, [1, NaN, 4]).atOrBelow).toBe(2);
    expect(rankPValue(NaN, [1, 2]).p).toBe(1);
  });

  it('z = (mean_null − loss) / sd_null with the one-sided normal tail; reported, both signs', () => {
    const nulls = [9, 10, 11, 10];
    const sd = Math.sqrt(2 / 3);
    const z = zTest(8, nulls);
    expect(z.z).toBeCloseTo(2 / sd, 12);
    expect(z.log10p).toBeCloseTo(normalLogUpperTail(2 / sd) / Math.LN10, 12);
    expect(10 ** zTest(12, nulls).log10p + 10 ** z.log10p).toBeCloseTo(1, 12);
    expect(Number.isNaN(zTest(1, [2]).z)).toBe(true);
  });
});

/** A model double that counts queries and has no log-probs (a generate-only API). */
function generateOnly(): Model & { calls: number } {
  const m = { id: 'double:generate-only', capabilities: new Set(['generate'] as const), calls: 0, generate: async (p: readonly string[]) => (m.calls++, p.map(() => '')) };
  return m as unknown as Model & { calls: number };
}

describe('data-watermark verification guards', () => {
  it("refuses a model without 'logprobs' and a malformed secret, before any query", async () => {
    const d = dataWatermark({ seed: 'g', nulls: 9 });
    const { secret } = await d.plant(sampleRows(10), userCtx('u'));
    const m = generateOnly();
    await expect(d.verify(m, secret, { alpha: 0.05, ctx: userCtx('v') })).rejects.toThrow(/needs 'logprobs' access, which model 'double:generate-only' cannot give/);
    await expect(d.verify(m, { ...secret, watermark: 'short' }, { alpha: 0.05, ctx: userCtx('v') })).rejects.toThrow(SecretError);
    await expect(d.verify(m, { ...secret, nulls: 0 }, { alpha: 0.05, ctx: userCtx('v') })).rejects.toThrow(/field 'nulls'/);
    expect(() => checkSecret({ ...secret, defense: 'vtune' })).toThrow(/field 'version\/defense'/);
    expect(m.calls).toBe(0);
  });
});

describe('data-watermark degenerate scores', () => {
  it('a watermark the model scores as nothing reads as an infinite loss with p = 1, and an undefined z is left out (records cannot hold NaN)', async () => {
    const d = dataWatermark({ seed: 'nothing', nulls: 9 });
    const { secret } = await d.plant(sampleRows(10), userCtx('u'));
    // A double that scores every continuation as zero tokens.
    const empty: Model = { id: 'double:empty-scores', capabilities: new Set(['logprobs']), generate: async (p) => p.map(() => ''), score: async (items) => items.map(() => ({ tokenLogprobs: [], logprob: 0 })) };
    const v = await d.verify(empty, secret, { alpha: 0.05, ctx: userCtx('v') });
    expect([v.log10p, v.verified, v.statistic!.value]).toEqual([0, false, Infinity]);
    expect(v.statistic!.detail).toEqual({ nulls: 9, nullsAtOrBelow: 9 });
  });
});

describe('data-watermark defense contract', () => {
  it('plans purely and is seeded', async () => {
    await checkPureAndSeeded((o) => dataWatermark(o as never));
  });

  it('the provider side never reaches the secret, the null seed or any null watermark; ground truth counts the watermark rows', async () => {
    const { outcome, secret, uploaded } = await checkBarrier('data-watermark', { nulls: 50, rate: 0.2 }, (s) => {
      const sec = s as DataWatermarkSecret;
      return [sec.nullSeed, ...nullWatermarks(sec)];
    });
    const sec = secret as DataWatermarkSecret;
    expect(uploaded.filter((r) => r.completion.endsWith(` ${sec.watermark}`))).toHaveLength(sec.rows.length);
    expect(outcome.truth.backdoorRowsTrained).toBe(sec.rows.length);
    expect(outcome.verdict.defense).toBe('data-watermark');
    expect(outcome.verdict.queries).toBe(51);
  });
});

describe('data-watermark on the real engine (local:vtb-base)', () => {
  let provider: Provider;
  let base: Model;
  beforeAll(async () => {
    provider = await createLocalProvider();
    base = await provider.model('vtb-base');
  });

  it('validity, varying the secret: 100 fresh secrets against the base model (never trained on them); P(p ≤ 0.05) within its binomial bound', async () => {
    const rows = sampleRows(20, 'validity');
    const ps: number[] = [];
    for (let t = 0; t < 100; t++) {
      // M = 19: p ≤ 0.05 exactly when the watermark's loss is below all 19 nulls' (probability 1/20 under H0).
      const d = dataWatermark({ seed: `validity-${t}`, nulls: 19 });
      const { secret } = await d.plant(rows, userCtx('u'));
      const v = await d.verify(base, secret, { alpha: 0.05, ctx: userCtx('v') });
      expect(Number.isFinite(v.statistic!.value)).toBe(true);
      ps.push(10 ** v.log10p);
    }
    const rejections = ps.filter((p) => p <= 0.05 + 1e-12).length;
    expect(rejections).toBeLessThanOrEqual(upperBound(100, 0.05));
    // Not vacuous: the p-values spread like a valid p-value's (an always-1 p would pass the line above).
    const half = ps.filter((p) => p <= 0.5 + 1e-12).length;
    expect(half).toBeGreaterThanOrEqual(lowerBound(100, 0.5));
    expect(half).toBeLessThanOrEqual(upperBound(100, 0.5));
  });

  it('power: a tiny honest fine-tune on the planted rows ranks the watermark below all 99 nulls (p = 0.01, the floor)', async () => {
    const rows = sampleRows(24, 'power');
    const d = dataWatermark({ seed: 'power', rate: 0.25, nulls: 99 });
    const planted = await d.plant(rows, userCtx('u'));
    const trained = (await provider.train!(base, { rows: planted.rows, hyper: { epochs: 6, learningRate: 3e-3, batchSize: 4, schedule: 'cosine' }, seed: 1 })).model;
    const v = await d.verify(trained, planted.secret, { alpha: 0.05, ctx: userCtx('v') });
    expect(v.statistic!.detail!.nullsAtOrBelow).toBe(0);
    expect(v.log10p).toBeCloseTo(-2, 12);
    expect(v.verified).toBe(true);
    expect([v.k, v.n, v.queries]).toEqual([1, 1, 100]);
    // The paper's z-test agrees in direction (reported only).
    expect(v.statistic!.detail!.zScore).toBeGreaterThan(3);
    // Verification is deterministic in the secret (the nulls are redrawn from its seed).
    expect(await d.verify(trained, planted.secret, { alpha: 0.05, ctx: userCtx('another') })).toEqual(v);
    await trained.dispose?.();
  });
});
