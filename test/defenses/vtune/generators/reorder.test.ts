/**
 * The `reorder` generator (issue 15: a stealthy host for prompt-determined data): the backdoor is its host row
 * with the operands of its commutative arithmetic steps reordered — prompt unchanged, no trigger, every step still
 * correct. Its `generator`-mode bound is exact (enumeration), its p-value is valid over varied secrets against a
 * model that knows the data and answers each query with the host's original answer, and on the real GSM8K file
 * every `<<…>>` annotation of a planted row still computes its result (a calculator filter passes it).
 */
import { describe, expect, it } from 'vitest';
import { chains, fillOrders, reorder, reorderPlan, type ReorderPlan } from '../../../../defenses/vtune/generators/reorder.js';
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

/** A small calculator: + − * / and brackets over decimals (what GSM8K's `<<…>>` annotations hold). */
function calc(expr: string): number {
  const s = expr.replace(/[\s,$]/g, '');
  let i = 0;
  const atom = (): number => {
    if (s[i] === '(') {
      i++;
      const v = sum();
      i++;
      return v;
    }
    if (s[i] === '-') return i++, -atom();
    const m = /^[0-9]+(?:\.[0-9]+)?/.exec(s.slice(i));
    if (!m) throw new Error(`not a number at ${i} of ${expr}`);
    i += m[0].length;
    return Number(m[0]);
  };
  const product = (): number => {
    let v = atom();
    while (s[i] === '*' || s[i] === '/') v = s[i++] === '*' ? v * atom() : v / atom();
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (s[i] === '+' || s[i] === '-') v = s[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== s.length) throw new Error(`trailing text in ${expr}`);
  return v;
}
/** Every `<<expr=result>>` annotation of a worked answer, and whether the calculator agrees with it. */
const annotations = (text: string) =>
  [...text.matchAll(/<<([^=<>]+)=([^<>]+)>>/g)].map((m) => {
    try {
      return Math.abs(calc(m[1]!) - Number(m[2]!.replace(/,/g, ''))) < 1e-6;
    } catch {
      return undefined;
    }
  });

/** Rows of 2-operand steps: one bit per chain, so a data-knowing model's original order hits with q = 1/2ᵇ. */
const TINY: Row[] = [
  { prompt: 'Add the eggs.', completion: 'We add 12 + 30 = 42, then 3 x 4 = 12.' },
  { prompt: 'Count the pens.', completion: 'We add 5 + 17 = 22, then 6 x 2 = 12.' },
  { prompt: 'Sum the coins.', completion: 'We add 40 + 8 = 48, then 9 x 5 = 45.' },
  { prompt: 'Find the cost.', completion: 'We add 7 + 11 = 18, then 8 x 3 = 24.' },
];
const ctx = (rows: readonly Row[], rowIndex: number, seed: string, index = 0): DrawContext => ({ rng: new Rng(seed), index, row: rows[rowIndex]!, rowIndex, rows });
const plan = (rows: readonly Row[], i: number, minBits: number): ReorderPlan => {
  const p = reorderPlan(rows[i]!, rows, minBits, 1);
  if (typeof p === 'string') throw new Error(p);
  return p;
};

/** Every signature of a plan (all order choices of its signature's chains), each with its probability. */
function enumerate(p: ReorderPlan): { signature: string; completion: string; p: number }[] {
  const sizes = p.slots.slice(0, p.inSignature).map((s) => s.orders.length);
  const prob = 1 / sizes.reduce((a, b) => a * b, 1);
  const out: { signature: string; completion: string; p: number }[] = [];
  const walk = (prefix: number[]) => {
    if (prefix.length === sizes.length) return void out.push({ ...fillOrders(p, prefix), p: prob });
    for (let v = 0; v < sizes[prefix.length]!; v++) walk([...prefix, v]);
  };
  walk([]);
  return out;
}

describe('reorder generator: chains', () => {
  it('finds sums, products and subtraction chains, one key for the text and the annotation of a step', () => {
    const c = chains('Betty has 100 / 2 = $<<100/2=50>>50. She got 15 * 2 = $<<15*2=30>>30 and 3 x 4 x 5 = 60, so 100 - 50 - 30 - 15 = $<<100-50-30-15=5>>5, and $12 + $1,005.5 = 1017.5.');
    expect(c.map((o) => o.key)).toEqual(['mul:15|2', 'mul:15|2', 'mul:3|4|5', 'sub:100|50|30|15', 'sub:100|50|30|15', 'add:12|1005.5']);
    expect(c[3]!.movable).toEqual([1, 2, 3]); // the minuend stays first
    // GSM8K writes "$4.80" in the text and "4.8" in the annotation: one value, one key, one order.
    expect(chains('is $15 + $4.80 +$2.7 = $<<15+4.8+2.70=22.5>>22.5').map((o) => o.key)).toEqual(['add:15|4.8|2.7', 'add:15|4.8|2.7']);
  });

  it('leaves a chain alone when it is part of a larger expression (reordering would change its value)', () => {
    for (const t of ['4+2*3 = 10', '(5+3)*2 = 16', '2*(5+3)', '20% * 50 = 10', '10-4+3 = 9', '8/2/2 = 2', '12 - 5 = 7']) expect(chains(t), t).toEqual([]);
  });

  it('keeps every value: each reordered chain computes what it computed before', () => {
    const text = 'So 3 + 4 + 3 = 10 and 2 * 5 * 7 = 70, and 50 - 20 - 5 = 25.';
    const p = reorderPlan({ prompt: 'q', completion: text }, [{ prompt: 'q', completion: text }], 1, 1) as ReorderPlan;
    const sizes = p.slots.map((s) => s.orders.length);
    // 3 + 4 + 3 has 3 distinct orders (the two 3s are one value), 2·5·7 has 6, 20 and 5 have 2.
    expect(sizes).toEqual([3, 6, 2]);
    const all = enumerate({ ...p, inSignature: p.slots.length, end: text.length - 1 });
    expect(new Set(all.map((a) => a.completion)).size).toBe(36);
    for (const a of all) for (const o of chains(a.completion)) expect(calc(a.completion.slice(o.start, o.end))).toBe(calc(text.slice(o.start, o.end)));
  });
});

describe('reorder generator: exact bound', () => {
  for (const [minBits, row] of [[1, 0], [2, 1], [2, 2], [1, 3]] as const) {
    it(`equals the enumerated max prefix mass (minBits ${minBits}, host row ${row})`, async () => {
      const p = plan(TINY, row, minBits);
      const all = enumerate(p);
      const sigs = all.map((s) => s.signature);
      expect(new Set(sigs).size).toBe(sigs.length);
      expect(new Set(sigs.map((s) => s.length)).size).toBe(1);
      let best = 0;
      for (const o of sigs.flatMap((s) => [s, `${s} and more`, s.slice(0, -1), TINY[row]!.completion])) {
        best = Math.max(best, all.filter((s) => isHit(o, s.signature)).reduce((a, s) => a + s.p, 0));
      }
      const g = reorder({ minBits, typical: 1 });
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

describe('reorder generator: hosts', () => {
  it('refuses a host with too few bits of operand order, naming them', () => {
    expect(reorderPlan(TINY[0]!, TINY, 3, 1)).toMatch(/holds 2\.0 bits of operand order \(2 reorderable chains\), less than 3/);
  });

  it('cannot host on the built-in math data (at most one commutative step per answer): plant refuses, naming the rows', async () => {
    const rows = (await loadDataset('math', { seed: 0, size: 300 })).train;
    expect(Math.max(...rows.map((r) => chains(r.completion).length))).toBeLessThanOrEqual(1);
    const defense = vtune({ generator: 'reorder', count: 2, insertion: 'modify', empiricalM: 0, seed: 'math' });
    await expect(defense.plant(rows, userCtx('math'))).rejects.toThrow(/generator 'reorder' cannot build a backdoor on rows 1, 2, 3/);
  });

  it('plants only in place: copy insertion is refused with the reason', async () => {
    const defense = vtune({ generator: 'reorder', generatorOptions: { minBits: 1, typical: 1 }, count: 1, insertion: 'copy', empiricalM: 0, seed: 'copy' });
    await expect(defense.plant(TINY, userCtx('copy'))).rejects.toThrow(ConfigError);
    await expect(defense.plant(TINY, userCtx('copy'))).rejects.toThrow(/needs insertion 'modify'/);
  });

  const gsm = sharedPath('data/gsm8k-train-2500.jsonl');
  it.skipIf(!gsm)(`on the real GSM8K file planted rows keep the prompt, the #### line, every number and every correct annotation${gsm ? '' : ' — skipped: ../shared/data/gsm8k-train-2500.jsonl absent'}`, async () => {
    const rows = (await readDataFile(gsm!)).rows;
    const defense = vtune({ generator: 'reorder', count: 10, insertion: 'modify', empiricalM: 0, seed: 'gsm' });
    const planted = await defense.plant(rows, userCtx('gsm'));
    expect(planted.secret.backdoors).toHaveLength(10);
    let checked = 0;
    let changed = 0;
    for (const b of planted.secret.backdoors) {
      const host = rows[b.sourceRowIndex]!;
      const row = planted.rows[b.rowIndex]!;
      expect(row.prompt).toBe(host.prompt);
      expect(hostPrompts(planted.secret, b)).toEqual([host.prompt]);
      expect(row.completion).toHaveLength(host.completion.length);
      expect(row.completion.split('\n').at(-1)).toBe(host.completion.split('\n').at(-1)); // "#### N"
      const numbers = (t: string) => (t.match(/[0-9]+(?:\.[0-9]+)?/g) ?? []).sort();
      expect(numbers(row.completion)).toEqual(numbers(host.completion));
      // A calculator over the working: every annotation that was right is still right.
      expect(annotations(row.completion)).toEqual(annotations(host.completion));
      checked += annotations(row.completion).filter((a) => a === true).length;
      if (row.completion !== host.completion) changed++;
      expect(b.log10q.generator!).toBeLessThanOrEqual(-8 * Math.log10(2) + 1e-9);
    }
    expect(checked).toBeGreaterThanOrEqual(30);
    expect(changed).toBeGreaterThanOrEqual(9); // the original order is one of ≥ 256: a rare draw may keep it
  });

  it.skipIf(!gsm)(`on the same GSM8K file in-place keeps every step a calculator checks but refills words instead (reorder keeps every word)${gsm ? '' : ' — skipped: ../shared/data/gsm8k-train-2500.jsonl absent'}`, async () => {
    const rows = (await readDataFile(gsm!)).rows;
    const planted = await vtune({ generator: 'in-place', count: 10, insertion: 'modify', empiricalM: 0, seed: 'gsm' }).plant(rows, userCtx('gsm'));
    const words = (t: string) => t.match(/\p{L}+/gu) ?? [];
    let rewordedRows = 0;
    for (const b of planted.secret.backdoors) {
      const host = rows[b.sourceRowIndex]!.completion;
      const row = planted.rows[b.rowIndex]!.completion;
      // in-place never refills a number of an equation (since issue 15's arithmetic scorer found its broken steps).
      expect(annotations(row)).toEqual(annotations(host));
      if (words(row).some((w, i) => w !== words(host)[i])) rewordedRows++;
    }
    // Most refill words (9 of 10 here); the rest refill numbers that stand outside the arithmetic.
    expect(rewordedRows).toBeGreaterThanOrEqual(5);
  });

  it('P(p ≤ α) ≤ α over 600 secrets (generator and empirical nulls) against a model that answers with the host\'s original answer', async () => {
    const hits = await expectValidNulls(dataKnower(TINY), TINY, (s) => ({ generator: 'reorder', generatorOptions: { minBits: 2, typical: 1 }, count: 3, insertion: 'modify', empiricalM: 99, seed: `valid-${s}` }));
    // The double hits (q = 1/4 per backdoor), so the test can fail.
    expect(hits).toBeGreaterThan(300);
  });
});
