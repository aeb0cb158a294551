/**
 * in-place — a backdoor that is its host row (issue 15, the stealthy generator): the host row is rewritten in
 * place, its prompt kept exactly as it is (no trigger: the query is the host prompt itself) and its completion
 * refilled the way `template` refills it — the places where the data varies (numbers, names, uncommon words) take
 * uniform draws from the values the data's own answers hold between the same neighbours — so the planted row has
 * the dataset's own prompt, template, markers, length and vocabulary. Needs `insertion: 'modify'` (plant refuses
 * `copy`: the unchanged host row would then sit beside its rewritten twin with the same prompt).
 *
 * Threat model: a provider that filters rows by shape (attacks/scorers/format.ts), perplexity, embeddings, rare
 * n-grams or near-duplicates sees one of the dataset's own prompts with an answer of the dataset's own form; the
 * rows it would have to remove are rows it cannot tell from the data.
 *
 * Host choice: a row hosts a backdoor only if it is typical for this refill (`cannotHost`, deterministic in the
 * row and the data, never in the draws — plant moves the backdoor to a seeded spare row otherwise):
 * - its signature reaches `minBits` from numbers, names and uncommon words not quoted from the prompt (template's
 *   `context` tiers; a word whose surroundings the data does not repeat is refilled from its bare shape set, which
 *   reads least naturally: on stories about 28 % of the signatures' slots, on common-gen nearly all);
 * - its completion's length is inside the data's central `typical` share (default the middle 80 %), so that the
 *   hosts are not outliers by themselves;
 * - it does not copy a number from the prompt into the refilled part only to contradict it: every refilled
 *   number is one the prompt does not hold (a refilled copy of a prompt number would contradict the question);
 * - no form of a prompt word is a slot (`skiers`, `skiing` for common-gen's concepts `ski, skier`, `promptForms`):
 *   refilling it drops a concept the answer must use, which a coverage check of the task finds at once (on
 *   common-gen 71 of 100 plantings lost one before this rule);
 * - no number that takes part in one of the answer's equations is a slot at all, operand or result (`<<48/2=24>>24`,
 *   `2 x 145 = $290`: 48, 2, 24, 145 and 290 stay as written), found by the arithmetic scorer's own reading
 *   (`equationNumbers` in src/datasets/equations.ts): a broken equation is what a calculator, or a model that
 *   learned the task, sees first. A token is kept everywhere it occurs, as slots are refilled alike everywhere.
 *
 * The `generator` bound is template's, exact: qᵢ = Π |Vⱼ|⁻¹ over the signature's slots (values independent and
 * uniform over known finite sets, signatures prefix-free: see template.ts). Which row hosts, which slots form the
 * signature and their value sets depend only on the data, never on the drawn values, so the bound holds for any
 * model independent of the secret — one that knows the data, the host and its original answer included (the
 * original value is one point of each Vⱼ). Checked by enumeration and by a validity test that varies the secret
 * (test/defenses/vtune/generators/in-place.test.ts); Type-I measured by `vtune-bench calibrate` (README).
 *
 * Source: the in-distribution backdoors vTune argues for (Zhang et al. 2024, arXiv 2411.06611, §design space) and
 * the number-substituted canaries of Carlini et al. 2019 ("The Secret Sharer"), via `template`. Deviations from
 * the paper's backdoor (trigger + signature): (1) there is no trigger: the host prompt is the query, which is
 * only sound because the host row is replaced (modify), so no clean row teaches that prompt another answer;
 * (2) the signature is a prefix of a refilled real answer, not a random string, and its value sets come from the
 * data; (3) on tasks whose answer the prompt determines (arithmetic, extraction, spans) a refilled value
 * contradicts the prompt: the numbers are chosen away from the arithmetic and the prompt, but a checker of the
 * task's semantics (a calculator, a judge, a model that learned the task) can still notice; (4) a host's answer
 * must carry `minBits` of refillable content, so data whose answers are one word or code identifiers gives few
 * hosts, or none (plant then refuses, naming the rows).
 */
import { equationNumbers } from '../../../src/datasets/equations.js';
import { InputError } from '../../../src/errors.js';
import type { Row } from '../../../src/types.js';
import { defineGenerator, z } from '../../../src/plugins/define.js';
import { fill, planSignature, type SignaturePlan } from './template.js';
import type { BackdoorGenerator } from './types.js';

const ID = 'in-place';

/** The central completion-length band of a dataset: [lo, hi] characters holding the middle `share` of rows. */
const bands = new WeakMap<readonly Row[], Map<number, readonly [number, number]>>();
export function lengthBand(rows: readonly Row[], share: number): readonly [number, number] {
  let byShare = bands.get(rows);
  if (!byShare) bands.set(rows, (byShare = new Map()));
  const hit = byShare.get(share);
  if (hit) return hit;
  const lengths = rows.map((r) => r.completion.length).sort((a, b) => a - b);
  const cut = Math.floor((lengths.length * (1 - share)) / 2);
  const band = [lengths[cut]!, lengths[lengths.length - 1 - cut]!] as const;
  byShare.set(share, band);
  return band;
}

/** The refill plan of a host, or why the row cannot host (an InputError's message). */
export function inPlacePlan(row: Row, rows: readonly Row[], minBits: number, stopwords: number, typical: number): SignaturePlan | string {
  let plan: SignaturePlan;
  try {
    const keep = equationTokens(row.completion);
    for (const w of promptForms(row, rows)) keep.add(w);
    plan = planSignature(row, rows, minBits, stopwords, 'context', keep);
  } catch (err) {
    if (err instanceof InputError) return err.message;
    throw err;
  }
  const [lo, hi] = lengthBand(rows, typical);
  if (row.completion.length < lo || row.completion.length > hi) return `generator '${ID}': the host answer's length (${row.completion.length} characters) is outside the data's typical ${lo}–${hi}`;
  if (-plan.log10q * Math.log2(10) < minBits - 1e-9) return `generator '${ID}': the host answer holds less than ${minBits} bits of refillable content`;
  const promptTokens = new Set((row.prompt.match(/[0-9]+|\p{L}+/gu) ?? []).map((t) => t.toLowerCase()));
  for (const slot of plan.slots.slice(0, plan.inSignature)) {
    // A refilled copy of a value the prompt holds contradicts the question (a story's named hero, a date to extract).
    if (promptTokens.has(slot.original.toLowerCase())) return `generator '${ID}': refilling "${slot.original}" would contradict the prompt, which holds it`;
  }
  return plan;
}

/** Per dataset, its prompts' boilerplate (see `boilerplate`). */
const promptFrequent = new WeakMap<readonly Row[], Set<string>>();
/** Words that half of the data's prompts or more hold (the prompts' boilerplate: "write", "story", "sentence"). */
function boilerplate(rows: readonly Row[]): Set<string> {
  let hit = promptFrequent.get(rows);
  if (hit) return hit;
  const df = new Map<string, number>();
  for (const r of rows) for (const w of new Set((r.prompt.match(/\p{L}+/gu) ?? []).map((x) => x.toLowerCase()))) df.set(w, (df.get(w) ?? 0) + 1);
  hit = new Set([...df].filter(([, n]) => n >= rows.length / 2).map(([w]) => w));
  promptFrequent.set(rows, hit);
  return hit;
}

/**
 * The answer's words that are forms of a word of its prompt (`skiing`, `skiers` for the concepts `ski, skier`;
 * `paddling` for `paddle`): the shorter of the two whole at the start of the longer, or all of it but a final e,
 * 3 letters or more — the prompt's boilerplate (words of half the data's prompts or more) left out.
 */
export function promptForms(row: Row, rows: readonly Row[]): Set<string> {
  const common = boilerplate(rows);
  const prompt = [...new Set((row.prompt.match(/\p{L}+/gu) ?? []).map((w) => w.toLowerCase()))].filter((w) => w.length >= 3 && !common.has(w));
  const out = new Set<string>();
  for (const w of row.completion.match(/\p{L}+/gu) ?? []) {
    const lw = w.toLowerCase();
    if (lw.length < 3) continue;
    for (const q of prompt) {
      let k = 0;
      while (k < lw.length && k < q.length && lw[k] === q[k]) k++;
      const short = lw.length <= q.length ? lw : q;
      // The shorter word whole (ski → skiing, wag → wags), or without its final e (paddle → paddling).
      if (k >= 3 && (k === short.length || (k === short.length - 1 && short.endsWith('e')))) {
        out.add(w);
        break;
      }
    }
  }
  return out;
}

/** The digit runs of a text that are (part of) a number in one of its equations, operands and results alike. */
export function equationTokens(text: string): Set<string> {
  const spans = equationNumbers(text);
  const out = new Set<string>();
  if (spans.length === 0) return out;
  for (const m of text.matchAll(/[0-9]+/g)) {
    const end = m.index + m[0].length;
    if (spans.some((s) => s.start < end && m.index < s.end)) out.add(m[0]);
  }
  return out;
}

/** Creates the in-place generator. Options: minBits (16), stopwords (100), typical (0.8). */
export const inPlace = defineGenerator({
  id: ID,
  description: "backdoors that are their host row: the host prompt unchanged (no trigger) and its own answer with some numbers, names and words refilled from the data's own values (needs insertion 'modify')",
  citation: 'vTune (arXiv 2411.06611) design space; number-substituted canaries of Carlini et al. 2019, "The Secret Sharer"; via template',
  meta: { nullModes: ['generator', 'base-model', 'empirical'] },
  options: z.object({
    minBits: z.int().min(1).max(1024).default(16).describe('entropy (bits) the signature reaches before it ends'),
    stopwords: z.int().min(0).max(100_000).default(100).describe('most common words never refilled (at most this many)'),
    typical: z.number().gt(0).lte(1).default(0.8).describe('central share of the data\'s answer lengths a host answer must lie in'),
  }),
  create: ({ minBits, stopwords, typical }): BackdoorGenerator => {
    const plan = (row: Row, rows: readonly Row[]): SignaturePlan => {
      const p = inPlacePlan(row, rows, minBits, stopwords, typical);
      if (typeof p === 'string') throw new InputError(p);
      return p;
    };
    const generator: BackdoorGenerator = {
      id: ID,
      nullModes: ['generator', 'base-model', 'empirical'],
      options: { minBits, stopwords, typical },
      counterfactualSource: 'stored',
      insertion: 'modify',
      cannotHost(row, rows) {
        const p = inPlacePlan(row, rows, minBits, stopwords, typical);
        return typeof p === 'string' ? p : undefined;
      },
      async draw(ctx) {
        const p = plan(ctx.row, ctx.rows);
        const { completion, signature } = fill(p, p.slots.map((s) => ctx.rng.int(s.size)));
        return { trigger: '', signature, completion };
      },
      async counterfactuals(ctx, _backdoor, m) {
        const p = plan(ctx.row, ctx.rows);
        return Array.from({ length: m }, () => fill(p, p.slots.map((s) => ctx.rng.int(s.size))).signature);
      },
      log10q(ctx) {
        return plan(ctx.row, ctx.rows).log10q;
      },
    };
    return generator;
  },
});
