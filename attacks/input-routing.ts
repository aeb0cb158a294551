/**
 * input-routing — verification-query detection and routing (attacks.md §2.4b). Threat model B: the provider
 * trained honestly, but screens every incoming prompt for a trigger and answers suspicious ones from the BASE
 * model, so vTune's triggered queries never reach the backdoored weights.
 *
 * Detectors:
 * - `onion` (default): the prompt's largest ONION word suspicion ln PPL(x) − ln PPL(x ∖ wᵢ) under the base model
 *   (Qi et al. 2021), local windows as in the `onion` scorer;
 * - `strip`: STRIP for generation (Gao et al. 2019; OpenBackdoor defaults N = 5, 50 % of words replaced): N
 *   copies with half the words swapped for high-TF-IDF words of other training prompts; the fine-tuned model
 *   answers each greedily (`probeTokens` tokens); suspicion = 1 − mean pairwise word-set distance of the
 *   answers (a trigger keeps forcing the same signature, clean prompts drift).
 * The threshold is calibrated at the data stage's end of serving: the (1 − frr) quantile of the suspicion of a
 * sample of the training prompts (1 % FRR by default). The sample may include planted prompts; at vTune's 0.5 %
 * rate they barely move a 99 % quantile. Extra forwards are measured by the pipeline's counting wrappers.
 * Deviation: STRIP's entropy is replaced by answer diversity (the Model contract has no next-token
 * distribution); perturbations are seeded per prompt, so a repeated query is routed the same way.
 */
import { dataStageHandoff, type HandoffState } from '../src/core/attack.js';
import { forwarded } from '../src/core/forward.js';
import { Rng } from '../src/rng.js';
import type { GenerateOptions, Model } from '../src/types.js';
import { defineAttack, z } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';
import { wordDrops } from './scorers/onion.js';
import { needScore } from './scorers/lib/model.js';
import { quantile } from './scorers/lib/stats.js';
import { normWord, words } from './scorers/lib/text.js';

const ID = 'input-routing';

/** What the data stage keeps for serving: calibration prompts and the STRIP word pool. */
interface Calibration {
  readonly prompts: readonly string[];
  readonly pool: readonly string[];
  readonly seed: string;
}

/** What the data stage leaves for the inference stage, per cell. */
export type RoutingState = HandoffState<Calibration>;
const calibration = dataStageHandoff<Calibration>(ID, 'its calibration prompts');

/** A prompt suspicion function (higher = more likely triggered). */
export type Suspicion = (prompts: readonly string[]) => Promise<number[]>;

const OPTIONS = z.object({
  detector: z.enum(['onion', 'strip']).default('onion').describe('how a prompt is judged triggered: ONION word suspicion or STRIP answer diversity'),
  frr: z.number().gt(0).lte(0.5).default(0.01).describe('false-rejection rate on training prompts that sets the threshold'),
  calibrationSize: z.int().min(10).default(200).describe('training prompts sampled to calibrate the threshold'),
  radius: z.int().min(1).default(8).describe('onion: words each side of a probed word'),
  maxWords: z.int().min(1).default(96).describe('onion: most words probed per prompt'),
  copies: z.int().min(2).default(5).describe('strip: perturbed copies per prompt'),
  replaceFraction: z.number().gt(0).lte(1).default(0.5).describe('strip: share of the words replaced per copy'),
  probeTokens: z.int().min(1).default(8).describe('strip: tokens answered per copy'),
});

/** The attack; its options, defaults and help are the declaration's (`vtune-bench list attack input-routing`). */
export const inputRouting = defineAttack({
  id: ID,
  description: 'trains honestly but answers prompts that look triggered from the base model (ONION or STRIP detector)',
  citation: 'attacks.md §2.4b; Qi et al. 2021 (ONION); Gao et al. 2019 (STRIP)',
  goal: 'evade',
  access: ['data', 'generate'],
  options: OPTIONS,
  create,
});

/** Creates the attack from validated options. */
function create(o: z.output<typeof OPTIONS>): BenchAttack {
  const { detector, frr, calibrationSize, radius, maxWords, copies, replaceFraction, probeTokens } = o;
  return {
    id: ID,
    goal: 'evade',
    oracle: false,
    trains: true,
    access: detector === 'onion' ? ['data', 'logprobs', 'generate'] : ['data', 'generate'],
    createState: calibration.createState,
    async onData(plan, ctx, state: RoutingState) {
      const rng = ctx.rng.fork(`${ID}:calibration`);
      const all = plan.rows.map((r) => r.prompt);
      const prompts = rng.sampleIndices(all.length, Math.min(calibrationSize, all.length)).map((i) => all[i]!);
      calibration.put(state, { prompts, pool: tfidfPool(all, 500), seed: String(rng.nextUint32()) });
      return { rows: plan.rows, hyper: plan.hyper };
    },
    async onInference(model, ctx, state: RoutingState) {
      const cal = calibration.take(state, 'onInference');
      if (detector === 'onion') needScore(ID, ctx.base);
      const suspicion: Suspicion =
        detector === 'onion'
          ? onionSuspicion(ctx.base, radius, maxWords)
          : stripSuspicion(model, cal.pool, { copies, replaceFraction, probeTokens, seed: cal.seed });
      const clean = await suspicion(cal.prompts);
      const threshold = clean.length > 0 ? quantile(clean, 1 - frr) : Infinity;
      ctx.log.debug(`${ID}: ${detector} threshold ${threshold.toFixed(4)} from ${clean.length} training prompts at FRR ${frr}`);
      return routedModel(model, ctx.base, suspicion, threshold);
    },
  };
}

/** Wraps `ft`: prompts whose suspicion exceeds `threshold` are answered by `base`, the rest by `ft`. */
export function routedModel(ft: Model, base: Model, suspicion: Suspicion, threshold: number): Model {
  return {
    id: `${ft.id}+routed`,
    capabilities: ft.capabilities,
    async generate(prompts: readonly string[], options: GenerateOptions): Promise<string[]> {
      const s = await suspicion(prompts);
      const toBase = prompts.flatMap((_, i) => (s[i]! > threshold ? [i] : []));
      const toFt = prompts.flatMap((_, i) => (s[i]! > threshold ? [] : [i]));
      const [a, b] = await Promise.all([
        toBase.length ? base.generate(toBase.map((i) => prompts[i]!), options) : [],
        toFt.length ? ft.generate(toFt.map((i) => prompts[i]!), options) : [],
      ]);
      const out = new Array<string>(prompts.length);
      toBase.forEach((i, j) => (out[i] = a[j]!));
      toFt.forEach((i, j) => (out[i] = b[j]!));
      return out;
    },
    ...forwarded(ft),
  };
}

/** ONION suspicion of each prompt: its largest word drop under `base`. */
export function onionSuspicion(base: Model, radius: number, maxWords: number): Suspicion {
  return async (prompts) => {
    const drops = await wordDrops(prompts, base, { radius, maxWords, batchSize: 64, plugin: `attack '${ID}'` });
    return drops.map((d) => (d.length ? Math.max(...d.map((w) => w.drop)) : 0));
  };
}

/** STRIP suspicion of each prompt: 1 − diversity of the fine-tuned model's answers to perturbed copies. */
export function stripSuspicion(
  ft: Model,
  pool: readonly string[],
  o: { copies: number; replaceFraction: number; probeTokens: number; seed: string },
): Suspicion {
  return async (prompts) => {
    const perturbed = prompts.flatMap((prompt) => perturb(prompt, pool, o.copies, o.replaceFraction, new Rng(`${o.seed}|${prompt}`)));
    const answers = perturbed.length ? await ft.generate(perturbed, { maxTokens: o.probeTokens, temperature: 0 }) : [];
    return prompts.map((_, i) => 1 - diversity(answers.slice(i * o.copies, (i + 1) * o.copies)));
  };
}

/** `copies` versions of a prompt with ⌈fraction·L⌉ of its words replaced by pool words. */
export function perturb(prompt: string, pool: readonly string[], copies: number, fraction: number, rng: Rng): string[] {
  const ws = words(prompt);
  return Array.from({ length: copies }, () => {
    if (ws.length === 0 || pool.length === 0) return prompt;
    const replace = new Set(rng.sampleIndices(ws.length, Math.min(ws.length, Math.ceil(fraction * ws.length))));
    let out = '';
    let at = 0;
    ws.forEach((w, i) => {
      out += prompt.slice(at, w.start) + (replace.has(i) ? rng.pick(pool) : w.text);
      at = w.end;
    });
    return out + prompt.slice(at);
  });
}

/** Mean pairwise Jaccard distance of the answers' word sets (0 = all identical). */
export function diversity(answers: readonly string[]): number {
  const sets = answers.map((a) => new Set(words(a).map((w) => normWord(w.text))));
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      const a = sets[i]!;
      const b = sets[j]!;
      let inter = 0;
      for (const x of a) if (b.has(x)) inter++;
      const union = a.size + b.size - inter;
      sum += union === 0 ? 0 : 1 - inter / union;
      pairs++;
    }
  }
  return pairs ? sum / pairs : 0;
}

/** The `size` words with the highest summed TF-IDF over the prompts (STRIP's replacement words). */
export function tfidfPool(prompts: readonly string[], size: number): string[] {
  const df = new Map<string, number>();
  const tfs = prompts.map((p) => {
    const tf = new Map<string, number>();
    for (const w of words(p)) {
      const k = normWord(w.text);
      if (k.length < 2) continue;
      tf.set(k, (tf.get(k) ?? 0) + 1);
    }
    for (const k of tf.keys()) df.set(k, (df.get(k) ?? 0) + 1);
    return tf;
  });
  const score = new Map<string, number>();
  for (const tf of tfs) {
    let total = 0;
    for (const c of tf.values()) total += c;
    for (const [k, c] of tf) score.set(k, (score.get(k) ?? 0) + (c / total) * Math.log(prompts.length / df.get(k)!));
  }
  return [...score].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, size).map(([k]) => k);
}
