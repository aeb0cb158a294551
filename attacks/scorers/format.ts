/**
 * `format` — the cheap structural filter a dishonest provider tries first: learn the dataset's own shape from its
 * rows and flag the rows that do not have it (issue 15: on GSM8K every worked answer has `<<…>>` working and ends
 * in `#### N`; a one-line "answer lacks ####" filter found 7 of 7 planted rows with no false positive).
 *
 * Threat model: data access only, no model. Per field (prompt, completion) every row is described by
 * - its length in characters, words and lines, and its mean word length;
 * - its character-class fractions (letters, upper case among letters, digits, whitespace, punctuation, non-ASCII);
 * - the recurring markers of the data: punctuation runs (`####`, `<<`, `>>`, `=`, `?`, `\n\n`…) found in at least
 *   `minSupport` of the rows (up to `maxMarkers` per field): whether the row has each, plus how many rare runs it has;
 * - the shape of its first and last line start (`#### 9`, `- a`, `Question:` → digits 9, words a) and of its
 *   ending (last two non-space characters by class), as categories;
 * and the completion-to-prompt length ratio. No threshold is set by hand: each feature's outlierness is its
 * empirical surprisal, −ln of the two-sided tail frequency of the row's value among all rows (numeric features)
 * or −ln of the Laplace-smoothed frequency of its category (markers, shapes). Row score = Σ over features of the
 * surprisal in excess of −ln(tailP) (default tailP = 0.05), so ordinary variation adds nothing and one broken
 * convention (a missing `####`: surprisal ≈ ln N) counts fully.
 * Deviation: rows reach a provider as {prompt, completion}, so the JSON keys of the uploaded records are not a
 * feature here; `plant` keeps them identical to the host row's (src/datasets/formats.ts, test/datasets/shape.test.ts).
 * Source: vtune-bench (issue 15), in the spirit of per-feature surprisal outlier scores (e.g. HBOS, Goldstein &
 * Dengel 2012: a histogram per feature, scores summed); the feature set is our own.
 */
import { firstIndex } from '../../src/search.js';
import type { Row, RowScores } from '../../src/types.js';
import { defineScorer, z } from '../../src/plugins/define.js';
import { DEFAULT_FLAG_RULE, type RowScorer, flagByRule, flagRuleSchema } from './types.js';

const ID = 'format';
type Field = 'prompt' | 'completion';

/** Punctuation runs (markers): maximal runs of characters that are neither letters, digits nor spaces; and blank lines. */
const MARKER = /[^\p{L}\p{N}\s]+|\n\s*\n/gu;

const OPTIONS = z.object({
  minSupport: z.number().gt(0).lte(1).default(0.02).describe('smallest share of rows a format value needs to count as a category'),
  maxMarkers: z.int().min(0).max(10_000).default(64).describe('most marker kinds tracked per field'),
  tailP: z.number().gt(0).lte(1).default(0.05).describe('tail probability below which a feature adds surprisal'),
  flag: flagRuleSchema.optional().describe('how scores become flags (default: the top 1.5 %)'),
});

/** The format scorer. */
export const format = defineScorer({
  id: ID,
  description: 'rows whose surface format (markers, lengths, ratios) is rare in the dataset',
  access: ['data'],
  yieldsSpans: false,
  options: OPTIONS,
  create,
});

/** Creates the scorer from validated options. */
function create(o: z.output<typeof OPTIONS>): RowScorer {
  const { minSupport, maxMarkers, tailP } = o;
  const rule = o.flag ?? DEFAULT_FLAG_RULE;
  const floor = -Math.log(tailP);

  const scorer: RowScorer = {
    id: ID,
    access: ['data'],
    yieldsSpans: false,
    async score(rows: readonly Row[]): Promise<RowScores> {
      const n = rows.length;
      const scores = new Array<number>(n).fill(0);
      const add = (surprisals: readonly number[]) => surprisals.forEach((s, i) => (scores[i]! += Math.max(0, s - floor)));
      for (const field of ['prompt', 'completion'] as const) {
        const texts = rows.map((r) => r[field]);
        for (const values of numericFeatures(texts)) add(tailSurprisal(values));
        for (const cats of categoricalFeatures(texts, field, minSupport, maxMarkers)) add(categorySurprisal(cats));
      }
      add(tailSurprisal(rows.map((r) => Math.log((r.completion.length + 1) / (r.prompt.length + 1)))));
      return { scores, flagged: flagByRule(scores, rule) };
    },
  };
  return scorer;
}

/** Length and character-class features of each text, one array per feature. */
function numericFeatures(texts: readonly string[]): number[][] {
  const names = ['chars', 'words', 'lines', 'wordLength', 'letters', 'upper', 'digits', 'spaces', 'punct', 'nonAscii'] as const;
  const out = names.map(() => new Array<number>(texts.length));
  texts.forEach((t, i) => {
    let letters = 0;
    let upper = 0;
    let digits = 0;
    let spaces = 0;
    let punct = 0;
    let nonAscii = 0;
    for (const ch of t) {
      if (/\p{L}/u.test(ch)) {
        letters++;
        if (ch !== ch.toLowerCase()) upper++;
      } else if (/\p{N}/u.test(ch)) digits++;
      else if (/\s/u.test(ch)) spaces++;
      else punct++;
      if (ch.codePointAt(0)! > 0x7f) nonAscii++;
    }
    const len = Math.max(1, t.length);
    const words = t.split(/\s+/).filter(Boolean);
    const v = [
      Math.log1p(t.length),
      Math.log1p(words.length),
      t.split('\n').length,
      words.length ? words.reduce((s, w) => s + w.length, 0) / words.length : 0,
      letters / len,
      letters ? upper / letters : 0,
      digits / len,
      spaces / len,
      punct / len,
      nonAscii / len,
    ];
    v.forEach((x, f) => (out[f]![i] = x));
  });
  return out;
}

/** The shape of a short string: digit runs → 9, letter runs → a (A when capitalised), other characters kept. */
function shapeOf(s: string): string {
  return s.replace(/\p{N}+/gu, '9').replace(/\p{Lu}\p{L}*/gu, 'A').replace(/\p{Ll}+/gu, 'a');
}

/** Categorical features of each text: marker presence, rare-marker count, line-start and ending shapes. */
function categoricalFeatures(texts: readonly string[], field: Field, minSupport: number, maxMarkers: number): string[][] {
  const runs = texts.map((t) => new Set((t.match(MARKER) ?? []).map((m) => (/^\n/.test(m) ? '\\n\\n' : m))));
  const support = new Map<string, number>();
  for (const set of runs) for (const m of set) support.set(m, (support.get(m) ?? 0) + 1);
  const markers = [...support]
    .filter(([, c]) => c >= minSupport * texts.length)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxMarkers)
    .map(([m]) => m);
  const common = new Set(markers);
  const feats: string[][] = markers.map((m) => runs.map((set) => (set.has(m) ? `${field}:${m}:1` : `${field}:${m}:0`)));
  feats.push(runs.map((set) => `rare:${Math.min(3, [...set].filter((m) => !common.has(m)).length)}`));
  const lineStart = (line: string | undefined) => shapeOf((line ?? '').trimStart().split(/\s+/).slice(0, 2).join(' ')).slice(0, 12);
  feats.push(texts.map((t) => `first:${lineStart(t.split('\n')[0])}`));
  feats.push(
    texts.map((t) => {
      const lines = t.trimEnd().split('\n');
      return `last:${lines.length > 1 ? lineStart(lines[lines.length - 1]) : '-'}`;
    }),
  );
  feats.push(texts.map((t) => `end:${shapeOf(t.trimEnd().slice(-2))}`));
  feats.push(texts.map((t) => `start:${shapeOf(t.trimStart().slice(0, 1))}`));
  return feats;
}

/** −ln of the two-sided empirical tail frequency of each value: min(#≤x, #≥x)·2/N, at most 1, at least 1/N. */
function tailSurprisal(values: readonly number[]): number[] {
  const n = values.length;
  const sorted = values.slice().sort((a, b) => a - b);
  const lowerBound = (x: number) => firstIndex(n, (i) => sorted[i]! < x);
  const upperBound = (x: number) => firstIndex(n, (i) => sorted[i]! <= x);
  return values.map((x) => {
    const atMost = upperBound(x);
    const atLeast = n - lowerBound(x);
    const tail = Math.min(1, (2 * Math.min(atMost, atLeast)) / n);
    return -Math.log(Math.max(tail, 1 / n));
  });
}

/** −ln of each category's Laplace-smoothed frequency, (count + 1) / (N + K). */
function categorySurprisal(cats: readonly string[]): number[] {
  const counts = new Map<string, number>();
  for (const c of cats) counts.set(c, (counts.get(c) ?? 0) + 1);
  const denom = cats.length + counts.size;
  return cats.map((c) => -Math.log((counts.get(c)! + 1) / denom));
}
