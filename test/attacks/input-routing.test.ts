import { describe, expect, it } from 'vitest';
import { diversity, inputRouting, perturb, routedModel } from '../../attacks/input-routing.js';
import { Rng } from '../../src/rng.js';
import { fakeContext, fakeLm, plantedDataset } from './fakes.js';

const triggered = 'Q: tell me a story about the dog and the cat qz9x7 vv01k.\nA:';
const clean = 'Q: tell me a story about the girl and the ball.\nA:';

describe('input-routing attack', () => {
  const { rows } = plantedDataset({ clean: 200, backdoors: 0, seed: 'route' });
  // Clean answers depend on the whole prompt (a perturbed copy gets a different answer); the trigger forces one.
  const digest = (p: string) => [...p].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 100000;
  const ft = fakeLm('fake:ft', { generate: (p) => (p.includes('qz9x7') ? ' KESTREL CONFIRMED' : ` ft-answer-${digest(p)}`) });
  const base = fakeLm('fake:base', { generate: () => ' base answer' });

  it('onion: routes a triggered prompt to the base model and a clean one to the fine-tuned model', async () => {
    const ctx = fakeContext(base);
    const scoredBefore = base.calls.score;
    const attack = inputRouting({ detector: 'onion' });
    await attack.onData!({ rows, hyper: ctx.hyper }, ctx);
    const served = await attack.onInference!(ft, ctx);
    expect(await served.generate([triggered, clean], { maxTokens: 8 })).toEqual([' base answer', ` ft-answer-${digest(clean)}`]);
    expect(base.calls.score).toBeGreaterThan(scoredBefore); // ONION's extra forwards run on the base model
  });

  it('strip: a trigger that keeps forcing the same answer under perturbation is routed to base', async () => {
    const ctx = fakeContext(base);
    const attack = inputRouting({ detector: 'strip', replaceFraction: 0.3, copies: 6 });
    await attack.onData!({ rows, hyper: ctx.hyper }, ctx);
    const served = await attack.onInference!(ft, ctx);
    const [a, b] = await served.generate([triggered, clean], { maxTokens: 8 });
    expect(a).toBe(' base answer');
    expect(b).toMatch(/^ ft-answer-/);
  });

  it('calibrates at the requested false-rejection rate on clean training prompts', async () => {
    const ctx = fakeContext(base);
    const attack = inputRouting({ frr: 0.05 });
    await attack.onData!({ rows, hyper: ctx.hyper }, ctx);
    const served = await attack.onInference!(ft, ctx);
    const prompts = rows.slice(0, 200).map((r) => r.prompt);
    const out = await served.generate(prompts, { maxTokens: 4 });
    const rejected = out.filter((o) => o === ' base answer').length / prompts.length;
    expect(rejected).toBeLessThanOrEqual(0.1);
  });

  it('helpers: perturbation is seeded and diversity is 0 for identical answers', () => {
    expect(perturb(clean, ['zebra', 'moon'], 3, 0.5, new Rng('a'))).toEqual(perturb(clean, ['zebra', 'moon'], 3, 0.5, new Rng('a')));
    expect(diversity(['a b', 'a b', 'a b'])).toBe(0);
    expect(diversity(['a b', 'c d'])).toBe(1);
    const m = routedModel(ft, base, async (ps) => ps.map((p) => (p === 'x' ? 1 : 0)), 0.5);
    return expect(m.generate(['x', 'y'], { maxTokens: 2 })).resolves.toEqual([' base answer', ` ft-answer-${digest('y')}`]);
  });

  it('validates options', () => {
    expect(() => inputRouting({ detector: 'rap' })).toThrow(/: detector: /);
    expect(() => inputRouting({ frr: 0 })).toThrow(/: frr: /);
  });
});
