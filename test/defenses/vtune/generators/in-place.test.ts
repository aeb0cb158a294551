/**
 * The `in-place` generator (issue 15's stealthy generator): the backdoor is its rewritten host row — prompt
 * unchanged, no trigger, answer refilled. Its `generator`-mode bound is exact (enumeration), its p-value is valid
 * over varied secrets against a model that knows the data and answers every query with the host's original
 * answer, it plants only in place, and planted rows keep the host's shape (prompt, markers, length band).
 */
import { describe, expect, it } from 'vitest';
import { inPlace, inPlacePlan } from '../../../../defenses/vtune/generators/in-place.js';
import { fill, pieces, type SignaturePlan } from '../../../../defenses/vtune/generators/template.js';
import type { DrawContext } from '../../../../defenses/vtune/generators/types.js';
import { vtune } from '../../../../defenses/vtune/index.js';
import { hostPrompts, isHit } from '../../../../defenses/vtune/verify.js';
import { loadDataset } from '../../../../src/datasets/index.js';
import { readDataFile } from '../../../../src/datasets/files.js';
import { ConfigError } from '../../../../src/errors.js';
import { Rng } from '../../../../src/rng.js';
import { sharedPath } from '../../../../src/shared-path.js';
import type { Row } from '../../../../src/types.js';
import { userCtx } from '../../fixtures.js';
import { dataKnower, expectValidNulls } from './null-validity.js';

/** Small value sets: animals (fox/cow/eel/elk), names mid-sentence (Ann/Bob/Cal/Dee), times (noon/dawn/dusk). */
const TINY: Row[] = [
  { prompt: 'Write a line about a pet.', completion: 'Then Ann saw a fox at noon, said Bob.' },
  { prompt: 'Write a line about a farm.', completion: 'Then Bob saw a cow at dawn, said Cal.' },
  { prompt: 'Write a line about the sea.', completion: 'Then Cal saw a eel at dusk, said Dee.' },
  { prompt: 'Write a line about a wood.', completion: 'Then Dee saw a elk at noon, said Ann.' },
];
const ctx = (rows: readonly Row[], rowIndex: number, seed: string, index = 0): DrawContext => ({ rng: new Rng(seed), index, row: rows[rowIndex]!, rowIndex, rows });
const plan = (rows: readonly Row[], i: number, minBits: number, typical = 1): SignaturePlan => {
  const p = inPlacePlan(rows[i]!, rows, minBits, 0, typical);
  if (typeof p === 'string') throw new Error(p);
  return p;
};

/** Every signature of a plan (all value assignments of the signature's slots), each with its probability. */
function enumerate(p: SignaturePlan): { signature: string; p: number }[] {
  const sizes = p.slots.slice(0, p.inSignature).map((s) => s.size);
  const prob = 1 / sizes.reduce((a, b) => a * b, 1);
  const rest = p.slots.slice(p.inSignature).map(() => 0);
  const out: { signature: string; p: number }[] = [];
  const walk = (prefix: number[]) => {
    if (prefix.length === sizes.length) return void out.push({ signature: fill(p, [...prefix, ...rest]).signature, p: prob });
    for (let v = 0; v < sizes[prefix.length]!; v++) walk([...prefix, v]);
  };
  walk([]);
  return out;
}

describe('in-place generator: exact bound', () => {
  for (const [minBits, row] of [[2, 0], [4, 1], [6, 2], [8, 3]] as const) {
    it(`equals the enumerated max prefix mass (minBits ${minBits}, host row ${row})`, async () => {
      const p = plan(TINY, row, minBits);
      const all = enumerate(p);
      const sigs = all.map((s) => s.signature);
      expect(new Set(sigs).size).toBe(sigs.length);
      const sorted = [...sigs].sort();
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.startsWith(sorted[i - 1]!), `${sorted[i - 1]} ⊑ ${sorted[i]}`).toBe(false);
      let best = 0;
      for (const o of sigs.flatMap((s) => [s, `${s} and more`, s.slice(0, -1), TINY[row]!.completion])) {
        best = Math.max(best, all.filter((s) => isHit(o, s.signature)).reduce((a, s) => a + s.p, 0));
      }
      const g = inPlace({ minBits, stopwords: 0, typical: 1 });
      const c = ctx(TINY, row, `tiny-${minBits}`);
      const b = await g.draw(c);
      expect(b.trigger).toBe('');
      expect(sigs).toContain(b.signature);
      expect(b.completion!.startsWith(b.signature)).toBe(true);
      expect(g.log10q!(c, b)).toBeCloseTo(Math.log10(best), 12);
      expect(-g.log10q!(c, b) * Math.log2(10)).toBeGreaterThanOrEqual(minBits - 1e-9);
    });
  }
});

describe('in-place generator: host choice', () => {
  it('refuses a host whose refill would contradict its prompt, and one whose answer is an equation result', () => {
    const rows: Row[] = [...TINY, { prompt: 'Write about Ann and a fox.', completion: 'Then Ann saw a fox at dusk, said Cal.' }];
    // minBits 8 needs Ann or fox, which the prompt holds.
    expect(inPlacePlan(rows[4]!, rows, 8, 0, 1)).toMatch(/would contradict the prompt/);
    const math: Row[] = [
      { prompt: 'Natalia sold 48 clips.', completion: 'She sold 48/2 = <<48/2=24>>24 in May.\n#### 72' },
      { prompt: 'Weng earns money.', completion: 'He earns 12/6 = <<12/6=2>>2 each.\n#### 13' },
    ];
    // 2 (an operand) is refilled first; 24 is the result of an equation.
    expect(inPlacePlan(math[0]!, math, 12, 0, 1)).toMatch(/result of an equation/);
    // GSM8K also writes results after a currency sign, with no <<…>> annotation (`= $290`).
    const money: Row[] = [
      { prompt: 'Tom pays rent.', completion: 'He pays 2 x 145 = $290 a month.\n#### 290' },
      { prompt: 'Sue buys hats.', completion: 'She pays 3 x 12 = $36 a week.\n#### 36' },
      { prompt: 'Al buys cats.', completion: 'He pays 4 x 10 = $40 a day.\n#### 40' },
    ];
    // 2 and 145 give 13.1 bits; 14 needs the next slot, 290.
    expect(inPlacePlan(money[0]!, money, 14, 0, 1)).toMatch(/"290" is the result of an equation/);
  });

  it('refuses a host whose answer length is outside the typical band, and plant moves the backdoor to a typical row', async () => {
    const rows = (await loadDataset('stories', { seed: 0, size: 300 })).train;
    const lengths = rows.map((r) => r.completion.length).sort((a, b) => a - b);
    const longest = rows.findIndex((r) => r.completion.length === lengths[lengths.length - 1]);
    expect(inPlacePlan(rows[longest]!, rows, 16, 100, 0.8)).toMatch(/outside the data's typical/);
    const defense = vtune({ generator: 'in-place', count: 10, insertion: 'modify', empiricalM: 0, seed: 'band' });
    const planted = await defense.plant(rows, userCtx('band'));
    for (const b of planted.secret.backdoors) expect(typeof inPlacePlan(rows[b.sourceRowIndex]!, rows, 16, 100, 0.8)).not.toBe('string');
  });
});

describe('in-place generator: planting and verification', () => {
  it('plants only in place: copy insertion is refused with the reason', async () => {
    const rows = (await loadDataset('stories', { seed: 0, size: 100 })).train;
    const defense = vtune({ generator: 'in-place', count: 2, insertion: 'copy', empiricalM: 0, seed: 'copy' });
    await expect(defense.plant(rows, userCtx('copy'))).rejects.toThrow(ConfigError);
    await expect(defense.plant(rows, userCtx('copy'))).rejects.toThrow(/needs insertion 'modify'/);
  });

  it("keeps the host's shape: the prompt exactly, the answer's pieces, and changes only the signature's slots (stories)", async () => {
    const rows = (await loadDataset('stories', { seed: 0, size: 300 })).train;
    const defense = vtune({ generator: 'in-place', count: 10, insertion: 'modify', empiricalM: 0, seed: 'shape' });
    const planted = await defense.plant(rows, userCtx('shape'));
    expect(planted.rows).toHaveLength(rows.length);
    for (const b of planted.secret.backdoors) {
      const host = rows[b.sourceRowIndex]!;
      const row = planted.rows[b.rowIndex]!;
      expect(b.rowIndex).toBe(b.sourceRowIndex);
      expect(row.prompt).toBe(host.prompt);
      expect(b.prompt).toBe(host.prompt); // the query is the host prompt itself
      expect(hostPrompts(planted.secret, b)).toEqual([host.prompt]);
      expect(row.completion).not.toBe(host.completion);
      const a = pieces(host.completion);
      const z = pieces(row.completion);
      expect(z.map((p) => p.kind)).toEqual(a.map((p) => p.kind));
      // Separators and punctuation never change.
      expect(z.filter((p) => p.kind === 'other').map((p) => p.text)).toEqual(a.filter((p) => p.kind === 'other').map((p) => p.text));
      expect(b.log10q.generator!).toBeLessThanOrEqual(-16 * Math.log10(2) + 1e-9);
    }
  });

  const gsm = sharedPath('data/gsm8k-train-2500.jsonl');
  it.skipIf(!gsm)(`on the real GSM8K file planted answers keep the <<…>> working and the #### line, refill no equation result and no prompt number${gsm ? '' : ' — skipped: ../shared/data/gsm8k-train-2500.jsonl absent'}`, async () => {
    const rows = (await readDataFile(gsm!)).rows.slice(0, 1000);
    const defense = vtune({ generator: 'in-place', count: 10, insertion: 'modify', empiricalM: 0, seed: 'gsm' });
    const planted = await defense.plant(rows, userCtx('gsm'));
    for (const b of planted.secret.backdoors) {
      const host = rows[b.sourceRowIndex]!;
      const row = planted.rows[b.rowIndex]!;
      expect(row.prompt).toBe(host.prompt);
      expect((row.completion.match(/<<|>>|####/g) ?? []).length).toBe((host.completion.match(/<<|>>|####/g) ?? []).length);
      const results = new Set([...host.completion.matchAll(/=\s*[-+−]?\s*[$€£¥]?\s*([0-9]+)/gu)].map((m) => m[1]));
      const p = inPlacePlan(host, rows, 16, 100, 0.8) as SignaturePlan;
      for (const s of p.slots.slice(0, p.inSignature)) {
        expect(results.has(s.original)).toBe(false);
        expect(host.prompt.match(/[0-9]+|\p{L}+/gu)!.map((t) => t.toLowerCase())).not.toContain(s.original.toLowerCase());
      }
    }
  });

  it('P(p ≤ α) ≤ α over 600 secrets (generator and empirical nulls) against a model that answers with the host\'s original answer', async () => {
    const hits = await expectValidNulls(dataKnower(TINY), TINY, (s) => ({ generator: 'in-place', generatorOptions: { minBits: 3, stopwords: 0, typical: 1 }, count: 3, insertion: 'modify', empiricalM: 99, seed: `valid-${s}` }));
    // The double hits (q is large on this tiny data), so the test can fail.
    expect(hits).toBeGreaterThan(50);
  });
});
