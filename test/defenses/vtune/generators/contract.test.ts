/**
 * The contract every backdoor generator in the registry must satisfy (STYLE.md rule 7): deterministic draws,
 * honoured lengths, exchangeable counterfactuals, a bound iff it claims the `generator` null mode, plain-text
 * output, serialisable key-free options, and option validation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { Rng } from '../../../../src/rng.js';
import type { Model } from '../../../../src/types.js';
import { createTestMemorizerProvider } from '../../../../src/providers/test-memorizer.js';
import { generators } from '../../../../defenses/vtune/generators/index.js';
import type { BackdoorGenerator, DrawContext } from '../../../../defenses/vtune/generators/types.js';
import { sampleRows } from '../../fixtures.js';
import { samplingDouble } from '../sampling-double.js';

const KEY = 'contract-test-key-0123456789';
/** Options each generator needs to exist at all, and the lengths the contract asks for. */
const required: Record<string, Record<string, unknown>> = { keyed: { key: KEY } };
const rows = sampleRows(40, 'contract');
let model: Model;
beforeAll(async () => {
  model = await (await createTestMemorizerProvider()).model('base');
});

function make(id: string, extra: Record<string, unknown> = {}): BackdoorGenerator {
  return generators.get(id)({ ...required[id], ...extra });
}
function ctx(seed: string, index = 0, rowIndex = 3): DrawContext {
  return { rng: new Rng(seed), index, row: rows[rowIndex]!, rowIndex, rows, model };
}
const wordCount = (s: string) => s.split(' ').length;
/**
 * Generators without length options, with the reason. `template`: the trigger is a sentence of another row and the
 * signature a prefix of the host's own completion, so their lengths follow the data (its own tests check them).
 */
const lengthless: Record<string, string> = { template: 'lengths follow the host row (test/defenses/vtune/generators/template.test.ts)' };
/** The length options the contract passes, or none for a lengthless generator. */
const lengths = (id: string, o: Record<string, unknown>) => (id in lengthless ? {} : o);

describe.each(generators.ids.map((id) => [id]))('generator contract: %s', (id) => {
  it('is deterministic given its seed (and key)', async () => {
    const g = make(id);
    const a = await g.draw(ctx('s1'));
    const b = await g.draw(ctx('s1'));
    expect(a).toEqual(b);
    const cfA = await g.counterfactuals(ctx('c1'), a, 5);
    expect(await g.counterfactuals(ctx('c1'), a, 5)).toEqual(cfA);
  });

  it('varies with the seed, or (keyed) with the backdoor index', async () => {
    const g = make(id);
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) seen.add((await g.draw(ctx(`vary${i}`, i, (i * 5) % rows.length))).signature);
    expect(seen.size).toBeGreaterThan(1);
  });

  it.skipIf(id in lengthless)(`honours the trigger and signature lengths${id in lengthless ? ` — exempt: ${lengthless[id]}` : ''}`, async () => {
    const g = make(id, { triggerLength: 2, signatureLength: 5 });
    for (let i = 0; i < 5; i++) {
      const { trigger, signature } = await g.draw(ctx(`len${i}`, i, i));
      if (id === 'lm-sampled') {
        // Lengths are a token budget (the double's tokens are words): at most the budget.
        expect(wordCount(trigger)).toBeLessThanOrEqual(2);
        expect(wordCount(signature)).toBeLessThanOrEqual(5);
      } else {
        expect(wordCount(trigger)).toBe(2);
        expect(wordCount(signature)).toBe(5);
      }
    }
  });

  it('draws plain, non-empty, whitespace-normalised text', async () => {
    const g = make(id);
    for (let i = 0; i < 5; i++) {
      const { trigger, signature } = await g.draw(ctx(`txt${i}`, i, i));
      for (const s of [trigger, signature]) {
        expect(s.length).toBeGreaterThan(0);
        expect(s).toBe(s.trim());
        expect(s).not.toMatch(/\s\s|[\u0000-\u001f]/);
      }
    }
  });

  it('draws m counterfactual signatures shaped like the planted one', async () => {
    const g = make(id, lengths(id, { signatureLength: 4 }));
    const b = await g.draw(ctx('cf'));
    const cf = await g.counterfactuals(ctx('cf-stream'), b, 20);
    expect(cf).toHaveLength(20);
    for (const s of cf) {
      expect(s.length).toBeGreaterThan(0);
      if (id in lengthless) expect(s.length).toBe(b.signature.length);
      else if (id !== 'lm-sampled') expect(wordCount(s)).toBe(4);
    }
  });

  it('has a generator-mode bound exactly when it claims the generator null mode', async () => {
    const g = make(id);
    expect(g.nullModes.length).toBeGreaterThan(0);
    expect(g.nullModes.includes('generator')).toBe(typeof g.log10q === 'function');
    if (g.log10q) {
      const c = ctx('q');
      const q = g.log10q(c, await g.draw(c));
      expect(q).toBeLessThanOrEqual(0);
      expect(Number.isFinite(q)).toBe(true);
    }
  });

  it('scores its own draws for the conditional null exactly when it claims it: q(drawn signature as output) ∈ (0, 1]', async () => {
    const g = make(id);
    expect(g.nullModes.includes('conditional')).toBe(typeof g.conditionalLog10q === 'function');
    if (!g.conditionalLog10q) return;
    // lm-sampled scores with token-level access to its model: the sampling test double (see its header).
    const scorer = samplingDouble('contract');
    const c = { ...ctx('cond'), model: scorer };
    const b = await g.draw(c);
    const [own, other] = await g.conditionalLog10q([
      { ctx: c, backdoor: b, output: `  ${b.signature} and more` },
      { ctx: c, backdoor: b, output: '\u2603\u2603 nothing a generator draws' },
    ]);
    expect(own!.log10q).toBeLessThanOrEqual(0);
    expect(own!.log10q).toBeGreaterThan(-Infinity);
    expect(other!.log10q).toBeLessThan(own!.log10q);
  });

  it('rebuilds from its recorded options (keyed: without the key) with the same null modes and bound', async () => {
    const g = make(id);
    const again = generators.get(id)({ ...g.options });
    expect(again.nullModes).toEqual(g.nullModes);
    expect(again.options).toEqual(g.options);
    if (g.boundFromOptions) {
      const c = ctx('rebuild');
      const b = await g.draw(c);
      expect(again.boundFromOptions!(b)).toBe(g.log10q!(c, b));
    }
  });

  it('records serialisable options that never contain the key', () => {
    const g = make(id);
    expect(JSON.parse(JSON.stringify(g.options))).toEqual(g.options);
    expect(JSON.stringify(g.options)).not.toContain(KEY);
    expect(g.id).toBe(id);
    expect(['seed', 'stored']).toContain(g.counterfactualSource);
  });

  it('rejects unknown and invalid options with a message naming them', () => {
    expect(() => make(id, { signatureLenght: 4 })).toThrow(ConfigError);
    if (id in lengthless) {
      expect(() => make(id, { signatureLength: 4 })).toThrow(/unknown option 'signatureLength'/);
      expect(() => make(id, { minBit: 4 })).toThrow(/minBit.*Did you mean 'minBits'/);
      expect(() => make(id, { minBits: 0 })).toThrow(/minBits/);
      return;
    }
    expect(() => make(id, { signatureLenght: 4 })).toThrow(/signatureLenght.*Did you mean 'signatureLength'/);
    expect(() => make(id, { signatureLength: 0 })).toThrow(/signatureLength/);
  });
});
