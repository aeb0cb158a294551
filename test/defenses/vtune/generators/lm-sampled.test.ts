/**
 * lm-sampled's draw on a generator model that ends a whole prompt at once (local:vtb-base: pretrained on prompts
 * and completions as separate `[BOS] text [EOS]` documents). The paper's draw then comes back empty and planting
 * fails; the error must say which part came back empty and which option draws a sample anyway.
 */
import { describe, expect, it } from 'vitest';
import { lmSampled } from '../../../../defenses/vtune/generators/lm-sampled.js';
import type { DrawContext } from '../../../../defenses/vtune/generators/types.js';
import { ProviderError } from '../../../../src/errors.js';
import { Rng } from '../../../../src/rng.js';
import type { Model, Row } from '../../../../src/types.js';

const rows: Row[] = [{ prompt: 'Write a story about a fox.', completion: 'Once a fox ran.' }];
/** Returns `answer(prompt)` for every prompt, and counts the calls. */
function ends(answer: (prompt: string) => string): Model & { calls: number } {
  const m = {
    id: 'double:ends-at-once',
    calls: 0,
    capabilities: new Set(['generate'] as const),
    async generate(prompts: readonly string[]) {
      m.calls += prompts.length;
      return prompts.map(answer);
    },
  };
  return m;
}
const ctx = (model: Model): DrawContext => ({ rng: new Rng('lm-empty'), index: 0, row: rows[0]!, rowIndex: 0, rows, model });

describe('lm-sampled: a generator model that ends the prompt at once', () => {
  it('names the trigger and the fixedLength option when the host prompt is ended at once (8 redraws)', async () => {
    const m = ends(() => ' \n');
    const err = await lmSampled({}).draw(ctx(m)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe(
      "generator 'lm-sampled': model 'double:ends-at-once' returned empty text 8 times in a row for the trigger (after the host prompt); a model that ends such a prompt at once needs the generator option fixedLength: true (stop tokens masked)",
    );
    expect(m.calls).toBe(8);
  });

  it('names the signature when only prompt ⊕ trigger is ended at once, for a planted and a counterfactual signature', async () => {
    const m = ends((p) => (p === rows[0]!.prompt ? 'Then' : ''));
    const g = lmSampled({});
    await expect(g.draw(ctx(m))).rejects.toThrow(/8 times in a row for the signature \(after the host prompt and trigger\); .* fixedLength: true/);
    await expect(g.counterfactuals(ctx(m), { trigger: 'Then', signature: 'x' }, 2)).rejects.toThrow(/for the signature .* fixedLength: true/);
  });
});
