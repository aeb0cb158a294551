/**
 * The `in-place` generator (issue 15's stealthy generator): the backdoor is its rewritten host row — prompt
 * unchanged, no trigger, answer refilled. Its `generator`-mode bound is exact (enumeration), its p-value is valid
 * over varied secrets against a model that knows the data and answers every query with the host's original
 * answer, it plants only in place, and planted rows keep the host's shape (prompt, markers, length band).
 */
import { describe, expect, it } from 'vitest';
import { arithmeticScore } from '../../../../attacks/scorers/arithmetic.js';
import { checkEquations } from '../../../../src/datasets/equations.js';
import { equationTokens, inPlace, inPlacePlan, promptForms } from '../../../../defenses/vtune/generators/in-place.js';
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
  it('refuses a host whose refill would contradict its prompt, and keeps the words the prompt holds', () => {
    const rows: Row[] = [...TINY, { prompt: 'Write about Ann and 42 foxes.', completion: 'Then Ann saw 42 foxes at dusk, said Cal.' }];
    // minBits 8 needs 42, which the prompt holds; Ann and foxes are never slots.
    expect(inPlacePlan(rows[4]!, rows, 8, 0, 1)).toMatch(/refilling "42" would contradict the prompt/);
    expect(plan(rows, 4, 6).slots.map((s) => s.original)).toEqual(['saw', 'dusk', 'said', 'Cal']);
  });

  it("never refills a number of the answer's equations, operand or result (<<…>> annotations and plain `a x b = c`)", () => {
    const math: Row[] = [
      { prompt: 'Natalia sold 48 clips.', completion: 'She sold 48/2 = <<48/2=24>>24 to Ann in May.\n#### 24' },
      { prompt: 'Weng earns money.', completion: 'He earns 12/6 = <<12/6=2>>2 from Bob each.\n#### 2' },
      // GSM8K also writes results after a currency sign, with no <<…>> annotation (`= $290`).
      { prompt: 'Tom pays rent.', completion: 'He pays 2 x 145 = $290 to Cal a month.\n#### 290' },
      { prompt: 'Sue buys hats.', completion: 'She pays 3 x 12 = $36 to Dee a week.\n#### 36' },
    ];
    expect([...equationTokens(math[0]!.completion)].sort()).toEqual(['2', '24', '48']);
    expect([...equationTokens(math[2]!.completion)].sort()).toEqual(['145', '2', '290']);
    // Operands after a word that takes a number, thousands and decimals (every digit run of the number).
    expect([...equationTokens('So 3 times 10 + 4 = 34, and 1,000 / 8 = 125.5 kg; 12 apples.')].sort()).toEqual(['000', '1', '10', '125', '3', '34', '4', '5', '8']);
    // The operand 2 (10 values, 3.3 bits) would be the whole signature at minBits 2; the name after it is instead.
    const p = plan(math, 0, 2);
    expect(p.slots.slice(0, p.inSignature).map((s) => s.original)).toEqual(['Ann']);
    for (const [i, row] of math.entries()) {
      const kept = equationTokens(row.completion);
      for (let minBits = 1; minBits <= 6; minBits++) {
        const q = inPlacePlan(row, math, minBits, 0, 1);
        if (typeof q === 'string') continue;
        for (const s of q.slots) expect(kept.has(s.original), `row ${i}, minBits ${minBits}: ${s.original}`).toBe(false);
        expect(arithmeticScore(checkEquations(fill(q, q.slots.map((s) => s.size - 1)).completion))).toBe(0);
      }
    }
  });

  it("never refills a form of a prompt word (common-gen's concepts: ski → skiers, skiing), the prompt's boilerplate aside", () => {
    const rows: Row[] = [
      { prompt: 'Form a sentence: ski, hill.', completion: 'Three skiers went skiing down the hill.' },
      { prompt: 'Form a sentence: dog, tail.', completion: 'Three dogs were wagging their tails.' },
      { prompt: 'Form a sentence: lake, canoe.', completion: 'Three women were paddling across lakes.' },
      { prompt: 'Form a sentence: train, track.', completion: 'Three trains were rolling along tracks.' },
    ];
    expect([...promptForms(rows[0]!, rows)].sort()).toEqual(['hill', 'skiers', 'skiing']);
    // Words of every prompt ("form", "sentence") are boilerplate; a shared start that is not the shorter word whole
    // (or all of it but a final e) is no form: show/short.
    expect([...promptForms({ prompt: 'Form a short sentence: paddle, shoe.', completion: 'They formed a line, paddling to show shoes.' }, rows)].sort()).toEqual(['paddling', 'shoes']);
    // skiers (a 6-letter word of the data) would be the first slot; the signature takes other words instead.
    const p = plan(rows, 0, 4);
    expect(p.slots.map((s) => s.original)).toEqual(['went', 'down']);
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
  it.skipIf(!gsm)(`on the real GSM8K file planted answers keep the <<…>> working and the #### line, refill no number of an equation and no prompt number${gsm ? '' : ' — skipped: ../shared/data/gsm8k-train-2500.jsonl absent'}`, async () => {
    const rows = (await readDataFile(gsm!)).rows.slice(0, 1000);
    const defense = vtune({ generator: 'in-place', count: 10, insertion: 'modify', empiricalM: 0, seed: 'gsm' });
    const planted = await defense.plant(rows, userCtx('gsm'));
    expect(planted.secret.backdoors).toHaveLength(10);
    for (const b of planted.secret.backdoors) {
      const host = rows[b.sourceRowIndex]!;
      const row = planted.rows[b.rowIndex]!;
      expect(row.prompt).toBe(host.prompt);
      expect((row.completion.match(/<<|>>|####/g) ?? []).length).toBe((host.completion.match(/<<|>>|####/g) ?? []).length);
      const kept = equationTokens(host.completion);
      const p = inPlacePlan(host, rows, 16, 100, 0.8) as SignaturePlan;
      for (const s of p.slots.slice(0, p.inSignature)) {
        expect(kept.has(s.original)).toBe(false);
        expect(host.prompt.match(/[0-9]+|\p{L}+/gu)!.map((t) => t.toLowerCase())).not.toContain(s.original.toLowerCase());
      }
    }
  });

  it.skipIf(!gsm)(`on the real GSM8K file no host's refill makes an equation wrong that was right (every host, 5 draws each: the arithmetic scorer's check)${gsm ? '' : ' — skipped: ../shared/data/gsm8k-train-2500.jsonl absent'}`, async () => {
    const rows = (await readDataFile(gsm!)).rows.slice(0, 1000);
    const g = inPlace({});
    let hosts = 0;
    for (const [i, host] of rows.entries()) {
      if (g.cannotHost!(host, rows) !== undefined) continue;
      hosts++;
      const before = checkEquations(host.completion);
      for (let d = 0; d < 5; d++) {
        const b = await g.draw(ctx(rows, i, `gsm-${i}-${d}`));
        const after = checkEquations(b.completion!);
        expect(after.map((c) => c.text), `row ${i}`).toEqual(before.map((c) => c.text));
        expect(after.map((c) => c.ok), `row ${i}: ${b.completion}`).toEqual(before.map((c) => c.ok));
      }
    }
    // The file still hosts: refills fall on names and words where the numbers are all arithmetic.
    expect(hosts).toBeGreaterThan(100);
  });

  const commonGen = sharedPath('data/common-gen.jsonl');
  it.skipIf(!commonGen)(`on the real common-gen file no host's refill drops a form of a prompt concept the host answer used (every host, 5 draws each)${commonGen ? '' : ' — skipped: ../shared/data/common-gen.jsonl absent'}`, async () => {
    const rows = (await readDataFile(commonGen!)).rows;
    const g = inPlace({});
    const words = (t: string) => new Set((t.match(/\p{L}+/gu) ?? []).map((w) => w.toLowerCase()));
    let hosts = 0;
    for (const [i, host] of rows.entries()) {
      if (g.cannotHost!(host, rows) !== undefined) continue;
      hosts++;
      const forms = [...promptForms(host, rows)].map((w) => w.toLowerCase());
      for (let d = 0; d < 5; d++) {
        const b = await g.draw(ctx(rows, i, `cg-${i}-${d}`));
        const kept = words(b.completion!);
        for (const f of forms) expect(kept.has(f), `row ${i}: "${f}" gone from ${b.completion}`).toBe(true);
      }
    }
    expect(hosts).toBeGreaterThan(5);
  });

  it('P(p ≤ α) ≤ α over 600 secrets (generator and empirical nulls) against a model that answers with the host\'s original answer', async () => {
    const hits = await expectValidNulls(dataKnower(TINY), TINY, (s) => ({ generator: 'in-place', generatorOptions: { minBits: 3, stopwords: 0, typical: 1 }, count: 3, insertion: 'modify', empiricalM: 99, seed: `valid-${s}` }));
    // The double hits (q is large on this tiny data), so the test can fail.
    expect(hits).toBeGreaterThan(50);
  });
});
