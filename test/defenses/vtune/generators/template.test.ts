/**
 * The `template` generator: its `generator`-mode bound is exact (enumeration of every signature of small cases,
 * with the prefix-matching rule of DESIGN.md §3), its draws are uniform, its p-value is valid against models that
 * never saw the backdoors — including one that knows the template and answers with the host's original
 * completion — and its rows keep the data's shape (the `format` scorer cannot tell them apart, while it finds
 * wordlist rows).
 */
import { describe, expect, it } from 'vitest';
import { format } from '../../../../attacks/scorers/format.js';
import { fill, pieces, planSignature, template } from '../../../../defenses/vtune/generators/template.js';
import type { DrawContext } from '../../../../defenses/vtune/generators/types.js';
import { vtune } from '../../../../defenses/vtune/index.js';
import { isHit } from '../../../../defenses/vtune/verify.js';
import { readDataFile } from '../../../../src/datasets/files.js';
import { InputError } from '../../../../src/errors.js';
import { Rng } from '../../../../src/rng.js';
import { sharedPath } from '../../../../src/shared-path.js';
import type { Model, Row } from '../../../../src/types.js';
import { aurocOf, fakeContext, fakeLm } from '../../../attacks/fakes.js';
import { userCtx } from '../../fixtures.js';
import { expectValidNulls } from './null-validity.js';

/** A tiny dataset with small value sets: names Ann/Bob/Cal/Dee (cap:3), items pens/cups/hats (lower:4). */
const TINY: Row[] = [
  { prompt: 'Ann has 3 pens. How many?', completion: 'Ann got 7 pens, Bob got 4 cups.' },
  { prompt: 'Bob has 2 cups. How many?', completion: 'Bob got 5 cups, Cal got 7 hats.' },
  { prompt: 'Cal has 6 hats. How many?', completion: 'Cal got 1 hats, Dee got 9 pens.' },
  { prompt: 'Dee has 8 pens. How many?', completion: 'Dee got 3 pens, Ann got 2 cups.' },
];
const ctx = (rows: readonly Row[], rowIndex: number, seed: string, index = 0): DrawContext => ({ rng: new Rng(seed), index, row: rows[rowIndex]!, rowIndex, rows });

/** Every signature of a plan (all value assignments of the slots in the signature), with its probability. */
function enumerateSignatures(plan: ReturnType<typeof planSignature>): { signature: string; p: number }[] {
  const sizes = plan.slots.slice(0, plan.inSignature).map((s) => s.size);
  const out: { signature: string; p: number }[] = [];
  const p = 1 / sizes.reduce((a, b) => a * b, 1);
  const rest = plan.slots.slice(plan.inSignature).map(() => 0);
  const walk = (prefix: number[]) => {
    if (prefix.length === sizes.length) return out.push({ signature: fill(plan, [...prefix, ...rest]).signature, p });
    for (let v = 0; v < sizes[prefix.length]!; v++) walk([...prefix, v]);
  };
  walk([]);
  return out;
}

describe('template generator: exact bound', () => {
  for (const refill of ['context', 'shape'] as const)
  for (const [minBits, rowIndex] of [[1, 0], [4, 1], [6, 2], [8, 3], [12, 0]] as const) {
    it(`equals the enumerated max prefix mass (${refill} refills, minBits ${minBits}, host row ${rowIndex})`, async () => {
      const plan = planSignature(TINY[rowIndex]!, TINY, minBits, 0, refill);
      const all = enumerateSignatures(plan);
      const sigs = all.map((s) => s.signature);
      expect(new Set(sigs).size).toBe(sigs.length); // one signature per assignment
      if (refill === 'shape') expect(new Set(sigs.map((s) => s.length)).size).toBe(1); // equal lengths ⇒ prefix-free
      // Prefix-free (context values differ in length: the separator after the last slot is part of the signature).
      const sorted = [...sigs].sort();
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.startsWith(sorted[i - 1]!), `${sorted[i - 1]} ⊑ ${sorted[i]}`).toBe(false);
      // Outputs: every signature, each extended, and each cut short; the bound is the largest total mass of the
      // signatures that are prefixes of one output.
      // (Large cases: every 40th signature as an output, so the check stays quadratic in a few hundred.)
      const step = sigs.length > 400 ? 40 : 1;
      const outputs = sigs.filter((_, i) => i % step === 0).flatMap((s) => [s, `${s} and more`, s.slice(0, -1)]);
      let best = 0;
      for (const o of outputs) best = Math.max(best, all.filter((s) => isHit(o, s.signature)).reduce((a, s) => a + s.p, 0));
      const g = template({ minBits, stopwords: 0, refill });
      const c = ctx(TINY, rowIndex, `tiny-${minBits}`);
      const b = await g.draw(c);
      expect(sigs).toContain(b.signature);
      expect(b.completion!.startsWith(b.signature)).toBe(true);
      expect(g.log10q!(c, b)).toBeCloseTo(Math.log10(best), 12);
      expect(all.reduce((a, s) => a + s.p, 0)).toBeCloseTo(1, 9);
    });
  }

  it('context refills: values of different lengths from the same surroundings, still prefix-free and exact', async () => {
    // Names of 3 to 7 letters; "a ___ named" holds dog / kitten / parrot in the data.
    const rows: Row[] = [
      { prompt: 'Tell a story.', completion: 'There was a dog named Ann. Ann met Roberta at the park.' },
      { prompt: 'Tell a tale.', completion: 'There was a kitten named Bo. Bo met Cal at the lake.' },
      { prompt: 'Tell one.', completion: 'There was a parrot named Deirdre. Deirdre met Ann at the farm.' },
    ];
    const plan = planSignature(rows[0]!, rows, 6, 0, 'context');
    const inSig = plan.slots.slice(0, plan.inSignature);
    expect(inSig.map((s) => s.original)).toContain('dog');
    const all = enumerateSignatures(plan);
    const sigs = all.map((x) => x.signature);
    expect(new Set(sigs.map((x) => x.length)).size).toBeGreaterThan(1); // lengths really differ
    const sorted = [...sigs].sort();
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.startsWith(sorted[i - 1]!)).toBe(false);
    const outputs = sigs.flatMap((x) => [x, `${x}and more`, x.slice(0, -1)]);
    let best = 0;
    for (const o of outputs) best = Math.max(best, all.filter((x) => isHit(o, x.signature)).reduce((a, x) => a + x.p, 0));
    expect(plan.log10q).toBeCloseTo(Math.log10(best), 12);
    // Every occurrence alike: "Ann" (a slot of the signature here) refilled the same way both times.
    const name = plan.slots.findIndex((s) => s.original === 'Ann');
    expect(name).toBeGreaterThanOrEqual(0);
    expect(name).toBeLessThan(plan.inSignature);
    const values = plan.slots.map((s) => Math.max(0, [...Array(s.size).keys()].findIndex((i) => s.value(i) !== s.original)));
    const { completion } = fill(plan, values);
    // dog → kitten (first of [dog, kitten, parrot] that differs), Ann → Cal (names of ≥ 3 letters: Ann, Cal, …), both
    // times; "There was a" is the same in every row: a constant, never refilled.
    expect(completion).toMatch(/^There was a kitten named Cal\. Cal /);
  });

  it('refills every occurrence of a slot alike and keeps everything else', async () => {
    const row = { prompt: 'Natalia sold clips to 48 friends.', completion: 'Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72' };
    const rows = [row, { prompt: 'x', completion: 'Weng sold 12 clips.' }, { prompt: 'y', completion: 'Betty sold 31 clips.' }];
    const plan = planSignature(row, rows, 12, 0);
    // 2, 24 and 72 are not quoted from the prompt (48 and Natalia are): they are refilled, in order of first
    // occurrence, until 12 bits (2: 10 values, 24 and 72: 90 each).
    expect(plan.slots.map((s) => s.original)).toEqual(['2', '24', '72']);
    expect(plan.inSignature).toBe(3);
    const { completion, signature } = fill(plan, [0, 0, 89]);
    expect(completion).toBe('Natalia sold 48/0 = <<48/0=10>>10 clips in May.\n#### 99');
    expect(signature).toBe(completion);
    expect(plan.log10q).toBeCloseTo(-1 - 2 * Math.log10(90), 12);
  });

  it('draws each signature with probability Π 1/|Vⱼ| (chi-square over 3,000 draws)', async () => {
    const g = template({ minBits: 4, stopwords: 0 });
    const plan = planSignature(TINY[1]!, TINY, 4, 0, 'context');
    const k = enumerateSignatures(plan).length;
    expect(k).toBeGreaterThan(3);
    const counts = new Map<string, number>();
    const draws = 3000;
    for (let i = 0; i < draws; i++) {
      const s = (await g.draw(ctx(TINY, 1, `u${i}`, i))).signature;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(counts.size).toBe(k);
    const e = draws / k;
    const chi2 = [...counts.values()].reduce((a, c) => a + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(k - 1 + 4 * Math.sqrt(2 * (k - 1))); // far beyond the 0.1 % point would fail
  });

  it('refuses a host completion with nothing to refill, saying why', () => {
    const rows = [{ prompt: 'a', completion: 'the and of' }, { prompt: 'b', completion: 'x y' }];
    // Every word is among the 100 most common ones, and there is no number.
    expect(() => planSignature(rows[0]!, rows, 32, 100)).toThrow(InputError);
    expect(() => planSignature(rows[0]!, rows, 32, 100)).toThrow(/no number or uncommon word to refill/);
  });
});

describe('template generator: valid p-values against models that never saw the backdoors', () => {
  /** A model that knows the data but not the secret: answers every query with the host row's original completion. */
  function templateKnower(rows: readonly Row[]): Model {
    return {
      id: 'double:template-knower',
      capabilities: new Set(['generate']),
      async generate(prompts) {
        return prompts.map((q) => rows.find((r) => q.includes(r.prompt))?.completion ?? '');
      },
    };
  }

  it('P(p ≤ α) ≤ α over 600 secrets under the generator and empirical nulls (hits are Bernoulli(qᵢ) exactly)', async () => {
    const hits = await expectValidNulls(templateKnower(TINY), TINY, (s) => ({ generator: 'template', generatorOptions: { minBits: 3, stopwords: 0 }, count: 4, insertion: 'modify', placement: 'prefix', empiricalM: 99, seed: `valid-${s}` }));
    // The double does hit (q is large here), so the test is not vacuous.
    expect(hits).toBeGreaterThan(50);
  });
});

describe('template generator: stealth', () => {
  const gsm = sharedPath('data/gsm8k-train-2500.jsonl');
  it.skipIf(!gsm)(`on the real GSM8K file the format scorer cannot tell template rows apart (pooled AUROC ≤ 0.65 over 10 secrets) but finds wordlist rows${gsm ? '' : ' — skipped: ../shared/data/gsm8k-train-2500.jsonl absent'}`, async () => {
    const rows = (await readDataFile(gsm!)).rows.slice(0, 1000);
    const auc: Record<string, number[]> = { template: [], wordlist: [] };
    for (let s = 0; s < 10; s++) {
      for (const generator of ['template', 'wordlist'] as const) {
        // 5 backdoors in 1,000 rows (0.5 %), planted in place (a copy would be a near-duplicate of its host).
        const defense = vtune({ generator, count: 5, insertion: 'modify', empiricalM: 0, seed: `stealth-${s}` });
        const planted = await defense.plant(rows, userCtx(`stealth-${s}`));
        const mask = defense.backdoorMask(planted.secret, planted.rows.length);
        const scores = (await format().score(planted.rows, fakeContext(fakeLm(), 'f'))).scores;
        auc[generator]!.push(aurocOf(scores, mask));
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(auc.template!)).toBeLessThanOrEqual(0.65);
    expect(mean(auc.wordlist!)).toBeGreaterThan(0.95);
  });

  it.skipIf(!gsm)(`on the real GSM8K file, planted answers keep the <<…>> working and the #### line, and change only the signature's slots, with q ≤ 2^-32${gsm ? '' : ' — skipped: ../shared/data/gsm8k-train-2500.jsonl absent'}`, async () => {
    const { rows } = await readDataFile(gsm!);
    const g = template();
    let reached = 0;
    for (let i = 0; i < 20; i++) {
      const host = (i * 97) % rows.length;
      const c = ctx(rows, host, `gsm-${i}`, i);
      const b = await g.draw(c);
      const original = rows[host]!.completion;
      expect(b.completion).not.toBe(original);
      // Past the signature the host's answer is unchanged, except later occurrences of a refilled slot.
      const plan = planSignature(rows[host]!, rows, 32, 100, 'context');
      const refilled = new Set(plan.slots.slice(0, plan.inSignature).map((s) => s.original));
      const got = pieces(b.completion!);
      expect(got).toHaveLength(plan.pieces.length);
      plan.pieces.forEach((p, k) => {
        if (k > plan.lastPiece && !refilled.has(p.text)) expect(got[k]!.text).toBe(p.text);
      });
      expect(b.completion!.match(/<<|>>|####/g)).toEqual(original.match(/<<|>>|####/g));
      expect(b.completion!.split('\n').length).toBe(original.split('\n').length);
      const q = g.log10q!(c, b);
      // minBits 32 is reached unless the answer has too little to refill (then q is exact but weaker).
      if (plan.slots.reduce((a, s) => a + Math.log2(s.size), 0) >= 32) {
        expect(q).toBeLessThanOrEqual(-32 * Math.log10(2) + 1e-9);
        reached++;
      }
      expect(b.trigger.length).toBeGreaterThan(0);
      expect(rows[host]!.prompt).not.toContain(b.trigger);
    }
    // The q ≤ 2^-32 check above is conditional: it must have run for most answers, or the title claims nothing.
    expect(reached).toBeGreaterThanOrEqual(10);
  });
});
