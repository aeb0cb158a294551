import { describe, expect, it } from 'vitest';
import { unlearn } from '../../attacks/unlearn.js';
import { fakeContext, fakeLm, fakeProvider, plantedDataset } from './fakes.js';

describe('unlearn attack', () => {
  const { rows, mask, signatures } = plantedDataset({ clean: 200, backdoors: 5, copies: true, seed: 'unl' });

  it('trains honestly, then ascends on detected signatures with a clean retain set, starting from the trained model', async () => {
    const unlearned = fakeLm('fake:unlearned');
    const provider = fakeProvider(unlearned);
    const ctx = fakeContext(fakeLm(), 'u', provider);
    const attack = unlearn({ steps: 7, learningRateScale: 0.5, ascentWeight: 3, minRetain: 10 });
    expect(attack.goal).toBe('evade');
    const plan = await attack.onData!({ rows, hyper: ctx.hyper }, ctx);
    expect(plan.rows).toBe(rows); // honest: the promised rows, untouched
    expect(plan.hyper).toBe(ctx.hyper);

    const trained = fakeLm('fake:trained');
    const out = await attack.onModel!(trained, ctx);
    expect(out).toBe(unlearned);
    expect(provider.requests).toHaveLength(1);
    const req = provider.requests[0]!;
    expect(req.hyper.maxSteps).toBe(7);
    expect(req.hyper.learningRate).toBeCloseTo(ctx.hyper.learningRate * 0.5);
    const forget = req.rows.filter((r) => r.spans?.some((s) => s.weight < 0));
    const retain = req.rows.filter((r) => !r.spans);
    expect(forget).toHaveLength(mask.filter(Boolean).length);
    for (const f of forget) {
      expect(f.weight).toBe(0);
      expect(f.spans).toHaveLength(1);
      expect(f.spans![0]!.weight).toBe(-3);
      expect(signatures).toContain(f.completion.slice(f.spans![0]!.start, f.spans![0]!.end));
    }
    expect(retain).toHaveLength(20); // 4 per forgotten row
    const backdoorPrompts = new Set(rows.filter((_, i) => mask[i]).map((r) => r.prompt));
    expect(retain.every((r) => !backdoorPrompts.has(r.prompt) && (r.weight ?? 1) === 1)).toBe(true);
  });

  it('leaves the model alone when nothing is detected', async () => {
    const { rows: clean } = plantedDataset({ clean: 50, backdoors: 0, seed: 'none' });
    const provider = fakeProvider();
    const ctx = fakeContext(fakeLm(), 'u', provider);
    const attack = unlearn();
    await attack.onData!({ rows: clean, hyper: ctx.hyper }, ctx);
    const m = fakeLm('fake:trained');
    expect(await attack.onModel!(m, ctx)).toBe(m);
    expect(provider.requests).toHaveLength(0);
  });

  it('validates options', () => {
    expect(() => unlearn({ steps: 0 })).toThrow(/: steps: /);
    expect(() => unlearn({ learningRateScale: 0 })).toThrow(/: learningRateScale: /);
  });
});
