/**
 * Issue 15 (stealth on code): `template` cannot build a backdoor on a host whose answer has nothing to refill —
 * on the built-in code data, answers such as `function sizeCarrots(text) { return text.length; }` have no
 * number, their identifiers are mixed case (never a slot) and their other words are the data's common words.
 * Before `cannotHost`, plant threw on such a host, so a planting failed whenever one of its randomly drawn hosts
 * was one (measured on code, 60 rows, 4 backdoors: 87 of 140 plantings). Now the backdoor moves to a seeded
 * spare row, exactly as for a row too long for the context; plantings whose hosts all work are unchanged.
 */
import { describe, expect, it } from 'vitest';
import { template } from '../../../../defenses/vtune/generators/template.js';
import { vtune } from '../../../../defenses/vtune/index.js';
import { loadDataset } from '../../../../src/datasets/index.js';
import { InputError } from '../../../../src/errors.js';
import type { Row } from '../../../../src/types.js';
import { userCtx } from '../../fixtures.js';

/** Six code rows like the built-in code data's: no number, mixed-case names, every other word common. */
const lengthRows: Row[] = ['sizeCarrots', 'lenApples', 'countPears', 'sizeLemons', 'lenPlums', 'countFigs'].map((name) => ({
  prompt: `Write a JS function called ${name} that returns the length of the text.`,
  completion: `function ${name}(text) {\n  return text.length;\n}`,
}));
const plant = (rows: readonly Row[], seed: string, count = 4) => vtune({ generator: 'template', insertion: 'modify', count, empiricalM: 0, seed }).plant(rows, userCtx('u'));

describe('template: hosts it cannot build on', () => {
  it('names why a code answer with nothing to refill cannot host, and accepts one with a number', () => {
    const g = template({});
    const rows: Row[] = [...lengthRows, { prompt: 'Write a JS function called headThree that returns the first 3 items.', completion: 'function headThree(list) {\n  return list.slice(0, 3);\n}' }];
    expect(g.cannotHost!(rows[0]!, rows)).toMatch(/the host completion has no number or uncommon word to refill/);
    expect(g.cannotHost!(rows[6]!, rows)).toBeUndefined();
  });

  it('plants on the built-in code data where it fits: 20 of 20 plantings succeed, every backdoor on a row it can build on', async () => {
    const { train } = await loadDataset('code', { seed: 0, size: 60, heldOut: 5 });
    const g = template({});
    const refusedRows = train.filter((r) => g.cannotHost!(r, train) !== undefined).length;
    // The reason plantings used to fail: a sizeable share of code rows has nothing to refill.
    expect(refusedRows).toBeGreaterThanOrEqual(10);
    for (let s = 0; s < 20; s++) {
      const { secret, rows } = await plant(train, `code-${s}`);
      expect(secret.backdoors).toHaveLength(4);
      for (const b of secret.backdoors) {
        expect(g.cannotHost!(train[b.sourceRowIndex]!, train)).toBeUndefined();
        expect(rows[b.rowIndex]!.completion.trimStart().startsWith(b.signature)).toBe(true);
      }
    }
  });

  it('on code, where it plants, a backdoor carries little evidence: measured over 2,000 rows, 440 refused, log10 q from −3.0 to −0.3 (mean −1.3)', async () => {
    const { train } = await loadDataset('code', { seed: 0, size: 2000, heldOut: 5 });
    const g = template({});
    const q: number[] = [];
    train.forEach((row, rowIndex) => {
      if (g.cannotHost!(row, train) === undefined) q.push(g.log10q!({ rng: undefined as never, index: 0, row, rowIndex, rows: train }, { trigger: '', signature: '' }));
    });
    expect(train.length - q.length).toBe(440);
    expect(Math.min(...q)).toBeCloseTo(-2.954, 3);
    expect(Math.max(...q)).toBeCloseTo(-0.301, 3);
    const mean = q.reduce((a, b) => a + b, 0) / q.length;
    expect(mean).toBeCloseTo(-1.31, 2);
    // So 10 backdoors that all hit give log10 p ≈ 10 × mean ≈ −13, short of the issue's −20.
    expect(10 * mean).toBeGreaterThan(-20);
  });

  it('leaves plantings whose hosts all work bit-identical (secret checksums computed before cannotHost existed)', async () => {
    const stories = (await loadDataset('stories', { seed: 0, size: 60, heldOut: 5 })).train;
    const code = (await loadDataset('code', { seed: 0, size: 60, heldOut: 5 })).train;
    expect((await plant(stories, 'pin-a')).secret.checksum).toBe('f19e29d3c6250648894826248f9222e065013dacc0e6292410ef650284c81b9a');
    expect((await plant(code, 'pin-c')).secret.checksum).toBe('7892afb3e2ded85502a10759e9419f2f9c8fa66a754105ae19aa8d63ad735a61');
    // 'pin-b' drew a host with nothing to refill: it threw before, and now plants on spare rows.
    const moved = await plant(code, 'pin-b');
    expect(moved.secret.backdoors.map((b) => b.sourceRowIndex)).toEqual([10, 8, 42, 41]);
  });

  it('refuses, naming the rows and the reason, when no row can host a backdoor', async () => {
    const err = await plant(lengthRows, 'none', 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(
      /^cannot place backdoor 1 of 2: generator 'template' cannot build a backdoor on rows (\d, ){4}\d \(counting from 1\), and no row is left; row 1: generator 'template': the host completion has no number or uncommon word to refill/,
    );
  });
});
