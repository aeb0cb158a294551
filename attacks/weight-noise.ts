/**
 * weight-noise — random weight perturbation, one of vTune's own "trivial cheats" (attacks.md §2.1). Adds
 * Gaussian noise N(0, (scale · rms(W))²) to every parameter tensor W. Two threat models:
 * - `train: false` (default, goal pass): skip training and return a perturbed base model, hoping it passes
 *   for a fine-tune (the defense wins when it does not verify);
 * - `train: true` (goal evade): train honestly, then perturb to wash the backdoors out.
 * Needs white-box weights (the embedded engine); a closed API model is rejected up front.
 */
import { ProviderError } from '../src/errors.js';
import { defineAttack, z } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';

const OPTIONS = z.object({
  scale: z.number().gt(0).default(0.05).describe("noise standard deviation relative to each tensor's RMS"),
  train: z.boolean().default(false).describe('train honestly first (goal evade) instead of perturbing the base model (goal pass)'),
});

/** The attack. Options: `scale` > 0 (relative to each tensor's RMS; default 0.05), `train` (boolean). */
export const weightNoise = defineAttack({
  id: 'weight-noise',
  description: 'Gaussian noise on every weight tensor: of the base model (pass) or after honest training (evade)',
  citation: 'vTune, arXiv 2411.06611 (trivial cheats); attacks.md §2.1',
  goal: ['pass', 'evade'],
  access: ['data', 'weights'],
  options: OPTIONS,
  create,
});

/** Creates the attack from validated options. */
function create({ scale, train }: z.output<typeof OPTIONS>): BenchAttack {
  return {
    id: 'weight-noise',
    goal: train ? 'evade' : 'pass',
    access: ['data', 'weights'],
    oracle: false,
    trains: train,
    ...(train ? {} : { onTraining: async () => null }),
    async onModel(model, ctx) {
      if (!ctx.provider.weights) throw new ProviderError(`attack 'weight-noise' needs weight access, which provider '${ctx.provider.id}' does not give`);
      const access = await ctx.provider.weights(model);
      const rng = ctx.rng.fork('weight-noise');
      const noisy = new Map<string, Float32Array>();
      // Sorted names: the noise drawn for a tensor must not depend on map iteration order.
      for (const name of [...access.tensors.keys()].sort()) {
        const w = access.tensors.get(name)!;
        let ss = 0;
        for (let i = 0; i < w.length; i++) ss += w[i]! * w[i]!;
        const sigma = scale * Math.sqrt(ss / Math.max(1, w.length));
        const out = new Float32Array(w.length);
        for (let i = 0; i < w.length; i++) out[i] = w[i]! + sigma * rng.normal();
        noisy.set(name, out);
      }
      return access.withTensors(noisy, `${model.id}+noise${scale}`);
    },
  };
}
