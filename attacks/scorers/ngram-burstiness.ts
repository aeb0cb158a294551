/**
 * `ngram-burstiness` — trigger/signature discovery by n-gram burstiness and prompt→completion co-occurrence
 * (attacks.md §2.2g: "the strongest cheap attack if T or S is shared").
 *
 * Threat model: data access only. When several planted rows share a trigger or signature, its word n-grams
 * recur in a handful of rows far more often than their words' frequencies predict, and a prompt-side n-gram
 * implies a completion-side one (T ⇒ S).
 *
 * For word n-grams g (n = nMin…nMax) of prompts and completions separately: document frequency DF(g); the
 * DF expected without a planted association, E(g) (bigrams: independent words, N·Π DF(w)/N; longer grams:
 * DF(prefix)·DF(suffix)/DF(overlap), a document-level Markov background); burstiness ln b(g) = ln(DF / E). Candidates: minDf ≤ DF ≤ max(minDf, maxDfFraction·N) and ln b > minLogBurst.
 * Co-occurrence of a prompt candidate p and a completion candidate r: a(p, r) = C(p,r)² / (DF_p·DF_r) ∈ [0, 1]
 * (= P(r|p)·P(p|r), 1 when T ⇔ S). Row score = max ln b over its candidates + coBonus · max a (0 without
 * candidates); rows with a candidate are flagged. Spans: the words of candidates within `spanRatio` of the row's
 * best ln b in that field (they *are* the recovered T and S; weaker phrases are left out).
 * Deviation: the background is fitted on the dataset itself (no external corpus offline) and at the document
 * level, so template phrases of common words are not bursty. With unique per-row (T, S) nothing recurs
 * and the score collapses, by design.
 */
import type { Row, RowScores } from '../../src/types.js';
import { defineScorer, z } from '../../src/plugins/define.js';
import { mergeRanges, normWord, type Word, words } from './lib/text.js';
import { type RowScorer, type SuspectSpan, flagByRule, flagRuleSchema } from './types.js';

const ID = 'ngram-burstiness';
type Field = 'prompt' | 'completion';

const OPTIONS = z
  .object({
    nMin: z.int().min(1).max(16).default(2).describe('shortest n-gram (words)'),
    nMax: z.int().min(1).max(16).default(6).describe("longest n-gram (words), ≥ 'nMin'"),
    minDf: z.int().min(2).default(3).describe('least number of rows an n-gram must recur in'),
    maxDfFraction: z.number().gt(0).lte(1).default(0.02).describe('most rows (as a fraction) an n-gram may occur in and still be rare'),
    minLogBurst: z.number().default(Math.log(50)).describe('least ln burstiness (observed / expected co-occurrence) of a candidate'),
    coBonus: z.number().min(0).default(5).describe('score bonus when a prompt and a completion candidate co-occur'),
    spanRatio: z.number().min(0).max(1).default(0.75).describe('share of the best candidate score a span needs to be reported'),
    flag: flagRuleSchema.optional().describe('how scores become flags (default: score > 0, i.e. any row holding a candidate)'),
  })
  .superRefine((o, ctx) => {
    if (o.nMax < o.nMin) ctx.addIssue({ code: 'custom', path: ['nMax'], message: `must be ≥ nMin (${o.nMin}), got ${o.nMax}` });
  });

/** The n-gram burstiness scorer. */
export const ngramBurstiness = defineScorer({
  id: ID,
  description: 'rare word n-grams that recur in a few rows far more than chance (triggers and signatures planted several times)',
  citation: 'attacks.md §2.2',
  access: ['data'],
  yieldsSpans: true,
  options: OPTIONS,
  create,
});

/** Creates the scorer from validated options. */
function create(o: z.output<typeof OPTIONS>): RowScorer {
  const { nMin, nMax, minDf, maxDfFraction, minLogBurst, coBonus, spanRatio } = o;
  // Any row holding a candidate n-gram is flagged: candidates are already rare, recurring and bursty.
  const rule = o.flag ?? { kind: 'threshold' as const, t: 0 };

  const scorer: RowScorer = {
    id: ID,
    access: ['data'],
    yieldsSpans: true,
    async score(rows: readonly Row[]): Promise<RowScores> {
      const n = rows.length;
      const maxDf = Math.max(minDf, Math.floor(maxDfFraction * n));
      const hits: { field: Field; key: number; start: number; end: number; logB: number }[][] = rows.map(() => []);
      const df = new Map<number, number>();
      const vocab = new Map<string, number>();
      for (const field of ['prompt', 'completion'] as const) {
        const toks = rows.map((r) => tokenize(r[field], vocab));
        // DF of every n-gram of 1…nMax words (sub-grams are needed for the background of longer ones).
        const gramDf = new Map<number, number>();
        toks.forEach((t) => {
          const seen = new Set<number>();
          forEachGram(t, 1, nMax, (key) => {
            if (seen.has(key)) return;
            seen.add(key);
            gramDf.set(key, (gramDf.get(key) ?? 0) + 1);
          });
        });
        const logB = new Map<number, number>();
        toks.forEach((t, r) => {
          forEachGram(t, Math.max(2, nMin), nMax, (key, i, len) => {
            const gdf = gramDf.get(key)!;
            if (gdf < minDf || gdf > maxDf) return;
            let b = logB.get(key);
            if (b === undefined) {
              b = Math.log(gdf) - expectedLogDf(t.ids, i, len, gramDf, n);
              logB.set(key, b);
            }
            if (b <= minLogBurst) return;
            const fieldKey = key * 2 + (field === 'prompt' ? 0 : 1);
            // Common words at the edges (DF above the cap) add nothing to b: keep the span to its rare core.
            let a = i;
            let z = i + len - 1;
            while (a < z && gramDf.get(gramKey(t.ids, a, 1))! > maxDf) a++;
            while (z > a && gramDf.get(gramKey(t.ids, z, 1))! > maxDf) z--;
            hits[r]!.push({ field, key: fieldKey, ...core(t.words[a]!, t.words[z]!), logB: b });
            df.set(fieldKey, gdf);
          });
        });
      }
      // Co-occurrence counts of (prompt candidate, completion candidate) pairs.
      const co = new Map<string, number>();
      const pairsOf = hits.map((h) => {
        const ps = [...new Set(h.filter((x) => x.field === 'prompt').map((x) => x.key))];
        const cs = [...new Set(h.filter((x) => x.field === 'completion').map((x) => x.key))];
        const pairs: string[] = [];
        for (const a of ps) for (const b of cs) pairs.push(`${a}|${b}`);
        for (const k of pairs) co.set(k, (co.get(k) ?? 0) + 1);
        return pairs;
      });
      const scores = hits.map((h, r) => {
        if (h.length === 0) return 0;
        let best = 0;
        for (const k of pairsOf[r]!) {
          const [a, b] = k.split('|').map(Number) as [number, number];
          const c = co.get(k)!;
          best = Math.max(best, (c * c) / (df.get(a)! * df.get(b)!));
        }
        return Math.max(...h.map((x) => x.logB)) + coBonus * best;
      });
      const flagged = flagByRule(scores, rule);
      const spans = hits.map((h, r): SuspectSpan[] | undefined => {
        if (!flagged[r] || h.length === 0) return undefined;
        return (['prompt', 'completion'] as const).flatMap((f) => {
          const inField = h.filter((x) => x.field === f);
          const top = Math.max(...inField.map((x) => x.logB));
          return mergeRanges(inField.filter((x) => x.logB >= spanRatio * top), 1).map((s) => ({ field: f, ...s }));
        });
      });
      return { scores, flagged, spans };
    },
  };
  return scorer;
}

interface Tokens {
  readonly words: Word[];
  readonly ids: Int32Array;
}

function tokenize(text: string, vocab: Map<string, number>): Tokens {
  const ws = words(text);
  const ids = new Int32Array(ws.length);
  ws.forEach((w, i) => {
    const key = normWord(w.text);
    let id = vocab.get(key);
    if (id === undefined) vocab.set(key, (id = vocab.size));
    ids[i] = id;
  });
  return { words: ws, ids };
}

/** The range from word `a` to word `z` without the punctuation around it (`k99k0.` → `k99k0`). */
function core(a: Word, z: Word): { start: number; end: number } {
  const lead = /^[^\p{L}\p{N}]*/u.exec(a.text)![0].length;
  const trail = /[^\p{L}\p{N}]*$/u.exec(z.text)![0].length;
  const start = a.start + (lead < a.text.length ? lead : 0);
  const end = z.end - (trail < z.text.length ? trail : 0);
  return end > start ? { start, end } : { start: a.start, end: z.end };
}

/**
 * ln of the DF an n-gram would have without any planted association. Bigrams: its two words fall into rows
 * independently, E = N · DF(w₁)/N · DF(w₂)/N. Longer grams: the Markov extension of their sub-grams at the
 * document level, E = DF(prefix) · DF(suffix) / DF(overlap) — so a template phrase ("and its name is") is no
 * burstier than its parts, and a shared trigger shows up in the bigrams where its rare words first meet.
 */
function expectedLogDf(ids: Int32Array, i: number, len: number, gramDf: ReadonlyMap<number, number>, n: number): number {
  const df = (a: number, l: number) => gramDf.get(gramKey(ids, a, l))!;
  if (len === 2) return ids[i] === ids[i + 1] ? Math.log(df(i, 1)) : Math.log(df(i, 1)) + Math.log(df(i + 1, 1)) - Math.log(n);
  return Math.log(df(i, len - 1)) + Math.log(df(i + 1, len - 1)) - Math.log(df(i + 1, len - 2));
}

/** The key forEachGram gives the n-gram of `len` words at `i`. */
function gramKey(ids: Int32Array, i: number, len: number): number {
  let key = 0;
  forEachGram({ words: [], ids: ids.subarray(i, i + len) }, len, len, (k, at) => {
    if (at === 0) key = k;
  });
  return key;
}

/** Calls `fn(key, start, length)` for every n-gram; keys are 48-bit hashes of the word ids. */
function forEachGram(t: Tokens, nMin: number, nMax: number, fn: (key: number, i: number, len: number) => void): void {
  for (let i = 0; i < t.ids.length; i++) {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let len = 1; len <= nMax && i + len <= t.ids.length; len++) {
      const id = t.ids[i + len - 1]!;
      h1 = Math.imul(h1 ^ id, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ (id + 0x9e3779b9), 0x85ebca6b) >>> 0;
      if (len >= nMin) fn((h1 * 0x1000 + (h2 & 0xfff)) * 16 + len, i, len);
    }
  }
}
