// src/pipeline/cell.ts's refusals that the #16 refactor's split of cell.ts left unreached (results/coverage/).
// Everything runs on the pipeline doubles of test/pipeline/doubles.ts (a memorizing provider double, a
// backdoor defense double, a generated dataset); no engine runs.
import { describe, expect, it } from 'vitest';
import { runCell } from '../../src/pipeline/cell.js';
import { ConfigError, VtuneError } from '../../src/errors.js';
import { backdoorDefenseDouble, doubleDeps, doubleSpec } from './doubles.js';

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
