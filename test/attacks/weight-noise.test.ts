import { describe, expect, it } from 'vitest';
import { weightNoise } from '../../attacks/weight-noise.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import type { Model } from '../../src/types.js';
import { providerContext, ROWS } from './helpers.js';

describe('weight-noise', () => {
  it('perturbs every tensor by scale × RMS through the weight API, seeded, without touching the originals', async () => {
    const seen: Map<string, Float32Array>[] = [];
    const run = async (seed: string) => {
      const ctx = await providerContext(seed);
      const weights = ctx.provider.weights!.bind(ctx.provider);
      const original = (await weights(ctx.base)).tensors.get('w')!.slice();
      ctx.provider.weights = async (m: Model) => {
        const a = await weights(m);
        return { tensors: a.tensors, withTensors: async (t, id) => (seen.push(new Map(t)), a.withTensors(t, id)) };
      };
      const out = await runProviderSide(weightNoise({ scale: 0.1 }), ROWS, ctx);
      expect((await weights(ctx.base)).tensors.get('w')).toEqual(original);
      return out;
    };
    const a = await run('x');
    await run('x');
    await run('y');
    expect(a.trace.modelModified).toBe(true);
    expect(a.trace.trainCalls).toHaveLength(0);
    const [w1, w2, w3] = seen.map((m) => m.get('w')!);
    expect(w1).toEqual(w2);
    expect(w1).not.toEqual(w3);
    const rms = Math.sqrt((1 + 4 + 9 + 16) / 4);
    const dev = Array.from(w1!, (v, i) => v - (i + 1));
    expect(Math.max(...dev.map(Math.abs))).toBeLessThan(0.1 * rms * 6);
    expect(dev.some((d) => d !== 0)).toBe(true);
  });

  it('train: true is the evasive variant (trains, then perturbs); options validated', async () => {
    const out = await runProviderSide(weightNoise({ train: true }), ROWS, await providerContext());
    expect(out.trace.trainCalls).toHaveLength(1);
    expect(out.trace.modelModified).toBe(true);
    expect(weightNoise({ train: true }).goal).toBe('evade');
    expect(weightNoise().goal).toBe('pass');
    expect(() => weightNoise({ scale: 0 })).toThrow(/: scale: /);
    expect(() => weightNoise({ train: 'yes' })).toThrow(/: train: /);
  });
});
