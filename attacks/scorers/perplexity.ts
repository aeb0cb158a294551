/**
 * `perplexity` — anomaly filtering by surprisal under the base model (attacks.md §2.2a).
 *
 * Threat model: a dishonest provider holding only the submitted rows and the base model it fine-tunes. Planted
 * triggers and signatures are chosen to be rare, so under the base model they are high-surprisal islands. One
 * teacher-forced pass per row (ctx.base.score, batched).
 *
 * Modes (raw score → robust z within the dataset, (s − median) / (1.4826·MAD)):
 * - `row`: mean surprisal of prompt+completion;
 * - `prompt`: mean surprisal of the prompt (triggers);
 * - `completion`: mean surprisal of the completion given the prompt;
 * - `segment-max` (the vTune-specific variant of the survey): the maximum over windows of `window` completion
 *   tokens of the mean surprisal given the prompt; the worst window is returned as a suspected signature span;
 * - `row-segment-max` (default): the same window maximum over the whole row (prompt then completion, one
 *   pass), so a trigger island in the prompt counts as much as a signature island in the completion; the worst
 *   window is returned as a span in whichever field(s) it covers.
 * Rows of any length are scored: what is scored is cut to the model's context, counted in the model's own tokens
 * (Model.contextLength and countTokens), keeping the end of a prompt and the start of a completion; a model that
 * declares no context gets `maxChars` characters per scored text (default 1,500; a `maxChars` given explicitly
 * also caps each field at that many characters when the budget is in tokens).
 * Source: the whole-example / conditional-perplexity filters surveyed in attacks.md §2.2a. Deviation: windows
 * are token windows mapped back to whole words (the Model contract has no token offsets).
 */
import type { ProviderContext, Row, RowScores } from '../../src/types.js';
import { defineScorer, z } from '../../src/plugins/define.js';
import { meanSurprisal, scoreAll } from './lib/model.js';
import { robustZ } from './lib/stats.js';
import { type TextBudget, headWithin, tailWithin, textBudget } from './lib/fit.js';
import { snapToWords, tokenOffsets } from './lib/text.js';
import { DEFAULT_FLAG_RULE, type RowScorer, type SuspectSpan, flagByRule, flagRuleSchema } from './types.js';

const MODES = ['row', 'prompt', 'completion', 'segment-max', 'row-segment-max'] as const;
/** Which surprisal the scorer measures. */
export type PerplexityMode = (typeof MODES)[number];

const ID = 'perplexity';

const OPTIONS = z.object({
  mode: z.enum(MODES).default('row-segment-max').describe('which surprisal is measured (see the module comment)'),
  window: z.int().min(1).default(16).describe('tokens per window (segment modes)'),
  stride: z.int().min(1).optional().describe('tokens between windows (default: ⌈window / 2⌉)'),
  batchSize: z.int().min(1).default(32).describe('items per score call'),
  maxChars: z
    .int()
    .min(16)
    .optional()
    .describe('characters per scored text when the model declares no context (default 1500); given explicitly, also caps each field'),
  flag: flagRuleSchema.optional().describe('how scores become flags (default: the top 1.5 %)'),
});

/** The perplexity scorer. */
export const perplexity = defineScorer({
  id: ID,
  description: 'surprisal under the base model (row, prompt, completion or worst window): planted triggers and signatures are rare',
  citation: 'attacks.md §2.2a (whole-example and conditional perplexity filters)',
  access: ['logprobs'],
  yieldsSpans: 'by-options',
  options: OPTIONS,
  create,
});

/** Creates the scorer from validated options. */
function create(o: z.output<typeof OPTIONS>): RowScorer {
  const p = `scorer '${ID}'`;
  const { mode, window, batchSize } = o;
  const stride = o.stride ?? Math.max(1, Math.ceil(window / 2));
  const maxChars = o.maxChars ?? 1500;
  const rule = o.flag ?? DEFAULT_FLAG_RULE;

  const scorer: RowScorer = {
    id: ID,
    access: ['logprobs'],
    yieldsSpans: mode === 'segment-max' || mode === 'row-segment-max',
    async score(rows: readonly Row[], ctx: ProviderContext): Promise<RowScores> {
      // Long prompts keep their end (nearest the completion), long completions their start (where signatures
      // sit). The budget is the model's own context in tokens when it declares one (and counts tokens), else
      // maxChars characters per scored text.
      const budget = textBudget(ctx.base, o.maxChars === undefined ? undefined : maxChars, maxChars);
      const keptPrompt: number[] = [];
      const items = rows.map((r) => {
        const item = fitItem(mode, r, budget);
        keptPrompt.push(item.keptPrompt);
        return { prompt: item.prompt, continuation: item.continuation };
      });
      const scored = await scoreAll(p, ctx.base, items, batchSize, ctx.signal);
      const raw: number[] = [];
      const worst: ({ from: number; to: number } | undefined)[] = [];
      for (const s of scored) {
        if (mode !== 'segment-max' && mode !== 'row-segment-max') {
          raw.push(meanSurprisal(s.tokenLogprobs));
          worst.push(undefined);
          continue;
        }
        const seg = maxWindow(s.tokenLogprobs, window, stride);
        raw.push(seg.surprisal);
        worst.push(seg.to > seg.from ? seg : undefined);
      }
      const scores = robustZ(raw);
      const flagged = flagByRule(scores, rule);
      const spans = scorer.yieldsSpans
        ? rows.map((r, i): SuspectSpan[] | undefined => {
            const w = worst[i];
            if (!flagged[i] || !w) return undefined;
            const text = items[i]!.continuation;
            const offs = tokenOffsets(text, scored[i]!.tokenLogprobs.length, ctx.base);
            if (mode === 'segment-max') {
              const span = snapToWords(r.completion, offs[w.from]!, offs[w.to]!);
              return span.end > span.start ? [{ field: 'completion', ...span }] : undefined;
            }
            // Row windows: the scored text is (the kept end of) the prompt followed by the completion.
            const promptLen = keptPrompt[i]!;
            const shift = r.prompt.length - promptLen;
            const out: SuspectSpan[] = [];
            const [a, b] = [offs[w.from]!, offs[w.to]!];
            if (a < promptLen) {
              const span = snapToWords(r.prompt, a + shift, Math.min(b, promptLen) + shift);
              if (span.end > span.start) out.push({ field: 'prompt', ...span });
            }
            if (b > promptLen) {
              const span = snapToWords(r.completion, Math.max(0, a - promptLen), b - promptLen);
              if (span.end > span.start) out.push({ field: 'completion', ...span });
            }
            return out.length ? out : undefined;
          })
        : undefined;
      return spans ? { scores, flagged, spans } : { scores, flagged };
    },
  };
  return scorer;
}

/** The token window [from, to) with the highest mean surprisal (the whole list when shorter than a window). */
export function maxWindow(logprobs: readonly number[], window: number, stride: number): { surprisal: number; from: number; to: number } {
  const n = logprobs.length;
  if (n === 0) return { surprisal: 0, from: 0, to: 0 };
  if (n <= window) return { surprisal: meanSurprisal(logprobs), from: 0, to: n };
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! - logprobs[i]!;
  let best = { surprisal: -Infinity, from: 0, to: window };
  const starts: number[] = [];
  for (let s = 0; s + window <= n; s += stride) starts.push(s);
  if (starts[starts.length - 1] !== n - window) starts.push(n - window);
  for (const s of starts) {
    const m = (prefix[s + window]! - prefix[s]!) / window;
    if (m > best.surprisal) best = { surprisal: m, from: s, to: s + window };
  }
  return best;
}

/** One row as the scorer sends it to Model.score, and how many characters of the prompt's end it kept. */
export function fitItem(mode: PerplexityMode, r: Row, budget: TextBudget): { prompt: string; continuation: string; keptPrompt: number } {
  if (mode === 'row' || mode === 'row-segment-max') {
    // One text after an empty prompt: BOS + prompt + completion within the context.
    const completion = headWithin(r.completion, budget.afterBos, budget);
    let room = budget.afterBos - budget.count(completion);
    for (;;) {
      const prompt = room <= 0 ? '' : tailWithin(r.prompt, room, budget);
      // Tokens may merge (or not) across the join: re-count the joined text and shrink the prompt if needed.
      const over = budget.count(prompt + completion) - budget.afterBos;
      if (over <= 0 || prompt.length === 0) return { prompt: '', continuation: prompt + completion, keptPrompt: prompt.length };
      room = budget.count(prompt) - over;
    }
  }
  if (mode === 'prompt') {
    const prompt = tailWithin(r.prompt, budget.afterBos, budget);
    return { prompt: '', continuation: prompt, keptPrompt: prompt.length };
  }
  const completion = headWithin(r.completion, budget.afterBos, budget);
  const room = budget.afterBos - budget.count(completion);
  const prompt = room <= 0 ? '' : tailWithin(r.prompt, room, budget);
  return { prompt, continuation: completion, keptPrompt: prompt.length };
}
