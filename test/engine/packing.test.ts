// The packed training layout (transformer.ts Packing) and the counted training work (train.ts trainWork):
// which positions are kept, how weight-gradient sums keep the padded GEMM K blocks, how long each row's
// attention runs, and the padded/packed counts of a small fine-tune worked out by hand.
import { describe, expect, it } from 'vitest';
import { LlamaModel, fineTune } from '../../src/engine/index.js';
import { trainWork } from '../../src/engine/train.js';
import { effectiveLength, packRows } from '../../src/engine/transformer.js';
import type { LlamaConfig } from '../../src/engine/types.js';

describe('packRows', () => {
  it('keeps each row up to its last non-zero loss weight', () => {
    expect(effectiveLength([0, 0, 1, 0, 0])).toBe(3);
    expect(effectiveLength([0, -0.5, 0])).toBe(2);
    expect(effectiveLength([1, 1, 1])).toBe(3);
    expect(effectiveLength([0, 0])).toBe(0);
  });

  it('groups packed positions by the padded GEMM K block (256 positions) they came from', () => {
    // Padded: row 0 at 0…299, row 1 at 300…599. Row 0 keeps 270 positions (padded 0…269: blocks 0 and 1),
    // row 1 keeps 250 (padded 300…549: blocks 1 and 2); a row of block 1 spans both rows.
    const p = packRows(2, 300, [270, 250], [5, 6, 7, 269, 270, 519], 4);
    expect(p.N).toBe(520);
    expect(p.segs).toEqual([0, 256, 256, 14 + 212, 482, 38]);
    // Loss rows: packed 5, 6, 7 (padded block 0), 269 (block 1), 270 (padded 300: block 1), 519 (padded 549: block 2).
    expect(p.lossSegs).toEqual([0, 3, 3, 2, 5, 1]);
    expect(p.lossRuns).toEqual([5, 0, 3, 269, 3, 2, 519, 5, 1]);
    expect(p.L).toBe(6);
  });

  it("gives each row an attention length of whole 16-query blocks, at most the padded length, and skips rows without loss", () => {
    const p = packRows(4, 40, [17, 0, 39, 16], [0], 2);
    expect(p.rows.map((r) => r.tRow)).toEqual([32, 0, 40, 16]);
    expect(p.rows.map((r) => r.off)).toEqual([0, 17, 17, 56]);
    expect(p.rows.map((r) => r.att)).toEqual([0, 32, 32, 72]);
    expect(p.rows.map((r) => r.probs)).toEqual([0, 2 * 32 * 32, 2 * 32 * 32, 2 * (32 * 32 + 40 * 40)]);
    expect(p.S).toBe(88);
    expect(() => packRows(1, 10, [11], [], 2)).toThrow(/more than its padded length/);
  });
});

describe('trainWork', () => {
  const cfg: LlamaConfig = { vocabSize: 32, dim: 16, nLayers: 1, nHeads: 2, nKvHeads: 1, hiddenDim: 24, contextLength: 32, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true };

  it('counts padded and packed positions, loss rows and multiply-adds of a fine-tune', async () => {
    // Lengths 5, 9 and 3; weights: row 0 learns tokens 2…3 (its last weight is 0), row 1 learns 4…8, row 2 nothing.
    const examples = [
      { tokens: [1, 2, 3, 4, 5], lossWeights: [0, 1, 1, 0] },
      { tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9], lossWeights: [0, 0, 0, 1, 1, 1, 1, 1] },
      { tokens: [1, 2, 3], lossWeights: [0, 0] },
    ];
    const before = trainWork();
    await fineTune(LlamaModel.create(cfg, { seed: 1 }), examples, { epochs: 2, learningRate: 1e-3, batchSize: 3, seed: 1, threads: 1 });
    const w = trainWork();
    const d = (k: keyof typeof w) => w[k] - before[k];
    // One batch of all 3 rows per epoch, padded to 9: 27 positions; kept: 3 + 8 + 0.
    expect([d('fineTunes'), d('steps'), d('microBatches')]).toEqual([1, 2, 2]);
    expect([d('rows'), d('rowsComputed'), d('tokens')]).toEqual([6, 4, 34]);
    expect([d('positionsPadded'), d('positionsPacked'), d('lossPositions')]).toEqual([54, 22, 14]);
    expect([d('logitRowsPadded'), d('logitRowsPacked')]).toEqual([54, 14]);
    // Attention pairs of a row of attention length T in blocks of 16 queries: T·T when T ≤ 16. A kept row
    // keeps whole 16-query blocks up to the padded length (9 here), so only the loss-free row is saved.
    expect([d('attnPairsPadded'), d('attnPairsPacked')]).toEqual([2 * 3 * 81, 2 * 2 * 81]);
    // One block: K and V (2·16·8) at every kept position; Q, O and the FFN (2·16·16 + 3·16·24) and the output
    // layer (16·32) at the loss rows only.
    const kv = 2 * 16 * 8, qoFfn = 2 * 16 * 16 + 3 * 16 * 24;
    const perPair = 6 * 2 * 8;
    expect(d('macsPadded')).toBe(3 * 54 * (kv + qoFfn + 16 * 32) + 2 * 3 * 81 * perPair);
    expect(d('macsPacked')).toBe(3 * (22 * kv + 14 * (qoFfn + 16 * 32)) + 2 * 2 * 81 * perPair);
  });
});
