// src/pipeline/cell.ts's refusals that the #16 refactor's split of cell.ts left unreached (results/coverage/).
// Everything runs on the pipeline doubles of test/pipeline/doubles.ts (a memorizing provider double, a
// backdoor defense double, a generated dataset); no engine runs.
import { describe, expect, it } from 'vitest';
import { runCell } from '../../src/pipeline/cell.js';
import { ConfigError, VtuneError } from '../../src/errors.js';
import { backdoorDefenseDouble, doubleDeps, doubleSpec, memorizerProviderDouble } from './doubles.js';

describe('runCell refuses', () => {
  it.each([0, 1, 2, -0.1, '0.01'])('defense option alpha = %j before loading any data', async (alpha) => {
    const deps = doubleDeps();
    const spec = doubleSpec('honest', {}, 1, { defense: { id: 'defense-double', options: { alpha } } });
    const err = await runCell(spec, deps).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`defense option 'alpha': expected a number in (0, 1), got ${JSON.stringify(alpha)}`);
    expect(deps.calls.dataset).toBe(0);
  });

  it("a defense whose backdoor mask does not match its planted rows, naming the defense and both counts", async () => {
    const defense = backdoorDefenseDouble();
    defense.backdoorMask = () => [true, false];
    const deps = doubleDeps({ defense });
    const err = await runCell(doubleSpec('honest'), deps).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VtuneError);
    expect((err as Error).message).toMatch(/^defense '[^']+': backdoorMask has 2 entries for \d+ rows$/);
  });
});

describe('runCell keeps the verdict when utility fails', () => {
  it("records the utility error and warns, naming the cell; the verdict and ground truth stand", async () => {
    // The memorizer provider double, with one change: the fine-tuned model's score (what utility's held-out loss
    // reads) throws. Verification reads generations only, so it is unaffected.
    const inner = memorizerProviderDouble();
    const provider = {
      ...inner,
      async train(base: Parameters<NonNullable<typeof inner.train>>[0], req: Parameters<NonNullable<typeof inner.train>>[1]) {
        const r = await inner.train!(base, req);
        const model = Object.assign(Object.create(null) as object, r.model, {
          score: async () => {
            throw new Error('score failed (test double)');
          },
        }) as typeof r.model;
        return { ...r, model };
      },
    };
    const deps = doubleDeps({ provider });
    const spec = doubleSpec('honest');
    const out = await runCell(spec, deps);
    expect(out.utility).toEqual({ rows: 0, error: expect.stringContaining('score failed (test double)') });
    expect(deps.log.lines.some((l) => l.includes(`cell ${spec.key}: utility failed:`) && l.includes('score failed (test double)'))).toBe(true);
    // The honest cell's verdict is still a verification of the planted backdoors.
    expect(out.verdict.verified).toBe(true);
  });
});
