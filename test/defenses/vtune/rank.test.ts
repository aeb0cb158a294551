import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { vtune } from '../../../defenses/vtune/index.js';
import { createTestMemorizerProvider, type MemorizerProvider } from '../../../src/providers/test-memorizer.js';
import type { ContinuationScore, Model } from '../../../src/types.js';
import { sampleRows, userCtx } from '../fixtures.js';

const HYPER = { epochs: 1, learningRate: 1e-3, batchSize: 4 };
let provider: MemorizerProvider;
let base: Model;
beforeAll(async () => {
  provider = await createTestMemorizerProvider();
  base = await provider.model('base');
});

/**
 * The test double that scores: a deterministic function of (salt, prompt, continuation) only — a SHA-256 of them
 * mapped to [−100, 0) — so it is independent of the secret (H0). Identical continuations get identical scores
 * (ties), the hard case for the rank p-value. It never generates a signature.
 */
function hashScorer(salt: string): Model {
  const s = (prompt: string, continuation: string) => -createHash('sha256').update(`${salt}\u0000${prompt}\u0000${continuation}`).digest().readUInt32BE(0) / 2 ** 32 * 100;
  return {
    id: `hash-scorer-${salt}`,
    capabilities: new Set(['generate', 'logprobs']),
    generate: async (prompts) => prompts.map(() => 'nothing'),
    score: async (items): Promise<ContinuationScore[]> => items.map((i) => ({ tokenLogprobs: [s(i.prompt, i.continuation)], logprob: s(i.prompt, i.continuation) })),
  };
}

describe("vtune nullMode 'rank'", () => {
  it('end to end on the memorizer engine: the fine-tune ranks every signature first (p at the floor); the base model does not', async () => {
    const d = vtune({ count: 5, seed: 'rank-e2e', nullMode: 'rank', empiricalM: 99 });
    const planted = await d.plant(sampleRows(20), userCtx('u'));
    const ft = (await provider.train(base, { rows: planted.rows, hyper: HYPER, seed: 1 })).model;
    const v = await d.verify(ft, planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(v.nullMode).toBe('rank');
    expect(v.k).toBe(5); // hits are still counted
    expect(v.log10p).toBeCloseTo(-10, 6); // (1/100)^5: every planted signature strictly first of 100
    expect(v.log10pByNullMode.rank).toBe(v.log10p);
    expect(v.log10pByNullMode.empirical).toBeDefined(); // the other modes are reported as before
    for (const r of v.perBackdoor) expect(r.log10q).toBeCloseTo(-2, 12);
    expect(v.verified).toBe(true);
    const b = await d.verify(base, planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(b.k).toBe(0);
    expect(b.log10p).toBeGreaterThan(-3);
    expect(b.verified).toBe(false);
  });

  it('rankM scores only the first rankM counterfactuals (floor (rankM + 1)^−n), and refuses more than the secret holds', async () => {
    const planted = await vtune({ count: 3, seed: 'rank-m', empiricalM: 49 }).plant(sampleRows(20), userCtx('u'));
    const ft = (await provider.train(base, { rows: planted.rows, hyper: HYPER, seed: 1 })).model;
    const v = await vtune({ count: 3, nullMode: 'rank', empiricalM: 49, rankM: 9 }).verify(ft, planted.secret, { alpha: 0.01, ctx: userCtx('v') });
    expect(v.log10p).toBeCloseTo(-3, 6);
    await expect(vtune({ count: 3, nullMode: 'rank', empiricalM: 99, rankM: 60 }).verify(ft, planted.secret, { alpha: 0.01, ctx: userCtx('v') })).rejects.toThrow(/rankM must be an integer from 1 to the secret's 49 counterfactuals, got 60/);
    expect(() => vtune({ nullMode: 'rank', empiricalM: 9, rankM: 10 })).toThrow(/rankM/);
  });

  it('counts ties against the user: a model scoring every continuation alike gets p = 1', async () => {
    const d = vtune({ count: 4, seed: 'rank-ties', nullMode: 'rank', empiricalM: 19 });
    const planted = await d.plant(sampleRows(20), userCtx('u'));
    const flat: Model = { ...hashScorer('flat'), score: async (items) => items.map(() => ({ tokenLogprobs: [-1], logprob: -1 })) };
    const v = await d.verify(flat, planted.secret, { alpha: 0.05, ctx: userCtx('v') });
    expect(v.log10p).toBe(0);
  });

  it('refuses a model without log-probs before any query, naming the option and the model', async () => {
    const d = vtune({ count: 3, seed: 'rank-noscore', nullMode: 'rank', empiricalM: 19 });
    const planted = await d.plant(sampleRows(10), userCtx('u'));
    let queries = 0;
    const api: Model = { id: 'api:chat-only', capabilities: new Set(['generate']), unavailable: { logprobs: 'the chat API returns no scores' }, generate: async (p) => { queries++; return p.map(() => ''); } };
    await expect(d.verify(api, planted.secret, { alpha: 1e-3, ctx: userCtx('v') })).rejects.toThrow(/nullMode 'rank'.*model 'api:chat-only' gives no log-probs: the chat API returns no scores/);
    expect(queries).toBe(0);
    // The other modes never score the verified model: the same model verifies under 'empirical'.
    const e = await vtune({ count: 3, nullMode: 'empirical', empiricalM: 19 }).verify(api, planted.secret, { alpha: 0.05, ctx: userCtx('v') });
    expect(e.log10pByNullMode.rank).toBeUndefined();
  });

  it('refuses it with empiricalM = 0 (no counterfactuals to rank among)', () => {
    expect(() => vtune({ nullMode: 'rank', empiricalM: 0 })).toThrow(/empiricalM/);
  });

  it('is valid over 1,000 fresh secrets against the hash scorer: P(p ≤ α) ≤ α + 3σ, with and without ties', async () => {
    const rows = sampleRows(20);
    for (const [name, generator] of [
      ['wordlist (distinct signatures)', { generator: 'wordlist' }],
      ['3-token vocabulary (ties with the counterfactuals)', { generator: 'random-tokens', generatorOptions: { vocabulary: ['ka', 'lo', 'mi'], signatureLength: 1, triggerLength: 1 } }],
    ] as const) {
      const ps: number[] = [];
      for (let t = 0; t < 1000; t++) {
        const d = vtune({ ...generator, count: 4, empiricalM: 19, nullMode: 'rank', seed: `rank-null-${t}` });
        const planted = await d.plant(rows, userCtx('u'));
        ps.push(10 ** (await d.verify(hashScorer(`h${t}`), planted.secret, { alpha: 0.05, ctx: userCtx('v') })).log10p);
      }
      for (const alpha of [0.01, 0.05, 0.2]) {
        const rate = ps.filter((p) => p <= alpha + 1e-12).length / ps.length;
        expect(rate, `${name}, α=${alpha}`).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / ps.length));
        if (name.startsWith('wordlist')) expect(rate, `${name}, α=${alpha}: not vacuous`).toBeGreaterThan(alpha / 3);
      }
    }
  });
});
