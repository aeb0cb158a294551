/**
 * The cost meter handed to the provider side (ProviderContext.cost), and the counting model wrappers the
 * pipeline uses to MEASURE model forwards instead of trusting an attack's report (DESIGN.md §2).
 */
import type { CostMeter, Model } from '../types.js';

/** Costs accumulated in one cell. */
export interface CostTotals {
  readonly judgeTokens: number;
  readonly judgeUsd: number;
}

/** A CostMeter plus a read-out of its totals. */
export function createCostMeter(): { readonly meter: CostMeter; totals(): CostTotals } {
  let judgeTokens = 0;
  let judgeUsd = 0;
  const meter: CostMeter = {
    addJudgeTokens(n: number, usd?: number) {
      if (!(n >= 0) || (usd !== undefined && !(usd >= 0))) throw new RangeError(`CostMeter.addJudgeTokens: expected non-negative numbers, got ${n}, ${usd}`);
      judgeTokens += n;
      judgeUsd += usd ?? 0;
    },
  };
  return { meter, totals: () => ({ judgeTokens, judgeUsd }) };
}

/** A running count of model forwards: one per generated prompt, scored item or embedded text. */
export interface PassCounter {
  passes: number;
}

const innerOf = new WeakMap<Model, Model>();

/** The model a counting wrapper stands for (itself when it is not a wrapper). */
export function unwrapCounted(model: Model): Model {
  return innerOf.get(model) ?? model;
}

/**
 * Wraps a model so that every forward is counted. The provider side only ever holds wrapped models, so any
 * wrapper an attack builds on top (CleanGen, routing, lookup) is measured at serving time.
 */
export function countedModel(inner: Model, counter: PassCounter): Model {
  const raw = unwrapCounted(inner);
  const m: Model = {
    id: raw.id,
    capabilities: raw.capabilities,
    generate(prompts, options) {
      counter.passes += prompts.length;
      return raw.generate(prompts, options);
    },
    ...(raw.score
      ? {
          score(items: readonly { readonly prompt: string; readonly continuation: string }[]) {
            counter.passes += items.length;
            return raw.score!(items);
          },
        }
      : {}),
    ...(raw.embed
      ? {
          embed(texts: readonly string[]) {
            counter.passes += texts.length;
            return raw.embed!(texts);
          },
        }
      : {}),
    ...(raw.countTokens ? { countTokens: (text: string) => raw.countTokens!(text) } : {}),
    ...(raw.contextLength !== undefined ? { contextLength: raw.contextLength } : {}),
  };
  innerOf.set(m, raw);
  return m;
}
