/**
 * The contract every backdoor generator in the registry must satisfy (STYLE.md rule 7). The general rules —
 * declares (serialisable key-free options that rebuild it, unknown options refused), purity, seeding, plain
 * text, a bound iff it claims the mode, the barrier — are src/check's (the code `vtune-bench check` runs on a
 * researcher's generator); the lengths and option messages specific to the built-ins are checked here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGenerator, type RuleResult } from '../../../../src/check/index.js';
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
const required: Record<string, Record<string, unknown>> = { keyed: { key: KEY }, reorder: { minBits: 1 } };
const rows = sampleRows(40, 'contract');
/**
 * Rows for generators that host only on worked arithmetic (`reorder`: answers with commutative steps); the
 * sample rows hold no number. Varied operands, so different hosts and streams draw different signatures.
 */
const arithmetic = (() => {
  const r = new Rng('contract-arithmetic');
  const n = () => String(10 + r.int(90)); // two digits: every row has one length (inside the typical band)
  return Array.from({ length: 40 }, (_, i) => ({ prompt: `Question ${i}: how many in all?`, completion: `We add ${n()} + ${n()} + ${n()} + ${n()}, then ${n()} x ${n()} x ${n()}, then 500 - ${n()} - ${n()} - ${n()}.` }));
})();
const rowsFor: Record<string, typeof rows> = { reorder: arithmetic };
/** The barrier cell's dataset: `reorder` hosts on the built-in math answers only at minBits 1 (one step each). */
const barrierDataset: Record<string, string> = { reorder: 'math' };
let model: Model;
beforeAll(async () => {
  model = await (await createTestMemorizerProvider()).model('base');
});

function make(id: string, extra: Record<string, unknown> = {}): BackdoorGenerator {
  return generators.get(id)({ ...required[id], ...extra });
}
function ctx(seed: string, index = 0, rowIndex = 3, over = rows): DrawContext {
  return { rng: new Rng(seed), index, row: over[rowIndex]!, rowIndex, rows: over, model };
}
const wordCount = (s: string) => s.split(' ').length;
/**
 * Generators without length options, with the reason. `template`: the trigger is a sentence of another row and the
 * signature a prefix of the host's own completion, so their lengths follow the data (its own tests check them).
 */
const lengthless: Record<string, string> = {
  template: 'lengths follow the host row (test/defenses/vtune/generators/template.test.ts)',
  'in-place': 'no trigger, and the signature is a prefix of the host\'s refilled answer (test/defenses/vtune/generators/in-place.test.ts)',
  reorder: 'no trigger, and the signature is a prefix of the host\'s reordered answer (test/defenses/vtune/generators/reorder.test.ts)',
};
/** The length options the contract passes, or none for a lengthless generator. */
const lengths = (id: string, o: Record<string, unknown>) => (id in lengthless ? {} : o);

describe.each(generators.ids.map((id) => [id]))('generator contract: %s', (id) => {
  let results: RuleResult[] = [];
  beforeAll(async () => {
    // lm-sampled scores its conditional bound with token-level access: the sampling test double (see its header).
    results = await checkGenerator(id, generators.get(id), { rows: rowsFor[id] ?? rows, model, scoringModel: samplingDouble('contract'), options: required[id] ?? {}, secretTexts: [KEY], ...(barrierDataset[id] ? { barrierDataset: barrierDataset[id] } : {}) });
  });

  it.each(['declares', 'purity', 'seeding', 'shape', 'bound', 'barrier'])('src/check rule: %s', (rule) => {
    const r = results.find((x) => x.rule === rule);
    expect(r, `rule ${rule} was not run`).toBeDefined();
    expect(r!.status, r!.detail).toBe('pass');
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

  it('draws m counterfactual signatures shaped like the planted one', async () => {
    const g = make(id, lengths(id, { signatureLength: 4 }));
    const b = await g.draw(ctx('cf', 0, 3, rowsFor[id]));
    const cf = await g.counterfactuals(ctx('cf-stream', 0, 3, rowsFor[id]), b, 20);
    expect(cf).toHaveLength(20);
    for (const s of cf) {
      expect(s.length).toBeGreaterThan(0);
      if (id in lengthless) expect(s.length).toBe(b.signature.length);
      else if (id !== 'lm-sampled') expect(wordCount(s)).toBe(4);
    }
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
