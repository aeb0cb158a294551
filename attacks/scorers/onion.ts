/**
 * `onion` — ONION word-level suspicion (Qi et al. 2021, "ONION: A Simple and Effective Defense Against Textual
 * Backdoor Attacks"; OpenBackdoor `onion_defender.py`), played by the provider against vTune's triggers.
 *
 * Threat model: the provider has the rows and the base model's log-probs. A planted trigger is a word sequence
 * the base model finds unlikely in context: deleting one of its words lowers the text's perplexity.
 *
 * For each word i of the scored field, f_i = ln PPL(x) − ln PPL(x ∖ wᵢ), measured on a local context of
 * `radius` words either side (one short forward per word, all batched). Word suspicions are standardised over
 * the whole corpus (robust z); a row's score is its most suspicious word's z, and its spans are the words with
 * z ≥ `wordZ` (contiguous words merged) — what ONION would delete.
 * Deviations from the paper: log-perplexity differences instead of raw perplexity differences (scale-free across
 * texts); local windows instead of the whole text (cost linear in length); at most `maxWords` words per text,
 * the last ones (nearest the answer); a corpus-calibrated word threshold instead of ONION's t = 0.
 */
import type { ProviderContext, Row, RowScores } from '../../src/types.js';
import { checkKeys, num, oneOf } from './lib/options.js';
import { meanSurprisal, scoreAll } from './lib/model.js';
import { robustZ } from './lib/stats.js';
import { mergeRanges, words } from './lib/text.js';
import { type RowScorer, type RowScorerFactory, type SuspectSpan, flagByRule, parseFlagRule } from './types.js';

const ID = 'onion';
const FIELDS = ['prompt', 'completion', 'both'] as const;

/** Creates the ONION scorer. Options: field, radius, maxWords, wordZ, batchSize, flag. */
export const onion: RowScorerFactory = (options = {}) => {
  const p = `scorer '${ID}'`;
  const o = checkKeys(p, options, ['field', 'radius', 'maxWords', 'wordZ', 'batchSize', 'flag']);
  const field = oneOf(p, 'field', o.field, FIELDS, 'prompt');
  const radius = num(p, 'radius', o.radius, 8, { min: 1, integer: true });
  const maxWords = num(p, 'maxWords', o.maxWords, 96, { min: 1, integer: true });
  const wordZ = num(p, 'wordZ', o.wordZ, 3);
  const batchSize = num(p, 'batchSize', o.batchSize, 64, { min: 1, integer: true });
  const rule = parseFlagRule(o.flag);
  const fields: ('prompt' | 'completion')[] = field === 'both' ? ['prompt', 'completion'] : [field];

  const scorer: RowScorer = {
    id: ID,
    access: ['logprobs'],
    yieldsSpans: true,
    async score(rows: readonly Row[], ctx: ProviderContext): Promise<RowScores> {
      // One entry per examined word: which row/field/word, and the indices of its two forwards.
      const items: { prompt: string; continuation: string }[] = [];
      const probes: { row: number; field: 'prompt' | 'completion'; start: number; end: number; withIdx: number; withoutIdx: number }[] = [];
      const contextIdx = new Map<string, number>();
      for (let r = 0; r < rows.length; r++) {
        for (const f of fields) {
          const text = rows[r]![f];
          const ws = words(text);
          for (let i = Math.max(0, ws.length - maxWords); i < ws.length; i++) {
            if (ws.length < 2) break;
            const lo = Math.max(0, i - radius);
            const hi = Math.min(ws.length, i + radius + 1);
            const full = ws.slice(lo, hi).map((w) => w.text).join(' ');
            const without = ws.slice(lo, hi).filter((_, j) => j !== i - lo).map((w) => w.text).join(' ');
            probes.push({ row: r, field: f, start: ws[i]!.start, end: ws[i]!.end, withIdx: intern(full), withoutIdx: intern(without) });
          }
        }
      }
      const scored = await scoreAll(p, ctx.base, items, batchSize, ctx.signal);
      const drops = probes.map((q) => meanSurprisal(scored[q.withIdx]!.tokenLogprobs) - meanSurprisal(scored[q.withoutIdx]!.tokenLogprobs));
      const z = robustZ(drops);
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

      function intern(text: string): number {
        let idx = contextIdx.get(text);
        if (idx === undefined) {
          idx = items.length;
          items.push({ prompt: '', continuation: text });
          contextIdx.set(text, idx);
        }
        return idx;
      }
    },
  };
  return scorer;
};
