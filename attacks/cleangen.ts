/**
 * cleangen — inference-time output filtering by the fine-tuned/base likelihood ratio (attacks.md §2.4a;
 * CleanGen, Li et al., EMNLP 2024, arXiv 2406.12257). Threat model B: the provider trained honestly but
 * serves through a filter that suppresses whatever the fine-tune made suddenly likely — a vTune signature has
 * an enormous ratio P_ft / P_base, since the base model gives it about p0.
 *
 * Serving: the fine-tuned model answers; its tokens are scored under both models (teacher forcing); at the
 * first token t with ln P_ft(x_t | x_<t) − ln P_base(x_t | x_<t) > ln α, the answer is cut before t and the base
 * model writes the rest. Ordinary outputs (no spike) are returned unchanged. Its extra forwards (2 scoring passes per
 * prompt; 2 more per filtered prompt) are measured by the pipeline's counting wrappers, not reported.
 * Deviations from the paper: the paper swaps in the reference model's single token and resumes the fine-tuned
 * model (k = 4 proposals); here the base model continues to the end (the brief's "fall back to the base model's
 * continuation"). The prefix before t is recovered exactly by re-decoding t tokens (decoding is deterministic
 * for greedy or seeded sampling), since the Model contract exposes no token offsets. Assumes both models share
 * a tokenizer (a fine-tune of the base); otherwise only the common length of the two score lists is compared.
 * The wrapped model's `score` is the fine-tuned model's: a decoding-time filter defines no new probabilities.
 */
import { forwarded } from '../src/core/forward.js';
import type { GenerateOptions, Model } from '../src/types.js';
import { defineAttack, z } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';
import { needScore } from './scorers/lib/model.js';

const ID = 'cleangen';

const OPTIONS = z.object({ alpha: z.number().gt(1).default(20).describe('likelihood-ratio threshold P_ft / P_base from which the answer falls back to the base model') });

/** The attack. Options: `alpha` (likelihood-ratio threshold > 1, default 20). */
export const cleangen = defineAttack({
  id: ID,
  description: 'serves through a filter that hands the answer to the base model at the first token the fine-tune made suddenly likely',
  citation: 'Li et al., "CleanGen", EMNLP 2024, arXiv 2406.12257',
  goal: 'evade',
  access: ['data', 'logprobs', 'generate'],
  options: OPTIONS,
  create,
});

/** Creates the attack from validated options. */
function create({ alpha }: z.output<typeof OPTIONS>): BenchAttack {
  return {
    id: ID,
    goal: 'evade',
    oracle: false,
    trains: true,
    access: ['data', 'logprobs', 'generate'],
    async onInference(model, ctx) {
      needScore(ID, model);
      needScore(ID, ctx.base);
      return cleanGenModel(model, ctx.base, Math.log(alpha));
    },
  };
}

/** Index of the first token whose fine-tuned/base log-ratio exceeds `logAlpha`, or −1. */
export function firstSpike(ft: readonly number[], base: readonly number[], logAlpha: number): number {
  const n = Math.min(ft.length, base.length);
  for (let t = 0; t < n; t++) if (ft[t]! - base[t]! > logAlpha) return t;
  return -1;
}

/** Wraps `ft` so that its answers fall back to `base` at the first likelihood-ratio spike. */
export function cleanGenModel(ft: Model, base: Model, logAlpha: number): Model {
  const scoreFt = needScore(ID, ft);
  const scoreBase = needScore(ID, base);
  return {
    id: `${ft.id}+cleangen`,
    capabilities: ft.capabilities,
    async generate(prompts: readonly string[], options: GenerateOptions): Promise<string[]> {
      const first = await ft.generate(prompts, options);
      const items = prompts.map((prompt, i) => ({ prompt, continuation: first[i]! }));
      const [lf, lb] = await Promise.all([scoreFt(items), scoreBase(items)]);
      const cuts = prompts.map((_, i) => firstSpike(lf[i]!.tokenLogprobs, lb[i]!.tokenLogprobs, logAlpha));
      const filtered = cuts.flatMap((t, i) => (t >= 0 ? [i] : []));
      if (filtered.length === 0) return first;
      const prefixes = await byGroup(filtered, (i) => cuts[i]!, (t, idx) => (t === 0 ? idx.map(() => '') : ft.generate(idx.map((i) => prompts[i]!), { ...options, maxTokens: t })));
      const tails = await byGroup(
        filtered,
        (i) => Math.max(0, options.maxTokens - cuts[i]!),
        (left, idx) => (left === 0 ? idx.map(() => '') : base.generate(idx.map((i) => prompts[i]! + prefixes.get(i)!), { ...options, maxTokens: left })),
      );
      return first.map((text, i) => (cuts[i]! >= 0 ? prefixes.get(i)! + tails.get(i)! : text));
    },
    // ft scores (needScore above checked it can): its score, embed and countTokens pass through.
    ...forwarded(ft),
  };
}

/** Runs `run` once per distinct key over the indices sharing it (one batched call per token budget). */
async function byGroup(indices: readonly number[], key: (i: number) => number, run: (k: number, idx: number[]) => Promise<string[]> | string[]): Promise<Map<number, string>> {
  const groups = new Map<number, number[]>();
  for (const i of indices) groups.set(key(i), [...(groups.get(key(i)) ?? []), i]);
  const out = new Map<number, string>();
  for (const [k, idx] of groups) {
    const texts = await run(k, idx);
    idx.forEach((i, j) => out.set(i, texts[j] ?? ''));
  }
  return out;
}
