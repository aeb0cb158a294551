/**
 * `onion` — ONION word-level suspicion (Qi et al. 2021, "ONION: A Simple and Effective Defense Against Textual
 * Backdoor Attacks"; OpenBackdoor `onion_defender.py`), played by the provider against vTune's triggers.
 *
 * Threat model: the provider has the rows and the base model's log-probs. A planted trigger is a word sequence
 * the base model finds unlikely in context: deleting one of its words lowers the text's perplexity.
 *
 * For each word i of the scored field, f_i = ln PPL(x) − ln PPL(x ∖ wᵢ), measured on its local chunk of
 * 2·`radius`+1 words (one short forward per word plus one per chunk, all batched). Word suspicions are standardised over
 * the whole corpus (robust z); a row's score is its most suspicious word's z, and its spans are the words with
 * z ≥ `wordZ` (contiguous words merged) — what ONION would delete.
 * Deviations from the paper: log-perplexity differences instead of raw perplexity differences (scale-free across
 * texts); local chunks instead of the whole text (cost linear in length); at most `maxWords` words per text,
 * the last ones (nearest the answer); a corpus-calibrated word threshold instead of ONION's t = 0.
 */
import type { Model, ProviderContext, Row, RowScores } from '../../src/types.js';
import { defineScorer, z } from '../../src/plugins/define.js';
import { meanSurprisal, scoreAll } from './lib/model.js';
import { robustZ } from './lib/stats.js';
import { mergeRanges, words } from './lib/text.js';
import { DEFAULT_FLAG_RULE, type RowScorer, type SuspectSpan, flagByRule, flagRuleSchema } from './types.js';

const ID = 'onion';
const FIELDS = ['prompt', 'completion', 'both'] as const;

const OPTIONS = z.object({
  field: z.enum(FIELDS).default('prompt').describe('which field(s) are probed word by word'),
  radius: z.int().min(1).default(8).describe('words each side of a probed word in its local chunk'),
  maxWords: z.int().min(1).default(96).describe('most words probed per text (the last ones)'),
  wordZ: z.number().default(3).describe('robust z from which a word is a suspected span'),
  batchSize: z.int().min(1).default(64).describe('texts per score call'),
  flag: flagRuleSchema.optional().describe('how scores become flags (default: the top 1.5 %)'),
});

/** The ONION scorer. */
export const onion = defineScorer({
  id: ID,
  description: 'ONION word suspicion: how much deleting a word lowers the base model\'s perplexity (planted triggers)',
  citation: 'Qi et al., "ONION: A Simple and Effective Defense Against Textual Backdoor Attacks", EMNLP 2021',
  access: ['logprobs'],
  yieldsSpans: true,
  options: OPTIONS,
  create,
});

/** Creates the scorer from validated options. */
function create(o: z.output<typeof OPTIONS>): RowScorer {
  const p = `scorer '${ID}'`;
  const { field, radius, maxWords, wordZ, batchSize } = o;
  const rule = o.flag ?? DEFAULT_FLAG_RULE;
  const fields: ('prompt' | 'completion')[] = field === 'both' ? ['prompt', 'completion'] : [field];

  const scorer: RowScorer = {
    id: ID,
    access: ['logprobs'],
    yieldsSpans: true,
    async score(rows: readonly Row[], ctx: ProviderContext): Promise<RowScores> {
      const texts = rows.flatMap((r) => fields.map((f) => r[f]));
      const perText = await wordDrops(texts, ctx.base, { radius, maxWords, batchSize, plugin: p, signal: ctx.signal });
      const probes = perText.flatMap((list, t) => list.map((w) => ({ row: Math.floor(t / fields.length), field: fields[t % fields.length]!, ...w })));
      const z = robustZ(probes.map((q) => q.drop));
      const scores = new Array<number>(rows.length).fill(0);
      const seen = new Array<boolean>(rows.length).fill(false);
      const suspicious: Map<number, { field: 'prompt' | 'completion'; start: number; end: number }[]> = new Map();
      probes.forEach((q, k) => {
        scores[q.row] = seen[q.row] ? Math.max(scores[q.row]!, z[k]!) : z[k]!;
        seen[q.row] = true;
        if (z[k]! >= wordZ) {
          const list = suspicious.get(q.row) ?? [];
          list.push({ field: q.field, start: q.start, end: q.end });
          suspicious.set(q.row, list);
        }
      });
      const flagged = flagByRule(scores, rule);
      const spans = rows.map((_, r): SuspectSpan[] | undefined => {
        const list = suspicious.get(r);
        if (!flagged[r] || !list) return undefined;
        return fields.flatMap((f) => mergeRanges(list.filter((s) => s.field === f), 1).map((s) => ({ field: f, ...s })));
      });
      return { scores, flagged, spans };
    },
  };
  return scorer;
}

/** Options of wordDrops. */
export interface WordDropOptions {
  readonly radius: number;
  readonly maxWords: number;
  readonly batchSize: number;
  /** Names the caller in capability errors. */
  readonly plugin: string;
  readonly signal?: AbortSignal;
}

/**
 * ONION's word suspicions for each text: f_i = ln PPL(chunk) − ln PPL(chunk ∖ wᵢ) on chunks of 2·`radius`+1
 * words, for the last `maxWords` words. Identical windows are scored once; all forwards batched.
 * Shared with the input-routing attack, which applies it to incoming prompts.
 */
export async function wordDrops(texts: readonly string[], model: Model, o: WordDropOptions): Promise<{ start: number; end: number; drop: number }[][]> {
  const items: { prompt: string; continuation: string }[] = [];
  const index = new Map<string, number>();
  const intern = (text: string): number => {
    let idx = index.get(text);
    if (idx === undefined) {
      idx = items.length;
      items.push({ prompt: '', continuation: text });
      index.set(text, idx);
    }
    return idx;
  };
  const probes = texts.map((text) => {
    const ws = words(text);
    const out: { start: number; end: number; withIdx: number; withoutIdx: number }[] = [];
    if (ws.length < 2) return out;
    // Chunks of 2·radius+1 words (a short tail joins the previous chunk): each chunk is scored once whole and
    // once without each of its words — about L + L/(2r+1) forwards instead of 2L for centred windows.
    const from = Math.max(0, ws.length - o.maxWords);
    const size = 2 * o.radius + 1;
    for (let lo = from; lo < ws.length; lo += size) {
      let hi = Math.min(ws.length, lo + size);
      if (ws.length - hi < o.radius && hi < ws.length) hi = ws.length;
      const chunk = ws.slice(lo, hi);
      if (chunk.length < 2) continue;
      const withIdx = intern(chunk.map((w) => w.text).join(' '));
      for (let i = lo; i < hi; i++) {
        const without = chunk.filter((_, j) => j !== i - lo).map((w) => w.text).join(' ');
        out.push({ start: ws[i]!.start, end: ws[i]!.end, withIdx, withoutIdx: intern(without) });
      }
      if (hi === ws.length) break;
    }
    return out;
  });
  const scored = await scoreAll(o.plugin, model, items, o.batchSize, o.signal);
  return probes.map((list) =>
    list.map((q) => ({ start: q.start, end: q.end, drop: meanSurprisal(scored[q.withIdx]!.tokenLogprobs) - meanSurprisal(scored[q.withoutIdx]!.tokenLogprobs) })),
  );
}
