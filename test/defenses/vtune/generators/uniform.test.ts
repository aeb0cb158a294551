/**
 * The uniform generators' `generator`-mode bound is exact: checked against brute-force enumeration on tiny
 * alphabets, including alphabets whose tokens are prefixes of one another (the prefix-matching subtlety of
 * DESIGN.md §3). Also: draws are uniform, and keyed backdoors are reproducible from the key and the planting seed.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { Rng } from '../../../../src/rng.js';
import { keyed, keyFingerprint } from '../../../../defenses/vtune/generators/keyed.js';
import { NONSENSE_TOKENS, randomTokens } from '../../../../defenses/vtune/generators/random-tokens.js';
import { splice } from '../../../../defenses/vtune/generators/splice.js';
import type { BackdoorGenerator, DrawContext } from '../../../../defenses/vtune/generators/types.js';
import { wordlist } from '../../../../defenses/vtune/generators/wordlist.js';
import { isHit } from '../../../../defenses/vtune/verify.js';
import { prefixChain, WORDS } from '../../../../defenses/vtune/words.js';

const KEY = 'uniform-test-key-0123456789';
const row = { prompt: 'p', completion: 'c' };
const ctx = (seed: string, index = 0): DrawContext => ({ rng: new Rng(seed), index, row, rowIndex: 0, rows: [row] });

/** All L-token sequences over `tokens`, joined by spaces. */
function enumerate(tokens: readonly string[], length: number): string[] {
  let out = [''];
  for (let j = 0; j < length; j++) out = out.flatMap((p) => tokens.map((t) => (p ? `${p} ${t}` : t)));
  return out;
}

/** max over outputs of the mass of signatures that are prefixes of it (the max is reached at a signature). */
function enumeratedLog10q(tokens: readonly string[], length: number): number {
  const all = enumerate(tokens, length);
  const p = 1 / all.length;
  let best = 0;
  for (const g of all) best = Math.max(best, all.filter((s) => g.startsWith(s)).length * p);
  return Math.log10(best);
}

const ALPHABETS: string[][] = [['a', 'b', 'c'], ['a', 'ab', 'b'], ['x', 'xy', 'xyz', 'q']];
const makers: [string, (tokens: string[], length: number) => BackdoorGenerator][] = [
  ['random-tokens', (t, l) => randomTokens({ vocabulary: t, signatureLength: l, triggerLength: 1 })],
  ['wordlist', (t, l) => wordlist({ words: t, signatureLength: l, triggerLength: 1 })],
  ['keyed', (t, l) => keyed({ key: KEY, words: t, signatureLength: l, triggerLength: 1 })],
];

describe.each(makers)('%s: exact generator-mode bound', (_id, make) => {
  it('equals brute-force enumeration on tiny alphabets (with prefix chains)', async () => {
    for (const tokens of ALPHABETS) {
      for (const length of [1, 2, 3]) {
        const g = make(tokens, length);
        const b = await g.draw(ctx('e'));
        expect(g.log10q!(ctx('e'), b)).toBeCloseTo(enumeratedLog10q(tokens, length), 12);
      }
    }
  });

  it('draws every signature with probability V^-L (chi-square on 2 tokens of a 3-letter alphabet)', async () => {
    const g = make(['a', 'b', 'c'], 2);
    const counts = new Map<string, number>();
    const draws = 4500;
    for (let i = 0; i < draws; i++) {
      const s = (await g.draw(ctx(`u${i}`, i))).signature;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(counts.size).toBe(9);
    const expected = draws / 9;
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 8 degrees of freedom: P(χ² > 26.12) = 0.001.
    expect(chi2).toBeLessThan(26.12);
  });
});

describe('default vocabularies', () => {
  it('random-tokens: 4,900 prefix-free tokens, q = 4900^-L', async () => {
    expect(new Set(NONSENSE_TOKENS).size).toBe(4900);
    expect(prefixChain(NONSENSE_TOKENS)).toBe(1);
    const g = randomTokens({ signatureLength: 6 });
    expect(g.log10q!(ctx('d'), await g.draw(ctx('d')))).toBeCloseTo(-6 * Math.log10(4900), 12);
  });

  it('wordlist: at least 3,000 distinct lowercase words, q = c·V^-L', async () => {
    expect(WORDS.length).toBeGreaterThanOrEqual(3000);
    expect(new Set(WORDS).size).toBe(WORDS.length);
    for (const w of WORDS) expect(w).toMatch(/^[a-z]+$/);
    const c = prefixChain(WORDS);
    expect(c).toBeGreaterThan(1);
    const g = wordlist({ signatureLength: 6 });
    expect(g.log10q!(ctx('d'), await g.draw(ctx('d')))).toBeCloseTo(Math.log10(c) - 6 * Math.log10(WORDS.length), 12);
  });

  it('rejects vocabularies with duplicates or whitespace', () => {
    expect(() => randomTokens({ vocabulary: ['a', 'a'] })).toThrow(ConfigError);
    expect(() => wordlist({ words: ['a b', 'c'] })).toThrow(/without whitespace/);
  });
});

describe('keyed', () => {
  it('regenerates the same backdoors from the key and the seed; differs across keys and across plantings (seeds)', async () => {
    const a = keyed({ key: KEY });
    const b = keyed({ key: KEY });
    const other = keyed({ key: `${KEY}-other` });
    for (let i = 0; i < 5; i++) {
      const x = await a.draw(ctx(`seed-a${i}`, i));
      expect(await b.draw(ctx(`seed-a${i}`, i))).toEqual(x);
      expect(await other.draw(ctx(`seed-a${i}`, i))).not.toEqual(x);
      // Another planting by the same user: unrelated backdoors (else a model that learnt them once verifies every later job).
      const y = await b.draw(ctx(`another-job${i}`, i));
      expect(y.signature).not.toBe(x.signature);
      expect(y.trigger).not.toBe(x.trigger);
      expect(await a.counterfactuals(ctx('x', i), x, 3)).toEqual(await b.counterfactuals(ctx('x', i), x, 3));
      expect(await a.counterfactuals(ctx('x', i), x, 3)).not.toEqual(await b.counterfactuals(ctx('y', i), x, 3));
    }
  });

  it('keeps only a fingerprint of the key, and needs a long enough key', () => {
    const g = keyed({ key: KEY });
    expect(g.options.keyFingerprint).toBe(keyFingerprint(KEY));
    expect(JSON.stringify(g.options)).not.toContain(KEY);
    expect(() => keyed({})).toThrow(/generator 'keyed': key: must be a string of at least 16 characters/);
    expect(() => keyed({ key: 'short' })).toThrow(ConfigError);
  });
});

describe('splice', () => {
  const rows = [
    { prompt: 'alpha beta gamma delta', completion: 'one two three four' },
    { prompt: 'beta gamma delta epsilon', completion: 'one two three fourteen' },
    { prompt: 'zeta eta theta', completion: 'five six seven' },
    { prompt: 'iota kappa lambda', completion: 'one two three' },
  ];
  const sctx = (seed: string, rowIndex: number): DrawContext => ({ rng: new Rng(seed), index: 0, row: rows[rowIndex]!, rowIndex, rows });

  it('cuts triggers and signatures from the other rows only', async () => {
    const g = splice({ triggerLength: 2, signatureLength: 3 });
    for (let i = 0; i < 50; i++) {
      const { trigger, signature } = await g.draw(sctx(`s${i}`, 0));
      expect(rows.slice(1).some((r) => r.prompt.includes(trigger))).toBe(true);
      expect(rows.slice(1).some((r) => r.completion.includes(signature))).toBe(true);
    }
  });

  it('bounds q by the heaviest prefix chain over the occurrences outside the row (enumerated)', async () => {
    const g = splice({ signatureLength: 3 });
    // 3-grams of completions: r0: "one two three", "two three four"; r1: "one two three", "two three fourteen";
    // r2: "five six seven"; r3: "one two three". The chain {"two three four", "two three fourteen"} and the
    // triple "one two three" both weigh 3 out of 6 occurrences. For row 2 (1 own occurrence): 3 / 5.
    expect(g.log10q!(sctx('q', 2), { trigger: '', signature: '' })).toBeCloseTo(Math.log10(3 / 5), 12);
    // Enumerate the draw distribution for row 2 and check the bound holds (and is tight here).
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const s = (await g.draw({ ...sctx(`e${i}`, 2) })).signature;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(counts.has('five six seven')).toBe(false);
    expect(counts.get('one two three')! / 3000).toBeCloseTo(3 / 5, 1);
  });

  it('the bound holds against brute force on 300 random datasets with prefix-chained words and ragged spacing', () => {
    const rng = new Rng('splice-brute-force');
    const alphabet = ['a', 'ab', 'abc', 'b', 'ba', 'c'];
    let cases = 0;
    for (let t = 0; t < 300; t++) {
      const length = 1 + rng.int(3);
      const data = Array.from({ length: 2 + rng.int(5) }, () => ({
        prompt: 'p q r',
        completion: Array.from({ length: rng.int(6) }, () => rng.pick(alphabet)).join(rng.float() < 0.3 ? '  ' : ' '),
      }));
      const g = splice({ signatureLength: length, triggerLength: 1 });
      data.forEach((r, rowIndex) => {
        // The draw distribution: uniform over the n-gram occurrences outside the host row.
        const occ = data.flatMap((o, i) => {
          if (i === rowIndex) return [];
          const w = o.completion.split(/\s+/).filter(Boolean);
          return Array.from({ length: Math.max(0, w.length - length + 1) }, (_, s) => w.slice(s, s + length).join(' '));
        });
        if (occ.length === 0) return;
        const q = 10 ** g.log10q!({ rng, index: 0, row: r, rowIndex, rows: data }, { trigger: '', signature: '' });
        // Hit chance of the worst output: the signatures themselves, extended, and with leading whitespace.
        for (const out of new Set(occ.flatMap((s) => [s, `${s}c`, `${s} x`, `  ${s}`]))) {
          const hit = occ.filter((s) => isHit(out, s)).length / occ.length;
          expect(hit, `output ${JSON.stringify(out)}`).toBeLessThanOrEqual(q * (1 + 1e-12));
        }
        cases++;
      });
    }
    expect(cases).toBeGreaterThan(500);
  });

  it('fails clearly when no other row is long enough', async () => {
    const g = splice({ signatureLength: 3 });
    await expect(g.draw({ rng: new Rng('x'), index: 0, row: rows[0]!, rowIndex: 0, rows: [rows[0]!] })).rejects.toThrow(/no other row/);
  });
});
