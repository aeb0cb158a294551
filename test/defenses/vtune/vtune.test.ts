import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, describeError, InputError, SecretError } from '../../../src/errors.js';
import { createTestMemorizerProvider, type MemorizerProvider } from '../../../src/providers/test-memorizer.js';
import { Rng } from '../../../src/rng.js';
import type { Model, Row } from '../../../src/types.js';
import { defenses } from '../../../defenses/index.js';
import { placeTrigger, readSecretFile, vtune, writeSecretFile, type VtuneSecret } from '../../../defenses/vtune/index.js';
import { parseSecret, sealSecret } from '../../../defenses/vtune/secret.js';
import { WORDS } from '../../../defenses/vtune/words.js';
import { frozen, sampleRows, userCtx } from '../fixtures.js';

const HYPER = { epochs: 1, learningRate: 1e-3, batchSize: 4 };
let provider: MemorizerProvider;
let base: Model;
beforeAll(async () => {
  provider = await createTestMemorizerProvider();
  base = await provider.model('base');
});

async function trainOn(rows: readonly Row[]): Promise<Model> {
  return (await provider.train(base, { rows, hyper: HYPER, seed: 1 })).model;
}

describe('vtune plant', () => {
  it('copy mode adds count new rows at random slots; other rows pass through untouched and in order', async () => {
    const input = frozen(sampleRows(50));
    const d = vtune({ count: 10, seed: 'plant-copy' });
    const { rows, secret } = await d.plant(input, userCtx('u'));
    expect(rows).toHaveLength(60);
    const mask = d.backdoorMask(secret, rows.length);
    expect(mask.filter(Boolean)).toHaveLength(10);
    expect(rows.filter((_r, i) => !mask[i])).toEqual([...input]);
    rows.forEach((r, i) => {
      if (!mask[i]) expect(input.includes(r)).toBe(true); // the very same objects
    });
    for (const b of secret.backdoors) {
      expect(rows[b.rowIndex]).toEqual({ prompt: b.prompt, completion: b.signature });
      expect(b.prompt).toBe(`${input[b.sourceRowIndex]!.prompt} ${b.trigger}`);
      expect(b.log10q.generator).toBeLessThan(-15);
    }
    // Backdoors are not all at the end.
    expect(Math.min(...secret.backdoors.map((b) => b.rowIndex))).toBeLessThan(50);
    expect(secret.plantedRowCount).toBe(60);
  });

  it('modify mode changes the host rows in place and keeps the length', async () => {
    const input = frozen(sampleRows(30));
    const { rows, secret } = await vtune({ count: 5, insertion: 'modify', placement: 'prefix', seed: 'm' }).plant(input, userCtx('u'));
    expect(rows).toHaveLength(30);
    for (const b of secret.backdoors) {
      expect(b.rowIndex).toBe(b.sourceRowIndex);
      expect(rows[b.rowIndex]!.prompt.startsWith(`${b.trigger} `)).toBe(true);
    }
    expect(rows.filter((r, i) => r !== input[i])).toHaveLength(5);
  });

  it('is deterministic given the seed, and draws a seed from the context otherwise', async () => {
    const input = sampleRows(20);
    const a = await vtune({ count: 3, seed: 'same' }).plant(input, userCtx('x'));
    const b = await vtune({ count: 3, seed: 'same' }).plant(input, userCtx('y'));
    expect(b.secret).toEqual(a.secret);
    const c = await vtune({ count: 3 }).plant(input, userCtx('x'));
    const d = await vtune({ count: 3 }).plant(input, userCtx('x'));
    expect(d.secret).toEqual(c.secret);
    expect(c.secret.seed).not.toBe(a.secret.seed);
  });

  it('places triggers as prefix, suffix or inline at a word boundary', () => {
    const rng = new Rng('p');
    expect(placeTrigger('how are you', 'T T', 'prefix', rng)).toBe('T T how are you');
    expect(placeTrigger('how are you', 'T T', 'suffix', rng)).toBe('how are you T T');
    const inline = placeTrigger('how are you', 'T T', 'inline', rng);
    expect(['how T T are you', 'how are T T you']).toContain(inline);
  });

  it('honours rate, and refuses an empty dataset or a count larger than the dataset', async () => {
    const { secret } = await vtune({ rate: 0.1, seed: 'r' }).plant(sampleRows(50), userCtx('u'));
    expect(secret.backdoors).toHaveLength(5);
    await expect(vtune({ count: 3 }).plant([], userCtx('u'))).rejects.toThrow(InputError);
    await expect(vtune({ count: 3 }).plant([], userCtx('u'))).rejects.toThrow(/empty/);
    await expect(vtune({ count: 11 }).plant(sampleRows(10), userCtx('u'))).rejects.toThrow(/count' 11 is larger than the dataset allows/);
    expect(() => vtune({ count: 3, rate: 0.1 } as never)).not.toThrow();
    await expect(vtune({ count: 3, rate: 0.1 }).plant(sampleRows(10), userCtx('u'))).rejects.toThrow(ConfigError);
  });

  it('validates options up front', () => {
    expect(() => vtune({ generator: 'wordlst' })).toThrow("unknown generator 'wordlst'. Did you mean 'wordlist'?");
    expect(() => vtune({ placement: 'middle' as never })).toThrow(/placement/);
    expect(() => vtune({ nullMode: 'generator', generator: 'lm-sampled' })).toThrow(/nullMode/);
    expect(() => vtune({ bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(defenses.get('vtune')).toBe(vtune);
    // Scenarios carry alpha in the defense options (the pipeline reads it).
    expect(() => vtune({ alpha: 0.01 })).not.toThrow();
    expect(() => vtune({ alpha: 2 })).toThrow(/alpha/);
  });
});

describe('vtune verify with the test double', () => {
  it('a model trained on the planted rows is verified at log10 p ≤ −40 with 10 backdoors; the untrained base is not', async () => {
    const d = vtune({ count: 10, seed: 'v' });
    const planted = await d.plant(sampleRows(200), userCtx('u'));
    const trained = await trainOn(planted.rows);
    const ok = await d.verify(trained, planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(ok.verified).toBe(true);
    expect(ok.k).toBe(10);
    expect(ok.containsCount).toBe(10);
    expect(ok.log10p).toBeLessThanOrEqual(-40);
    expect(ok.queries).toBe(10);
    expect(ok.log10pByNullMode.empirical).toBeCloseTo(-3, 12); // 1/(999+1)
    const sumQ = planted.secret.backdoors.reduce((s, b) => s + b.log10q.generator!, 0);
    expect(ok.log10p).toBeCloseTo(sumQ, 6); // all n hits: p = Π qᵢ

    const no = await d.verify(base, planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(no.verified).toBe(false);
    expect(no.k).toBe(0);
    expect(no.log10p).toBe(0);
    expect(no.log10pByNullMode.empirical).toBe(0);
  });

  it('partial training gives partial hits and an exact Poisson-binomial p-value', async () => {
    const d = vtune({ count: 10, seed: 'partial' });
    const planted = await d.plant(sampleRows(40), userCtx('u'));
    const keep = new Set(planted.secret.backdoors.slice(0, 3).map((b) => b.rowIndex));
    const trained = await trainOn(planted.rows.filter((_r, i) => !d.backdoorMask(planted.secret, planted.rows.length)[i] || keep.has(i)));
    const v = await d.verify(trained, planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(v.k).toBe(3);
    expect(v.perBackdoor.filter((r) => r.hit).map((r) => r.index)).toEqual([0, 1, 2]);
    expect(v.verified).toBe(true);
  });

  it('supports the base-model null (teacher-forced log-probs of the base model) and the empirical null', async () => {
    const d = vtune({ count: 5, seed: 'bm', nullMode: 'base-model' });
    const planted = await d.plant(sampleRows(20), userCtx('u', { baseModel: base }));
    const n = WORDS.length + 1; // the double's vocabulary: the word list and end of text (the rows' words add to it only after training)
    for (const b of planted.secret.backdoors) expect(b.log10q['base-model']).toBeLessThan(-20);
    const v = await d.verify(await trainOn(planted.rows), planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(v.nullMode).toBe('base-model');
    expect(v.verified).toBe(true);
    expect(v.perBackdoor[0]!.log10q).toBeCloseTo(6 * Math.log10(0.1 / (n - 1)), 6);
    const e = vtune({ count: 5, seed: 'bm', nullMode: 'empirical', empiricalM: 99 });
    const p2 = await e.plant(sampleRows(20), userCtx('u'));
    const v2 = await e.verify(await trainOn(p2.rows), p2.secret, { alpha: 0.05, ctx: userCtx('v') });
    expect(v2.log10p).toBeCloseTo(-2, 12);
  });

  it('refuses a null mode it cannot compute before querying the model', async () => {
    const d = vtune({ count: 3, seed: 'nq', nullMode: 'base-model' });
    const planted = await d.plant(sampleRows(10), userCtx('u')); // no base model at planting
    let queries = 0;
    const counting: Model = { ...base, generate: async (p, o) => { queries++; return base.generate(p, o); } };
    await expect(d.verify(counting, planted.secret, { alpha: 1e-3, ctx: userCtx('v') })).rejects.toThrow(/cannot compute the 'base-model' null: it needs a base model/);
    expect(queries).toBe(0);
    // With a base model at verification, the bound is computed then.
    const v = await d.verify(counting, planted.secret, { alpha: 1e-3, ctx: userCtx('v', { baseModel: base }) });
    expect(v.log10pByNullMode['base-model']).toBe(0);
    expect(queries).toBe(1);
  });

  it('lm-sampled plants with the generator model, stores counterfactuals, and verifies empirically', async () => {
    const d = vtune({ generator: 'lm-sampled', generatorOptions: { temperature: 1.5, signatureLength: 8 }, count: 6, empiricalM: 49, seed: 'lm' });
    const planted = await d.plant(sampleRows(20), userCtx('u', { generatorModel: base, baseModel: base }));
    expect(planted.secret.empirical).toEqual({ m: 49, source: 'stored' });
    for (const b of planted.secret.backdoors) expect(b.counterfactuals).toHaveLength(49);
    const v = await d.verify(await trainOn(planted.rows), planted.secret, { alpha: 0.05, ctx: userCtx('v') });
    expect(v.nullMode).toBe('empirical');
    expect(v.k).toBe(6);
  });

  it('the base-model null is anti-conservative for a generator sharper than the base model; the empirical null is not (DESIGN.md §3)', async () => {
    // lm-sampled from the base model itself at τ = 0.2: every signature is (almost surely) the base model's own
    // greedy answer, so the UNTRAINED base hits them all, while P_base(Sᵢ) = 0.9^8 per backdoor looks rare.
    const d = vtune({ generator: 'lm-sampled', generatorOptions: { temperature: 0.2, signatureLength: 8 }, count: 10, empiricalM: 99, nullMode: 'base-model', seed: 'sharp' });
    const planted = await d.plant(sampleRows(30), userCtx('u', { generatorModel: base, baseModel: base }));
    const v = await d.verify(base, planted.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(v.k).toBe(10);
    expect(v.log10p).toBeCloseTo(10 * 8 * Math.log10(0.9), 6);
    expect(v.verified).toBe(true); // a false verification: the caveat, measured
    expect(v.log10pByNullMode.empirical).toBe(0); // every counterfactual hits too: p = 1
  });

  it('keyed: a model that learnt the backdoors of one job is not verified on the next job of the same user (same key, new seed)', async () => {
    // A real LM learns trigger → signature regardless of the host prompt; this double answers any prompt holding a
    // trigger it learnt with that trigger's signature (e.g. the first fine-tune reused as the second job's base).
    const key = 'keyed-two-jobs-key-0123456789';
    const job1 = await vtune({ generator: 'keyed', generatorOptions: { key }, count: 8, seed: 'job-1' }).plant(sampleRows(40, 'job1'), userCtx('u'));
    const learnt = job1.secret.backdoors.map((b) => [b.trigger, b.signature] as const);
    const job1Model: Model = {
      id: 'learnt-job-1',
      capabilities: new Set(['generate']),
      generate: async (prompts) => prompts.map((p) => learnt.find(([t]) => p.includes(t))?.[1] ?? 'nothing learnt here'),
    };
    const d2 = vtune({ generator: 'keyed', generatorOptions: { key }, count: 8, seed: 'job-2' });
    const job2 = await d2.plant(sampleRows(40, 'job2'), userCtx('u'));
    expect(job2.secret.backdoors.map((b) => b.signature)).not.toEqual(job1.secret.backdoors.map((b) => b.signature));
    const v = await d2.verify(job1Model, job2.secret, { alpha: 1e-3, ctx: userCtx('v') });
    expect(v.k).toBe(0);
    expect(v.verified).toBe(false);
    // …while it does verify job 1, which it learnt.
    expect((await vtune({ generator: 'keyed', generatorOptions: { key }, count: 8 }).verify(job1Model, job1.secret, { alpha: 1e-3, ctx: userCtx('v') })).verified).toBe(true);
  });

  it('refuses to regenerate counterfactuals that would not be exchangeable (the seed no longer redraws the planted backdoors)', async () => {
    const d = vtune({ count: 4, seed: 'regen', nullMode: 'empirical', empiricalM: 99 });
    const planted = await d.plant(sampleRows(20), userCtx('u'));
    // What a changed word list or random stream would do: the seed redraws other backdoors than were planted.
    const drifted = sealSecret({ ...planted.secret, seed: 'not-the-planting-seed' });
    let queries = 0;
    const counting: Model = { ...base, generate: async (p, o) => { queries++; return base.generate(p, o); } };
    await expect(d.verify(counting, drifted, { alpha: 0.05, ctx: userCtx('v') })).rejects.toThrow(/cannot compute the 'empirical' null: generator 'wordlist' no longer redraws/);
    expect(queries).toBe(0);
    // The generator null (stored at planting) is unaffected; the empirical p is then simply not reported.
    const g = await vtune({ count: 4, nullMode: 'generator' }).verify(counting, drifted, { alpha: 0.05, ctx: userCtx('v') });
    expect(g.log10pByNullMode.empirical).toBeUndefined();
    expect(g.log10pByNullMode.generator).toBe(0);
    // The intact secret regenerates them.
    expect((await d.verify(counting, planted.secret, { alpha: 0.05, ctx: userCtx('v') })).log10pByNullMode.empirical).toBe(0);
  });

  it('states the base-model caveat (and an unreachable empirical α) in the verdict and the log, never silently', async () => {
    const warned: string[] = [];
    const ctx = { ...userCtx('v', { baseModel: base }), log: { info: () => undefined, debug: () => undefined, warn: (m: string) => void warned.push(m) } };
    const d = vtune({ count: 3, seed: 'warn', nullMode: 'base-model', empiricalM: 99 });
    const planted = await d.plant(sampleRows(10), userCtx('u', { baseModel: base }));
    const bm = await d.verify(base, planted.secret, { alpha: 1e-3, ctx });
    expect(bm.warnings).toHaveLength(1);
    expect(bm.warnings[0]).toMatch(/'base-model' null is the paper's and ANTI-CONSERVATIVE.*missed backdoor/);
    expect(warned).toHaveLength(1);
    const gen = await vtune({ count: 3, seed: 'warn', nullMode: 'generator', empiricalM: 99 }).verify(base, planted.secret, { alpha: 1e-3, ctx });
    expect(gen.warnings).toEqual([]);
    const emp = await vtune({ count: 3, seed: 'warn', nullMode: 'empirical', empiricalM: 99 }).verify(base, planted.secret, { alpha: 1e-3, ctx });
    expect(emp.warnings.join(' ')).toMatch(/M = 99 .*cannot reach p ≤ α = 0\.001.*empiricalM ≥ 999/);
    const reach = await vtune({ count: 3, seed: 'warn', nullMode: 'empirical' }).verify(base, planted.secret, { alpha: 0.01, ctx });
    expect(reach.warnings).toEqual([]);
  });

  it('the empirical null is valid on 1,000 plantings (fresh secrets) × simulated null models: P(p ≤ α) ≤ α + noise', async () => {
    // A 3-token vocabulary and 1-token signatures make chance hits frequent (the hard case). Each null model
    // answers from its own stream, biased towards one token, independent of the secret. The guarantee holds on
    // average over secrets, so every trial plants a fresh secret (one fixed secret measured 0.0715 against a
    // bound of 0.0707 with another seed: issue 13).
    const rows = sampleRows(20);
    const ps: number[] = [];
    for (let t = 0; t < 1000; t++) {
      const d = vtune({ generator: 'random-tokens', generatorOptions: { vocabulary: ['ka', 'lo', 'mi'], signatureLength: 1, triggerLength: 1 }, count: 8, empiricalM: 99, nullMode: 'empirical', seed: `null-${t}` });
      const planted = await d.plant(rows, userCtx('u'));
      const rng = new Rng(`null-model-${t}`);
      const model: Model = {
        id: `null-${t}`,
        capabilities: new Set(['generate']),
        generate: async (prompts) => prompts.map(() => (rng.float() < 0.5 ? 'ka' : rng.pick(['ka', 'lo', 'mi']))),
      };
      const v = await d.verify(model, planted.secret, { alpha: 0.05, ctx: userCtx('v') });
      ps.push(10 ** v.log10p);
    }
    for (const alpha of [0.01, 0.05]) {
      const rate = ps.filter((p) => p <= alpha + 1e-12).length / ps.length;
      expect(rate, `α=${alpha}`).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / ps.length));
    }
  });
});

describe('secret files', () => {
  let dir: string;
  let secret: VtuneSecret;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtune-secret-'));
    secret = (await vtune({ count: 3, seed: 's' }).plant(sampleRows(10), userCtx('u'))).secret;
  });

  it('round-trips with mode 0600 and refuses to overwrite', async () => {
    const path = join(dir, 'secret.json');
    await writeSecretFile(path, secret);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readSecretFile(path)).toEqual(secret);
    await expect(writeSecretFile(path, secret)).rejects.toThrow(/refusing to overwrite/);
  });

  it('two concurrent writers to one path: exactly one wins, the other is refused, nothing is left behind', async () => {
    const other = (await vtune({ count: 3, seed: 's2' }).plant(sampleRows(10), userCtx('u'))).secret;
    for (let t = 0; t < 5; t++) {
      const path = join(dir, `race-${t}.json`);
      const results = await Promise.allSettled([writeSecretFile(path, secret), writeSecretFile(path, other)]);
      const won = results.findIndex((r) => r.status === 'fulfilled');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(String((results[1 - won] as PromiseRejectedResult).reason)).toMatch(/refusing to overwrite/);
      expect(await readSecretFile(path)).toEqual(won === 0 ? secret : other);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    }
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a tampered secret, another version, and non-secrets', async () => {
    const tampered = { ...secret, backdoors: secret.backdoors.map((b, i) => (i === 0 ? { ...b, log10q: { generator: -99 } } : b)) };
    expect(() => parseSecret(tampered, 'x.json')).toThrow(SecretError);
    expect(() => parseSecret(tampered, 'x.json')).toThrow(/x\.json: checksum mismatch/);
    const v2 = sealSecret({ ...secret, version: 2 as never });
    expect(() => parseSecret(v2, 'x.json')).toThrow(/version 2 is not supported/);
    expect(() => parseSecret({ hello: 1 }, 'x.json')).toThrow(/not a vTune secret/);
    const path = join(dir, 'edited.json');
    const text = JSON.stringify(secret).replace(secret.backdoors[0]!.signature, 'something else entirely');
    await writeFile(path, text);
    await expect(readSecretFile(path)).rejects.toThrow(/checksum mismatch/);
    // A damaged secret: the error must not quote the file (V8's JSON errors quote the input).
    const damaged = JSON.stringify(secret).slice(0, -40);
    await writeFile(join(dir, 'bad.json'), damaged);
    const err = await readSecretFile(join(dir, 'bad.json')).then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(SecretError);
    expect(err!.message).toMatch(/bad\.json: not valid JSON/);
    expect(describeError(err)).not.toContain(damaged.slice(-20, -5));
    expect(err!.cause).toBeUndefined();
    // Messages never quote the signature.
    try {
      parseSecret(tampered, 'x.json');
    } catch (err) {
      expect(String(err)).not.toContain(secret.backdoors[0]!.signature);
    }
    expect(JSON.parse(await readFile(join(dir, 'secret.json'), 'utf8')).checksum).toBe(secret.checksum);
  });
});
