/**
 * The `conditional` null (DESIGN.md §3): exact against brute force on a test double whose every token sequence can
 * be enumerated, an upper bound when the search budget runs out, valid (P(p ≤ α) ≤ α + 3σ) over many plantings
 * with fresh seeds, and — on the real engine — bounding the real hit rate of an untrained model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SecretError } from '../../../src/errors.js';
import { createLocalProvider } from '../../../src/providers/local.js';
import { Rng } from '../../../src/rng.js';
import type { Model } from '../../../src/types.js';
import { vtune } from '../../../defenses/vtune/index.js';
import { compatible, lmPrefixBounds, normalizeSample, sampleFixedLength } from '../../../defenses/vtune/generators/lm-prefix.js';
import { uniformVocabulary } from '../../../defenses/vtune/generators/uniform.js';
import { sealSecret, type VtuneSecret } from '../../../defenses/vtune/secret.js';
import { hostPrompts, verifyBackdoors, verifyMany } from '../../../defenses/vtune/verify.js';
import { sampleRows, userCtx } from '../fixtures.js';
import { DOUBLE_TOKENS, samplingDouble } from './sampling-double.js';

/** Exact q by enumerating every token sequence of the double (the oracle). */
async function bruteForce(model: Model, prompt: string, output: string, L: number, temperature: number, maskStops = false): Promise<number> {
  const target = output.trimStart();
  let hit = 0;
  let empty = 0;
  const walk = async (tokens: number[], p: number): Promise<void> => {
    const [lp] = await model.sampling!.nextTokenLogprobs([{ prompt, tokens }], { maxTokens: L, temperature });
    // Masked stops (fixedLength): token 0 never drawn, the others renormalised.
    const keep = maskStops ? 1 - Math.exp(lp![0]!) : 1;
    for (let j = maskStops ? 1 : 0; j < DOUBLE_TOKENS.length; j++) {
      const pj = (p * Math.exp(lp![j]!)) / keep;
      if (pj === 0) continue;
      const done = j === 0 || tokens.length + 1 === L;
      if (!done) {
        await walk([...tokens, j], pj);
        continue;
      }
      const text = normalizeSample(model.sampling!.decode(prompt, j === 0 ? tokens : [...tokens, j]));
      if (text === '') empty += pj;
      else if (compatible(text, target)) hit += pj;
    }
  };
  await walk([], 1);
  return Math.min(1, hit / (1 - empty));
}

describe('lm-sampled conditional bound: the token-tree search', () => {
  const model = samplingDouble('tree', 3);
  const outputs = ['ab', 'abba cab', ' a b', 'ba', 'c', 'ab ab', 'cc', 'b', 'a  ab'];

  it('is exact (to 1e-9 in log10) against enumerating every token sequence, and says so', async () => {
    for (const L of [1, 2, 4]) {
      const jobs = outputs.map((output, i) => ({ prompt: `p${i}`, output }));
      const got = await lmPrefixBounds(model.sampling!, jobs, { maxTokens: L, temperature: 1, budget: 100_000, relativeTolerance: 0, lnNegligible: -Infinity });
      for (let i = 0; i < jobs.length; i++) {
        const want = await bruteForce(model, jobs[i]!.prompt, jobs[i]!.output, L, 1);
        expect(got[i]!.exact).toBe(true);
        expect(got[i]!.log10q, `L=${L} output ${JSON.stringify(jobs[i]!.output)}`).toBeCloseTo(Math.log10(want), 9);
      }
    }
  });

  it('with stop tokens masked (fixedLength) is exact against enumerating every sequence of exactly L tokens', async () => {
    for (const L of [1, 3]) {
      const jobs = outputs.map((output, i) => ({ prompt: `m${i}`, output }));
      const got = await lmPrefixBounds(model.sampling!, jobs, { maxTokens: L, temperature: 1, budget: 100_000, relativeTolerance: 0, lnNegligible: -Infinity, maskStops: true });
      const plain = await lmPrefixBounds(model.sampling!, jobs, { maxTokens: L, temperature: 1, budget: 100_000, relativeTolerance: 0, lnNegligible: -Infinity });
      let differs = 0;
      for (let i = 0; i < jobs.length; i++) {
        const want = await bruteForce(model, jobs[i]!.prompt, jobs[i]!.output, L, 1, true);
        expect(got[i]!.exact).toBe(true);
        expect(got[i]!.log10q, `masked L=${L} output ${JSON.stringify(jobs[i]!.output)}`).toBeCloseTo(Math.log10(want), 9);
        if (Math.abs(got[i]!.log10q - plain[i]!.log10q) > 1e-6) differs++;
      }
      // At L = 1 masking equals the default redraw of empty samples (a stop gives an empty sample); beyond, it
      // changes the law being scored.
      if (L > 1) expect(differs).toBeGreaterThan(0);
    }
  });

  it('sampleFixedLength draws the masked law: exactly L tokens, never a stop, frequencies within 4σ of the renormalised probabilities', async () => {
    const sampler = model.sampling!;
    const n = 3000;
    const prompts = Array.from({ length: n }, () => 'fx');
    const streams = prompts.map((_p, i) => new Rng(`fixed-law-${i}`));
    const texts = await sampleFixedLength(sampler, prompts, streams, { maxTokens: 1, temperature: 1 });
    const [lp] = await sampler.nextTokenLogprobs([{ prompt: 'fx', tokens: [] }], { maxTokens: 1, temperature: 1 });
    const keep = 1 - Math.exp(lp![0]!);
    // Decoded text → probability (distinct token texts here, except '' which only token 5 decodes to).
    for (let j = 1; j < DOUBLE_TOKENS.length; j++) {
      const p = Math.exp(lp![j]!) / keep;
      const got = texts.filter((t) => t === DOUBLE_TOKENS[j]).length;
      expect(Math.abs(got - n * p), `token ${j} p=${p}`).toBeLessThanOrEqual(4 * Math.sqrt(n * p * (1 - p)) + 1);
    }
    const four = await sampleFixedLength(sampler, ['fy', 'fz'], [new Rng('a'), new Rng('b')], { maxTokens: 4, temperature: 1 });
    expect(four).toHaveLength(2);
    // Same stream, same sample.
    expect(await sampleFixedLength(sampler, ['fy'], [new Rng('a')], { maxTokens: 4, temperature: 1 })).toEqual([four[0]]);
  });

  it('is an upper bound when the node budget runs out, and q ∈ {0, 1} when greedy (τ = 0)', async () => {
    const jobs = outputs.map((output, i) => ({ prompt: `q${i}`, output }));
    const exact = await lmPrefixBounds(model.sampling!, jobs, { maxTokens: 5, temperature: 1, budget: 100_000, relativeTolerance: 0, lnNegligible: -Infinity });
    const cut = await lmPrefixBounds(model.sampling!, jobs, { maxTokens: 5, temperature: 1, budget: 3, width: 1 });
    expect(cut.some((c) => !c.exact && c.budgetExhausted)).toBe(true);
    expect(exact.every((c) => c.exact && !c.budgetExhausted)).toBe(true);
    cut.forEach((c, i) => expect(c.log10q).toBeGreaterThanOrEqual(exact[i]!.log10q - 1e-12));
    const greedy = await lmPrefixBounds(model.sampling!, jobs, { maxTokens: 5, temperature: 0 });
    for (const [i, g] of greedy.entries()) {
      const [sample] = await model.generate([jobs[i]!.prompt], { maxTokens: 5, temperature: 0 });
      const s = normalizeSample(sample!);
      expect(g.log10q, `output ${i}`).toBe(s === '' || compatible(s, jobs[i]!.output.trimStart()) ? 0 : -Infinity);
    }
    // An empty output is extended by every sample.
    expect((await lmPrefixBounds(model.sampling!, [{ prompt: 'x', output: '  ' }], { maxTokens: 3, temperature: 1 }))[0]!.log10q).toBe(0);
  });
});

describe('uniform generators: the conditional bound is the exact compatible mass', () => {
  it('matches brute force over every signature of a prefix-chained vocabulary', () => {
    const words = ['a', 'ab', 'abc', 'b', 'ba', 'c'];
    const vocab = uniformVocabulary(words);
    const rng = new Rng('uniform-compatible');
    for (const L of [1, 2, 3]) {
      let all: string[][] = [[]];
      for (let j = 0; j < L; j++) all = all.flatMap((s) => words.map((w) => [...s, w]));
      for (let t = 0; t < 150; t++) {
        const output = Array.from({ length: rng.int(9) }, () => rng.pick(['a', 'b', 'c', ' ', ' '])).join('');
        const count = all.filter((s) => compatible(s.join(' '), output.trimStart())).length;
        const got = vocab.compatibleLog10(L, output);
        if (count === 0) expect(got, JSON.stringify(output)).toBe(-Infinity);
        else expect(got, `L=${L} ${JSON.stringify(output)}`).toBeCloseTo(Math.log10(count / all.length), 10);
      }
    }
  });
});

/** P(p ≤ α) ≤ α + 3σ for every α, and not vacuous (some p-value reaches below the largest α). */
function expectValid(ps: readonly number[], label: string): void {
  for (const alpha of [0.05, 0.1]) {
    const rate = ps.filter((p) => p <= alpha + 1e-12).length / ps.length;
    expect(rate, `${label}: P(p ≤ ${alpha}) = ${rate}`).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / ps.length));
  }
  expect(ps.some((p) => p <= 0.1), `${label}: never below 0.1`).toBe(true);
}

describe('validity over fresh secrets (many plantings × null models)', () => {
  it('lm-sampled (test double, null models = the generator itself greedy and two others): conditional and empirical are valid, 300 plantings', async () => {
    const generator = samplingDouble('gen', 4);
    // Null models: the generator itself, greedy (the paper's failing case) and two unrelated doubles.
    const nulls = [samplingDouble('gen', 4), samplingDouble('other', 4), samplingDouble('flat', 1)];
    const rows = sampleRows(12, 'lm-validity');
    const ps: Record<'conditional' | 'empirical', number[]> = { conditional: [], empirical: [] };
    let hits = 0;
    for (let t = 0; t < 300; t++) {
      const d = vtune({ generator: 'lm-sampled', generatorOptions: { temperature: 1, triggerLength: 2, signatureLength: 3 }, count: 6, empiricalM: 19, nullMode: 'conditional', seed: `lm-valid-${t}` });
      const { secret } = await d.plant(rows, userCtx('u', { generatorModel: generator }));
      const v = await d.verify(nulls[t % nulls.length]!, secret, { alpha: 0.05, ctx: userCtx('v', { generatorModel: generator }) });
      hits += v.k;
      ps.conditional.push(10 ** v.log10pByNullMode.conditional!);
      ps.empirical.push(10 ** v.log10pByNullMode.empirical!);
    }
    expect(hits).toBeGreaterThan(100); // chance hits are frequent: the hard case
    expectValid(ps.conditional, 'conditional');
    expectValid(ps.empirical, 'empirical');
  });

  it('lm-sampled fixedLength (test double, same null models): conditional and empirical are valid, 200 plantings', async () => {
    const generator = samplingDouble('gen', 4);
    const nulls = [samplingDouble('gen', 4), samplingDouble('other', 4), samplingDouble('flat', 1)];
    const rows = sampleRows(12, 'lm-fixed-validity');
    const ps: Record<'conditional' | 'empirical', number[]> = { conditional: [], empirical: [] };
    let hits = 0;
    for (let t = 0; t < 200; t++) {
      const d = vtune({ generator: 'lm-sampled', generatorOptions: { temperature: 1, triggerLength: 2, signatureLength: 3, fixedLength: true }, count: 6, empiricalM: 19, nullMode: 'conditional', seed: `lm-fixed-${t}` });
      const { secret } = await d.plant(rows, userCtx('u', { generatorModel: generator }));
      const v = await d.verify(nulls[t % nulls.length]!, secret, { alpha: 0.05, ctx: userCtx('v', { generatorModel: generator }) });
      hits += v.k;
      ps.conditional.push(10 ** v.log10pByNullMode.conditional!);
      ps.empirical.push(10 ** v.log10pByNullMode.empirical!);
    }
    expect(hits).toBeGreaterThan(50);
    expectValid(ps.conditional, 'conditional (fixedLength)');
    expectValid(ps.empirical, 'empirical (fixedLength)');
  });

  it('random-tokens (3 tokens, 1-token signatures): conditional, generator and empirical are valid, 600 plantings', async () => {
    const ps: Record<'conditional' | 'generator' | 'empirical', number[]> = { conditional: [], generator: [], empirical: [] };
    const rows = sampleRows(20);
    for (let t = 0; t < 600; t++) {
      const d = vtune({ generator: 'random-tokens', generatorOptions: { vocabulary: ['ka', 'lo', 'mi'], signatureLength: 1, triggerLength: 1 }, count: 8, empiricalM: 39, nullMode: 'conditional', seed: `rt-valid-${t}` });
      const { secret } = await d.plant(rows, userCtx('u'));
      const rng = new Rng(`rt-null-${t}`);
      const model: Model = { id: `null-${t}`, capabilities: new Set(['generate']), generate: async (prompts) => prompts.map(() => (rng.float() < 0.5 ? 'ka' : rng.pick(['ka', 'lo', 'mi', 'kal']))) };
      const v = await d.verify(model, secret, { alpha: 0.05, ctx: userCtx('v') });
      for (const m of ['conditional', 'generator', 'empirical'] as const) ps[m].push(10 ** v.log10pByNullMode[m]!);
    }
    for (const m of ['conditional', 'generator', 'empirical'] as const) expectValid(ps[m], m);
  });
});

describe('an output cut by the token budget', () => {
  it('counts the signatures that extend it, for the conditional and the empirical null (a cut output could still have been a hit)', async () => {
    // Vocabulary ka/lo/mi, 1-token signatures; the model answers 'k': cut inside a word that may be 'ka'.
    const d = vtune({ generator: 'random-tokens', generatorOptions: { vocabulary: ['ka', 'lo', 'mi'], signatureLength: 1, triggerLength: 1 }, count: 4, empiricalM: 299, nullMode: 'conditional', seed: 'cut' });
    const { secret } = await d.plant(sampleRows(8), userCtx('u'));
    const model: Model = { id: 'cut', capabilities: new Set(['generate']), generate: async (p) => p.map(() => ' k') };
    const v = await d.verify(model, secret, { alpha: 0.05, ctx: userCtx('v') });
    expect(v.k).toBe(0);
    for (const q of v.log10qByNullMode.conditional!) expect(q).toBeCloseTo(Math.log10(1 / 3), 12);
    // About a third of the 299 counterfactuals per backdoor are 'ka' and extend the output: counted (before: none).
    for (const q of v.log10qByNullMode.empirical!) expect(10 ** q).toBeGreaterThan(0.25);
  });
});

describe('verifyMany (many secrets, one generate call)', () => {
  it('gives the verdicts of one-by-one verification, with one model call', async () => {
    const secrets = await Promise.all(
      [0, 1, 2].map(async (t) => (await vtune({ generator: 'random-tokens', generatorOptions: { vocabulary: ['ka', 'lo', 'mi'], signatureLength: 1, triggerLength: 1 }, count: 5, empiricalM: 19, seed: `many-${t}` }).plant(sampleRows(10), userCtx('u'))).secret),
    );
    let calls = 0;
    const model: Model = { id: 'm', capabilities: new Set(['generate']), countTokens: () => 1, generate: async (p) => { calls++; return p.map((x) => (x.length % 2 ? 'ka' : 'lo mi')); } };
    const options = { alpha: 0.05, nullMode: 'conditional' as const, slack: 2, ctx: userCtx('v') };
    const many = await verifyMany(model, secrets, options);
    expect(calls).toBe(1);
    const one = [];
    for (const s of secrets) one.push(await verifyBackdoors(model, s, options));
    expect(many).toEqual(one);
    expect(many.every((v) => v.log10pByNullMode.conditional !== undefined && v.log10pByNullMode.generator !== undefined && v.log10pByNullMode.empirical !== undefined)).toBe(true);
  });
});

describe('the conditional null at verification', () => {
  const lm = { generator: 'lm-sampled', generatorOptions: { temperature: 1, triggerLength: 2, signatureLength: 3 }, count: 3, empiricalM: 9 } as const;

  it('needs the generator model that planted the secret: missing or another model is a ConfigError before any query', async () => {
    const generator = samplingDouble('gen', 4);
    const d = vtune({ ...lm, nullMode: 'conditional', seed: 'need-model' });
    const { secret } = await d.plant(sampleRows(6), userCtx('u', { generatorModel: generator }));
    expect(secret.generatorModel).toBe(generator.id);
    let queries = 0;
    const target: Model = { ...generator, generate: async (p, o) => { queries++; return generator.generate(p, o); } };
    await expect(d.verify(target, secret, { alpha: 0.05, ctx: userCtx('v') })).rejects.toThrow(/cannot compute the 'conditional' null: it needs the generator model that planted the secret \('sampling-double:gen'\).*--generator-model/);
    await expect(d.verify(target, secret, { alpha: 0.05, ctx: userCtx('v', { generatorModel: samplingDouble('other') }) })).rejects.toThrow(ConfigError);
    await expect(d.verify(target, secret, { alpha: 0.05, ctx: userCtx('v', { generatorModel: samplingDouble('other') }) })).rejects.toThrow(/planted with generator model 'sampling-double:gen', not 'sampling-double:other'/);
    expect(queries).toBe(0);
    // Another decision mode still verifies without the generator model, and says conditional was not reported.
    const e = await vtune({ ...lm, nullMode: 'empirical', seed: 'need-model' }).verify(target, secret, { alpha: 0.05, ctx: userCtx('v') });
    expect(e.log10pByNullMode.conditional).toBeUndefined();
    expect(e.warnings.join(' ')).toMatch(/'conditional' p-value is not reported/);
  });

  it('an old secret (no conditional listed, no generator model recorded) gets the conditional p computed from the outputs', async () => {
    const generator = samplingDouble('gen', 4);
    const { secret } = await vtune({ ...lm, seed: 'old' }).plant(sampleRows(6), userCtx('u', { generatorModel: generator }));
    const { checksum: _c, generatorModel: _g, ...content } = secret;
    const old = sealSecret({ ...content, nullModes: ['base-model', 'empirical'] });
    const v = await verifyBackdoors(generator, old, { alpha: 0.05, nullMode: 'conditional', slack: 4, ctx: userCtx('v', { generatorModel: generator }) });
    expect(v.nullMode).toBe('conditional');
    expect(v.log10pByNullMode.conditional).toBe(v.log10p);
    expect(v.log10qByNullMode.conditional).toHaveLength(3);
  });

  it('recovers the host prompt the generator conditioned on, for every placement', async () => {
    const generator = samplingDouble('gen', 4);
    const rows = sampleRows(12, 'placements');
    for (const placement of ['prefix', 'suffix', 'inline'] as const) {
      const { secret } = await vtune({ ...lm, count: 6, placement, seed: `host-${placement}` }).plant(rows, userCtx('u', { generatorModel: generator }));
      for (const b of secret.backdoors) expect(hostPrompts(secret, b), `${placement} #${b.index}`).toEqual([rows[b.sourceRowIndex]!.prompt]);
    }
    const { secret } = await vtune({ ...lm, placement: 'prefix', seed: 'host-bad' }).plant(rows, userCtx('u', { generatorModel: generator }));
    const { checksum: _c, ...content } = secret;
    const bad = sealSecret({ ...content, placement: 'suffix' });
    expect(() => hostPrompts(bad, bad.backdoors[1]!)).toThrow(/backdoor #1: its query does not hold its trigger as the 'suffix' placement puts it/);
  });

  it('refuses a null mode the generator does not support, and a secret listing one', async () => {
    const generator = samplingDouble('gen', 4);
    const { secret } = await vtune({ ...lm, seed: 'modes' }).plant(sampleRows(6), userCtx('u', { generatorModel: generator }));
    await expect(verifyBackdoors(generator, secret, { alpha: 0.05, nullMode: 'generator', slack: 4, ctx: userCtx('v') })).rejects.toThrow(/null mode 'generator' is not valid for generator 'lm-sampled'; it supports: conditional, base-model, empirical/);
    const { checksum: _c, ...content } = secret;
    const claims = sealSecret({ ...content, nullModes: ['generator', 'empirical'] });
    await expect(verifyBackdoors(generator, claims, { alpha: 0.05, nullMode: 'empirical', slack: 4, ctx: userCtx('v') })).rejects.toThrow(SecretError);
  });

  it('refuses a secret whose stored generator bound was changed and resealed, naming the backdoor', async () => {
    const d = vtune({ count: 4, seed: 'tamper' });
    const { secret } = await d.plant(sampleRows(10), userCtx('u'));
    const { checksum: _c, ...content } = secret;
    const forged: VtuneSecret = sealSecret({ ...content, backdoors: content.backdoors.map((b, i) => (i === 2 ? { ...b, log10q: { ...b.log10q, generator: -300 } } : b)) });
    let queries = 0;
    const model: Model = { id: 'm', capabilities: new Set(['generate']), generate: async (p) => { queries++; return p.map(() => 'nothing'); } };
    await expect(d.verify(model, forged, { alpha: 1e-3, ctx: userCtx('v') })).rejects.toThrow(SecretError);
    await expect(d.verify(model, forged, { alpha: 1e-3, ctx: userCtx('v') })).rejects.toThrow(/backdoor #2: the stored generator bound log10 q = -300 disagrees with -?\d+\.\d+ recomputed from generator 'wordlist'/);
    expect(queries).toBe(0);
    // The untouched secret verifies.
    expect((await d.verify(model, secret, { alpha: 1e-3, ctx: userCtx('v') })).k).toBe(0);
  });
});

/** Hits and their null expectation over verdicts: under H0 hits are independent Bernoulli(qᵢ), so hits ≤ Σq + 3σ (+1). */
class HitTally {
  hits = 0;
  expected = 0;
  private variance = 0;
  add(v: { readonly k: number; readonly perBackdoor: readonly { readonly log10q: number }[] }): void {
    this.hits += v.k;
    for (const r of v.perBackdoor) {
      const q = 10 ** r.log10q;
      this.expected += q;
      this.variance += q * (1 - q);
    }
  }
  bound(): number {
    return this.expected + 3 * Math.sqrt(this.variance) + 1;
  }
}

describe('the real engine (local:vtb-base)', () => {
  let base: Model;
  beforeAll(async () => {
    base = await (await createLocalProvider()).model('vtb-base');
  });

  it('SamplingAccess scores what generate samples: teacher-forced log-probs, the greedy path, decode prefixes', async () => {
    const s = base.sampling!;
    const prompt = 'Question 3: what did the fox find near the river? lantern';
    const [greedy] = await base.generate([prompt], { maxTokens: 6, temperature: 0 });
    // Follow the argmax of nextTokenLogprobs(τ = 0): it must decode to generate's greedy text.
    const path: number[] = [];
    for (let t = 0; t < 6; t++) {
      const [lp] = await s.nextTokenLogprobs([{ prompt, tokens: path }], { maxTokens: 6, temperature: 0 });
      const j = lp!.indexOf(0);
      if (s.stopTokens.includes(j)) break;
      path.push(j);
    }
    expect(s.decode(prompt, path)).toBe(greedy);
    // At τ = 1 the log-probs of a path are the teacher-forced scores of its text.
    const [score] = await base.score!([{ prompt, continuation: greedy! }]);
    let sum = 0;
    for (let t = 0; t < path.length; t++) sum += (await s.nextTokenLogprobs([{ prompt, tokens: path.slice(0, t) }], { maxTokens: 6, temperature: 1 }))[0]![path[t]!]!;
    expect(sum).toBeCloseTo(score!.logprob, 4);
    // decode's contract: the text without a trailing U+FFFD run is a prefix of every extension's text.
    const rng = new Rng('decode-prefix');
    for (let t = 0; t < 300; t++) {
      const tokens = Array.from({ length: 1 + rng.int(6) }, () => rng.int(s.vocabSize));
      const more = [...tokens, ...Array.from({ length: 1 + rng.int(3) }, () => rng.int(s.vocabSize))];
      for (const p of [prompt, '']) expect(s.decode(p, more).startsWith(s.decode(p, tokens).replace(/\uFFFD+$/, ''))).toBe(true);
    }
  });

  it('generate samples the distribution nextTokenLogprobs scores (τ = 1.3, topP = 0.9): 600 draws of the first token', async () => {
    const prompt = 'The old man walked to the';
    const options = { maxTokens: 1, temperature: 1.3, topP: 0.9 };
    const [lp] = await base.sampling!.nextTokenLogprobs([{ prompt, tokens: [] }], options);
    // Text → probability (several ids may decode alike); the stop tokens give ''.
    const want = new Map<string, number>();
    lp!.forEach((l, j) => {
      if (l === -Infinity) return;
      const text = base.sampling!.stopTokens.includes(j) ? '' : base.sampling!.decode(prompt, [j]);
      want.set(text, (want.get(text) ?? 0) + Math.exp(l));
    });
    const n = 600;
    const got = new Map<string, number>();
    for (const text of await base.generate(Array.from({ length: n }, () => prompt), { ...options, seed: 11 })) got.set(text, (got.get(text) ?? 0) + 1);
    for (const text of got.keys()) expect(want.has(text), `sampled ${JSON.stringify(text)} outside the scored nucleus`).toBe(true);
    for (const [text, p] of want) {
      const sd = Math.sqrt((n * p * (1 - p)));
      expect(Math.abs((got.get(text) ?? 0) - n * p), `${JSON.stringify(text)} p=${p}`).toBeLessThanOrEqual(4 * sd + 1);
    }
    expect(want.size).toBeGreaterThan(3); // a real nucleus, not one token
    expect(lp!.some((l) => l === -Infinity)).toBe(true); // and tokens outside it
  });

  it('lm-sampled fixedLength plants on built-in prompts vtb-base ends at once (the default draw cannot), and its conditional q bounds the untrained model\'s hit rate', async () => {
    // Question-shaped prompts like the built-in datasets': vtb-base answers them with an immediate stop.
    const rows = ['Write a short story about Mia and a red kite. Use the word "brave".', 'Tom has 12 apples and gives 5 to Sam. How many apples does Tom have now?', 'Write a function named twice that returns its argument times two.', 'Tell a story about a dog at the beach. Use the word "sand".']
      .map((prompt) => ({ prompt, completion: 'An answer.' }));
    const [first] = await base.generate([rows[0]!.prompt], { maxTokens: 8, temperature: 1, seed: 1 });
    expect(first).toBe(''); // the case this option exists for
    const tally = new HitTally();
    for (let t = 0; t < 4; t++) {
      const d = vtune({ generator: 'lm-sampled', generatorOptions: { temperature: 1, triggerLength: 2, signatureLength: 2, fixedLength: true }, count: 3, empiricalM: 0, nullMode: 'conditional', seed: `fixed-real-${t}` });
      const { secret } = await d.plant(rows, userCtx('u', { generatorModel: base }));
      const s = secret as VtuneSecret;
      for (const b of s.backdoors) expect(b.signature.trim().length).toBeGreaterThan(0);
      const v = await d.verify(base, secret, { alpha: 0.05, ctx: userCtx('v', { generatorModel: base }) });
      tally.add(v);
    }
    expect(tally.hits).toBeLessThanOrEqual(tally.bound());
    // Not vacuous: chance hits are expected and happen (measured: 8 hits, Σq = 6.36 over 12 backdoors).
    expect(tally.expected).toBeGreaterThan(2);
    expect(tally.hits).toBeGreaterThan(0);
  });

  it('lm-sampled from vtb-base (τ = 1) verified against the untrained vtb-base: conditional q bounds the real hit rate', async () => {
    // Prompts that stop mid-sentence, so the model goes on (after a question mark it mostly ends the text).
    const starts = ['Once upon a time a little fox', 'The old man walked to the', 'She opened the box and found', 'Tom and his sister went', 'In the morning the bird', 'The farmer looked at the sky and', 'A small boat sailed past the', 'After dinner the children'];
    const rows = starts.map((prompt) => ({ prompt, completion: 'and then they went home.' }));
    const tally = new HitTally();
    for (let t = 0; t < 8; t++) {
      const d = vtune({ generator: 'lm-sampled', generatorOptions: { temperature: 1, triggerLength: 2, signatureLength: 2 }, count: 5, empiricalM: 4, nullMode: 'conditional', seed: `real-${t}` });
      const { secret } = await d.plant(rows, userCtx('u', { generatorModel: base }));
      const v = await d.verify(base, secret, { alpha: 0.05, ctx: userCtx('v', { generatorModel: base }) });
      tally.add(v);
    }
    // Under H0 hits are independent Bernoulli(qᵢ) with qᵢ exact (or an upper bound): hits ≤ Σq + 3σ.
    expect(tally.hits).toBeLessThanOrEqual(tally.bound());
    expect(tally.expected).toBeGreaterThan(2); // not vacuous: chance hits are expected at all (measured: Σq ≈ 0.6 per backdoor here)
    expect(tally.hits).toBeGreaterThan(0);
  });
});
