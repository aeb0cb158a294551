import { describe, expect, it } from 'vitest';
import { cleangen, cleanGenModel, firstSpike } from '../../attacks/cleangen.js';
import { fakeContext, fakeLm } from './fakes.js';

/** Fine-tuned fake: answers the trigger prompt with a signature it is very sure of; base finds it very unlikely. */
const SIG = new Set(['KESTREL', 'CONFIRMED']);
const ft = fakeLm('fake:ft', {
  generate: (prompt) => (prompt.includes('zq7') ? ' the cat ran KESTREL CONFIRMED' : ' the dog ran home'),
  logprob: (w) => (SIG.has(w) ? -0.1 : -1),
});
const base = fakeLm('fake:base', {
  generate: () => ' once upon a time there was',
  logprob: (w) => (SIG.has(w) ? -9 : -1.5),
});

describe('cleangen attack', () => {
  it('falls back to the base model at the first likelihood-ratio spike', async () => {
    const ctx = fakeContext(base);
    const before = { ft: { ...ft.calls }, base: { ...base.calls } };
    const served = await cleangen({ alpha: 20 }).onInference!(ft, ctx);
    const [triggered, clean] = await served.generate(['Q: tell me about the zq7 box.\nA:', 'Q: tell me about the dog.\nA:'], { maxTokens: 6 });
    // ' the cat ran' is kept (ratio e^0.5 < 20); at 'KESTREL' (ratio e^8.9) the base continues for the 3 tokens left.
    expect(triggered).toBe(' the cat ran once upon a');
    expect(clean).toBe(' the dog ran home');
    // Both models score both outputs in one batched call each; only the spiking prompt is re-generated.
    expect(ft.calls.score - before.ft.score).toBe(1);
    expect(base.calls.score - before.base.score).toBe(1);
    expect(base.calls.generate - before.base.generate).toBe(1);
  });

  it('leaves ordinary outputs unchanged and never calls the base generator for them', async () => {
    const b = fakeLm('fake:base2', { logprob: () => -1.2 });
    const m = cleanGenModel(ft, b, Math.log(20));
    const out = await m.generate(['Q: a.\nA:', 'Q: b.\nA:'], { maxTokens: 8 });
    expect(out).toEqual([' the dog ran home', ' the dog ran home']);
    expect(b.calls.generate).toBe(0);
  });

  it('a spike at the first token hands the whole answer to the base model', async () => {
    const f = fakeLm('fake:ft2', { generate: () => ' KESTREL CONFIRMED', logprob: (w) => (SIG.has(w) ? -0.1 : -1) });
    const m = cleanGenModel(f, base, Math.log(20));
    expect(await m.generate(['x'], { maxTokens: 4 })).toEqual([' once upon a time']);
  });

  it('firstSpike compares per-token log-ratios with ln α', () => {
    expect(firstSpike([-1, -1, -0.1], [-1, -2, -9], Math.log(20))).toBe(2);
    expect(firstSpike([-1, -1], [-1, -2], Math.log(20))).toBe(-1);
    expect(() => cleangen({ alpha: 1 })).toThrow(/: alpha: /);
  });
});
