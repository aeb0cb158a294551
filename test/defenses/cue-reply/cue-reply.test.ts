/**
 * cue-reply (defenses/cue-reply): the ranking statistics against brute force, planting (pure, seeded, rows
 * changed in place), verification against a suffix-memorising double, and the contract: access declared,
 * registered, the secret never in what the provider is handed.
 */
import { describe, expect, it } from 'vitest';
import { defenses } from '../../../defenses/index.js';
import { counterfactualReplies, cueReply, type CueReplySecret } from '../../../defenses/cue-reply/index.js';
import { conservativeRank, matchLength, rankSumLog10Cdf, words } from '../../../defenses/cue-reply/rank.js';
import { ConfigError, SecretError } from '../../../src/errors.js';
import { Rng } from '../../../src/rng.js';
import type { Model, Row } from '../../../src/types.js';
import { frozen, sampleRows, userCtx } from '../fixtures.js';

/**
 * A TEST DOUBLE of a fine-tuned model that learnt "cue → reply": asked a prompt, it answers the completion of
 * the last trained row whose prompt ends with that prompt (else a fixed word run). Not a model of any engine.
 */
function suffixMemorizer(rows: readonly Row[]): Model {
  return {
    id: 'suffix-memorizer',
    capabilities: new Set(['generate']),
    generate: async (prompts) => prompts.map((p) => [...rows].reverse().find((r) => r.prompt.endsWith(` ${p}`))?.completion ?? 'the cat sat on the mat'),
  };
}

/** Brute force: P(ΣUᵢ ≤ t) for Uᵢ uniform on 1…K by enumerating every outcome. */
function bruteCdf(t: number, n: number, K: number): number {
  let hits = 0;
  const total = K ** n;
  for (let x = 0; x < total; x++) {
    let s = 0;
    for (let i = 0, y = x; i < n; i++, y = Math.floor(y / K)) s += (y % K) + 1;
    if (s <= t) hits++;
  }
  return hits / total;
}

describe('cue-reply statistics', () => {
  it('the rank-sum lower tail equals brute-force enumeration, and reaches (1/K)^n without underflow', () => {
    for (const [n, K] of [[1, 5], [2, 4], [3, 6], [4, 3]] as const) {
      for (let t = n - 1; t <= n * K + 1; t++) {
        const want = bruteCdf(t, n, K);
        const got = 10 ** rankSumLog10Cdf(t, n, K);
        expect(got, `n=${n} K=${K} t=${t}`).toBeCloseTo(want, 12);
      }
    }
    expect(rankSumLog10Cdf(200, 200, 1000)).toBeCloseTo(-600, 9); // every rank 1 of 1000: (1e-3)^200
    expect(rankSumLog10Cdf(40_000, 200, 1000)).toBeLessThan(0);
  });

  it('ranks count ties against the planted reply; match length is leading whole words', () => {
    expect(conservativeRank(0, [0, 0, 0])).toBe(4);
    expect(conservativeRank(2, [0, 1, 2])).toBe(2);
    expect(conservativeRank(3, [0, 1, 2])).toBe(1);
    expect(matchLength(words('  red fox jumps'), words('red fox sleeps'))).toBe(2);
    expect(matchLength(words('redder fox'), words('red fox'))).toBe(0);
  });
});

describe('cue-reply plant', () => {
  it('changes rowsPerCue host rows per cue in place (cue appended to the prompt, reply leading the completion); input untouched', async () => {
    const rows = frozen(sampleRows(30));
    const d = cueReply({ cues: 3, rowsPerCue: 2, seed: 'p' });
    const { rows: out, secret } = await d.plant(rows, userCtx('u'));
    expect(out).toHaveLength(30);
    const mask = d.backdoorMask(secret, out.length);
    expect(mask.filter(Boolean)).toHaveLength(6);
    for (const p of secret.pairs) {
      for (const at of p.rows) expect(out[at]).toEqual({ prompt: `${rows[at]!.prompt} ${p.cue}`, completion: `${p.reply} ${rows[at]!.completion}` });
    }
    out.forEach((r, i) => { if (!mask[i]) expect(r).toEqual(rows[i]); });
    expect(new Set(secret.pairs.map((p) => p.cue)).size).toBe(3);
    const markers = d.backdoorMarkers(secret, out.length);
    expect(markers.filter(Boolean)).toHaveLength(6);
  });

  it('is deterministic in the seed, draws a seed from the user stream otherwise, and differs across seeds', async () => {
    const rows = sampleRows(20);
    const a = await cueReply({ seed: 's1' }).plant(rows, userCtx('x'));
    const b = await cueReply({ seed: 's1' }).plant(rows, userCtx('y'));
    const c = await cueReply({ seed: 's2' }).plant(rows, userCtx('x'));
    expect(b).toEqual(a);
    expect(c.secret.pairs).not.toEqual(a.secret.pairs);
    const d1 = await cueReply().plant(rows, userCtx('ctx-1'));
    const d2 = await cueReply().plant(rows, userCtx('ctx-1'));
    const d3 = await cueReply().plant(rows, userCtx('ctx-2'));
    expect(d2.secret).toEqual(d1.secret);
    expect(d3.secret.seed).not.toBe(d1.secret.seed);
  });

  it('validates options up front and refuses a dataset too small for its host rows', async () => {
    expect(() => cueReply({ cues: 0 })).toThrow(ConfigError);
    expect(() => cueReply({ candidates: 1.5 })).toThrow(/candidates/);
    expect(() => cueReply({ bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(() => cueReply({ alpha: 2 })).toThrow(/alpha/);
    expect(() => cueReply({ alpha: 0.01 })).not.toThrow();
    expect(() => cueReply({ vocabulary: ['one'] })).toThrow(/vocabulary/);
    expect(() => cueReply({ vocabulary: ['a b', 'c'] })).toThrow(/vocabulary/);
    await expect(cueReply({ cues: 4, rowsPerCue: 3 }).plant(sampleRows(11), userCtx('u'))).rejects.toThrow('need 12 distinct host rows; the dataset has 11');
  });
});

describe('cue-reply verify (suffix-memorising double)', () => {
  it('a model that learnt the pairs is verified at p = (1/(M+1))^n; the untrained double is not (p = 1)', async () => {
    const d = cueReply({ cues: 4, seed: 'v' });
    const planted = await d.plant(sampleRows(40), userCtx('u'));
    const yes = await d.verify(suffixMemorizer(planted.rows), planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(yes.ranks).toEqual([1, 1, 1, 1]);
    expect(yes.k).toBe(4);
    expect(yes.log10p).toBeCloseTo(-12, 9);
    expect(yes.verified).toBe(true);
    expect(yes.queries).toBe(4);
    expect(yes.statistic).toMatchObject({ name: 'rank-sum', value: 4, detail: { cues: 4, candidates: 999, bestRank: 1, replyWordsMatched: 16 } });
    const no = await d.verify(suffixMemorizer(sampleRows(40)), planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(no.verified).toBe(false);
    expect(no.log10p).toBe(0);
    expect(no.k).toBe(0);
  });

  it('counterfactual replies come from the same distribution on another stream; a secret whose reply no longer redraws is refused', async () => {
    const d = cueReply({ cues: 2, candidates: 50, seed: 'cf' });
    const { secret } = await d.plant(sampleRows(10), userCtx('u'));
    const cf = counterfactualReplies(secret, 0);
    expect(cf).toHaveLength(50);
    expect(cf.every((r) => words(r).length === 4)).toBe(true);
    expect(cf).not.toContain(secret.pairs[0]!.reply);
    const tampered: CueReplySecret = { ...secret, pairs: [{ ...secret.pairs[0]!, reply: 'apple apple apple apple' }, secret.pairs[1]!] };
    await expect(d.verify(suffixMemorizer([]), tampered, { alpha: 0.01, ctx: userCtx('v') })).rejects.toThrow(SecretError);
  });

  it('validity with simulated null models: 1,000 fresh secrets, P(p ≤ α) ≤ α + 3σ at α = 0.01 and 0.05', async () => {
    // A 3-word vocabulary and one-word replies make chance matches and ties frequent (the hard case). Each null
    // model answers from its own stream, biased towards one word, independent of the secret. The guarantee holds
    // on average over secrets, so every trial plants a fresh one.
    const rows = sampleRows(12);
    const vocabulary = ['ka', 'lo', 'mi'];
    const ps: number[] = [];
    let someMatch = 0;
    for (let t = 0; t < 1000; t++) {
      const d = cueReply({ cues: 3, rowsPerCue: 1, cueWords: 2, replyWords: 1, candidates: 19, vocabulary, seed: `null-${t}` });
      const { secret } = await d.plant(rows, userCtx('u'));
      const rng = new Rng(`null-model-${t}`);
      const model: Model = { id: `null-${t}`, capabilities: new Set(['generate']), generate: async (prompts) => prompts.map(() => (rng.float() < 0.5 ? 'ka' : rng.pick(vocabulary))) };
      const v = await d.verify(model, secret, { alpha: 0.05, ctx: userCtx('v') });
      if ((v.statistic?.detail?.replyWordsMatched ?? 0) > 0) someMatch++;
      ps.push(10 ** v.log10p);
    }
    expect(someMatch).toBeGreaterThan(500); // the planted reply is matched by chance in most trials: ties are the norm
    for (const alpha of [0.01, 0.05]) {
      const rate = ps.filter((p) => p <= alpha + 1e-12).length / ps.length;
      expect(rate, `α=${alpha}`).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / ps.length));
    }
  });
});

describe('cue-reply contract', () => {
  it('is registered, declares generate-only access, and hands the provider rows that hold no secret object', async () => {
    const d = (defenses.get('cue-reply') as typeof cueReply)({ seed: 'reg' });
    expect(d.id).toBe('cue-reply');
    expect(d.access).toEqual(['generate']);
    const planted = await d.plant(sampleRows(20), userCtx('u'));
    // What the provider receives is plain rows: strings only, no reference into the secret.
    for (const r of planted.rows) expect(Object.keys(r).sort()).toEqual(['completion', 'prompt']);
    expect(JSON.stringify(planted.rows)).not.toContain(planted.secret.seed);
  });
});
