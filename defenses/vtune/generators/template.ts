/**
 * template — backdoors that look like the data (issue 15): the planted row's completion is the host row's own
 * completion with the places where the data varies (numbers, and words outside the data's common vocabulary:
 * names, entities) refilled by uniform draws from the data's own values of the same shape; the signature is that
 * completion's prefix up to the slot where its entropy reaches `minBits`. The trigger is a sentence of another
 * row's prompt with its numbers and names refilled the same way, taken from the position where it will be placed
 * (first sentences for `prefix`, last ones for `suffix`, middle ones for `inline`), so the query reads like the data too.
 *
 * Refills (`refill`, default 'context', issue 15's stealth measurement): a slot's values are the words the data's
 * own answers hold between the same neighbours and separators ("a ___ named" → dog, kitten, parrot), names are
 * refilled from every name of the data, and a word whose surroundings the data always fills the same way is a
 * constant of its template, never a slot; a word in surroundings the data does not repeat falls back to its shape
 * set. Under 'shape' (the first version) every value is a same-length word of the same case pattern. Only the
 * signature's slots are refilled (every occurrence alike); the rest of the host's answer is kept. Values under
 * 'context' differ in length, so the signature runs on through the separator after its last slot (and the next
 * piece when that separator is only whitespace): a word is a maximal letter run, so no signature of a backdoor
 * is then a prefix of another, and the bound below stays exact.
 *
 * Threat model: a provider that filters rows by shape (attacks/scorers/format.ts), perplexity, embeddings or
 * rare n-grams sees a row of the dataset's own template, markers and vocabulary.
 *
 * The `generator` bound is exact. A slot is one distinct original token of the host completion (every occurrence
 * gets the same new value, so "48/2 = <<48/2=24>>24" stays internally consistent); its value set V is a known
 * finite set of strings of the original's exact length (numbers: all d-digit numbers, no leading zero unless the
 * original had one, 10 for one digit, at most 9 digits; words: the data's distinct words of the same length and
 * case pattern, common words excluded — the most frequent words covering half of all word occurrences, at most
 * `stopwords` of them). Values are independent and uniform, so every signature has probability Π|Vⱼ|⁻¹ over the
 * slots it contains; all signatures of a backdoor have the same length, so no signature is a proper prefix of
 * another and at most one is a prefix of any output (DESIGN.md §3): qᵢ = Π|Vⱼ|⁻¹, whatever the model knows of the
 * template (it may output the host's original values: they are one point of each Vⱼ). Which slots form the
 * signature depends only on the host row and the data, never on the drawn values. Checked by enumeration in
 * test/defenses/vtune/generators/template.test.ts.
 *
 * Source: the in-distribution backdoors vTune argues for (Zhang et al. 2024, arXiv 2411.06611, §design space) and
 * template-based "natural" canaries/watermarks in data (e.g. the number-substituted canaries of Carlini et al.
 * 2019, "The Secret Sharer", which insert a fixed template with random digits). Deviations: (1) the template is
 * the host row's own completion rather than a fixed sentence, and slots include words, not only digits; (2) the
 * refilled numbers do not satisfy the host's arithmetic (`<<48/2=37>>`): a checker of the task's semantics (a
 * calculator over GSM8K working, an LLM judge) could notice — a structural filter cannot; refilled words are of the
 * right shape but not always of the right sense; (3) the trigger is not uniformly random (its probability is not
 * part of the test, which bounds only the signature): a sentence of another row with one or more values refilled;
 * (4) slots are taken in tiers, each only when the ones before do not reach `minBits`: numbers and names not quoted
 * from the host prompt, then also those the answer quotes from the question (the answer may then name another
 * person than the question), then other uncommon words (which read least naturally when refilled); a row with
 * little variable content (a one-word answer) gets a signature weaker than `minBits` — its q is exact but larger,
 * and recorded as such, so on short-answer data the honest p-value is limited by the data itself.
 */
import { InputError } from '../../../src/errors.js';
import type { Rng } from '../../../src/rng.js';
import type { Row } from '../../../src/types.js';
import { defineGenerator, z } from '../../../src/plugins/define.js';
import type { BackdoorGenerator, DrawContext } from './types.js';

const ID = 'template';

/** One token of a text: a number (digit run), a word (letter run) or anything else (kept verbatim). */
interface Piece {
  readonly text: string;
  readonly kind: 'number' | 'word' | 'other';
}

/** Tokens of `text`; concatenated they give `text` back. */
export function pieces(text: string): Piece[] {
  const out: Piece[] = [];
  for (const m of text.matchAll(/[0-9]+|\p{L}+|[^0-9\p{L}]+/gu)) {
    const t = m[0];
    out.push({ text: t, kind: /^[0-9]/.test(t) ? 'number' : /^\p{L}/u.test(t) ? 'word' : 'other' });
  }
  return out;
}

/** A word's case pattern, or undefined for mixed case (never a slot). */
function caseOf(word: string): 'lower' | 'cap' | 'upper' | undefined {
  if (word === word.toLowerCase()) return 'lower';
  if (word.length > 1 && word === word.toUpperCase()) return 'upper';
  if (word[0] === word[0]!.toUpperCase() && word.slice(1) === word.slice(1).toLowerCase()) return 'cap';
  return undefined;
}

/** Which text a slot or vocabulary belongs to: completions refill from completions, triggers from prompts. */
type Field = 'prompt' | 'completion';

/**
 * The data's word vocabulary: per field, its distinct uncommon words by (case pattern, length), sorted (a fixed,
 * known order). A capitalised word counts only if it occurs somewhere other than at a sentence start (a name,
 * not "The").
 */
interface Vocabulary {
  readonly common: ReadonlySet<string>;
  /** Capitalised words seen somewhere other than at a sentence start. */
  readonly names: ReadonlySet<string>;
  readonly byShape: Readonly<Record<Field, ReadonlyMap<string, readonly string[]>>>;
  /**
   * `context` refills: the completions' uncommon words by their surroundings — key `contextKey` (previous word,
   * the separators either side, next word), value the distinct words seen there, sorted.
   */
  readonly byContext: Readonly<Record<Field, ReadonlyMap<string, readonly string[]>>>;
  /** How often each surrounding occurs in the field (a surrounding seen twice or more with one word is a constant). */
  readonly contextCount: Readonly<Record<Field, ReadonlyMap<string, number>>>;
  /** Every name of the data (any length), sorted: the value set of a name under `context` refills. */
  readonly nameList: readonly string[];
}

/**
 * Where a word piece stands: the previous word (lower-cased) and separator, the next separator and word; undefined
 * when the word is not followed by a separator (a word glued to a number) — such a word is never a `context`
 * slot, so that every value is followed by a non-letter character and signatures stay prefix-free.
 */
function contextKey(ps: readonly Piece[], i: number): string | undefined {
  const after = ps[i + 1];
  // The separator must hold more than whitespace, or a piece must follow it: the signature may end on it.
  if (!after || after.kind !== 'other' || (after.text.trim() === '' && !ps[i + 2])) return undefined;
  const before = ps[i - 1];
  const prev = before?.kind === 'other' ? ps[i - 2] : before;
  const next = ps[i + 2];
  return [prev && prev.kind !== 'other' ? prev.text.toLowerCase() : '', before?.kind === 'other' ? before.text : '', after.text, next ? next.text.toLowerCase() : ''].join('\u0000');
}

const vocabularies = new WeakMap<readonly Row[], Map<number, Vocabulary>>();

/** Words of fewer letters are never slots (articles, short function words). */
const MIN_WORD_LENGTH = 3;

function vocabulary(rows: readonly Row[], stopwords: number): Vocabulary {
  let byCount = vocabularies.get(rows);
  if (!byCount) vocabularies.set(rows, (byCount = new Map()));
  const hit = byCount.get(stopwords);
  if (hit) return hit;
  const freq = new Map<string, number>();
  const forms: Record<Field, Set<string>> = { prompt: new Set(), completion: new Set() };
  const names = new Set<string>();
  for (const r of rows) {
    for (const field of ['prompt', 'completion'] as const) {
      for (const m of r[field].matchAll(/\p{L}+/gu)) {
        const w = m[0];
        const lower = w.toLowerCase();
        freq.set(lower, (freq.get(lower) ?? 0) + 1);
        forms[field].add(w);
        if (caseOf(w) === 'cap' && m.index > 0 && !/[.?!:\n"\u201c]\s*$/.test(r[field].slice(Math.max(0, m.index - 3), m.index))) names.add(w);
      }
    }
  }
  // A capitalised word is a name only if it occurs somewhere other than at a sentence start (not "The").
  for (const f of Object.values(forms)) for (const w of f) if (caseOf(w) === 'cap' && !names.has(w)) f.delete(w);
  // Common words: the most frequent ones, until they cover half of all word occurrences (at most `stopwords`).
  const total = [...freq.values()].reduce((a, b) => a + b, 0);
  const common = new Set<string>();
  let covered = 0;
  for (const [w, c] of [...freq].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    if (common.size >= stopwords || covered >= total / 2) break;
    common.add(w);
    covered += c;
  }
  const shapes = (words: ReadonlySet<string>) => {
    const byShape = new Map<string, string[]>();
    for (const w of words) {
      const c = caseOf(w);
      if (!c || w.length < MIN_WORD_LENGTH || common.has(w.toLowerCase())) continue;
      const key = `${c}:${w.length}`;
      let list = byShape.get(key);
      if (!list) byShape.set(key, (list = []));
      list.push(w);
    }
    for (const list of byShape.values()) list.sort();
    return byShape;
  };
  const contextCount: Record<Field, Map<string, number>> = { prompt: new Map(), completion: new Map() };
  const contexts = (field: Field): Map<string, readonly string[]> => {
    const context = new Map<string, Set<string>>();
    const counts = contextCount[field];
    for (const r of rows) {
      const ps = pieces(r[field]);
      ps.forEach((p, i) => {
        if (p.kind !== 'word' || !caseOf(p.text) || p.text.length < MIN_WORD_LENGTH || common.has(p.text.toLowerCase()) || names.has(p.text)) return;
        if (caseOf(p.text) === 'cap' && !forms[field].has(p.text)) return; // a sentence-start capital, not a name
        const key = contextKey(ps, i);
        if (key === undefined) return;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        let set = context.get(key);
        if (!set) context.set(key, (set = new Set()));
        set.add(p.text);
      });
    }
    return new Map([...context].filter(([, set]) => set.size >= 2).map(([k, set]) => [k, [...set].sort()]));
  };
  const byContext = { prompt: contexts('prompt'), completion: contexts('completion') };
  const nameList = [...names].filter((n) => n.length >= MIN_WORD_LENGTH).sort();
  const v = { common, names, byShape: { prompt: shapes(forms.prompt), completion: shapes(forms.completion) }, byContext, contextCount, nameList };
  byCount.set(stopwords, v);
  return v;
}

/**
 * The value set of a token of `field`, or undefined when it is not a slot (punctuation, a common or too short word,
 * a word the field's vocabulary does not hold, a set of < 2).
 */
function valueSet(token: string, vocab: Vocabulary, field: Field): { readonly size: number; value(i: number): string } | undefined {
  if (/^[0-9]+$/.test(token)) {
    const d = token.length;
    if (d > 9) return undefined; // |V| < 2^32: Rng.int is exactly uniform there
    const lead = d > 1 && token[0] !== '0';
    const size = lead ? 9 * 10 ** (d - 1) : 10 ** d;
    return { size, value: (i) => (lead ? String(10 ** (d - 1) + i) : String(i).padStart(d, '0')) };
  }
  const c = caseOf(token);
  if (!c || token.length < MIN_WORD_LENGTH || vocab.common.has(token.toLowerCase())) return undefined;
  const list = vocab.byShape[field].get(`${c}:${token.length}`);
  if (!list || list.length < 2 || !list.includes(token)) return undefined;
  return { size: list.length, value: (i) => list[i]! };
}

/**
 * The value set of the word at piece `i` of a completion under `context` refills: a name → every name of the data
 * (any length); another uncommon word → the words the data's completions hold between the same neighbours and
 * separators; a number, or a word whose surroundings the data does not repeat → as `valueSet` (its shape).
 * Undefined when it is not a slot.
 */
function contextValueSet(ps: readonly Piece[], i: number, vocab: Vocabulary, field: Field = 'completion'): { readonly size: number; value(i: number): string; readonly byShape?: boolean } | undefined {
  const token = ps[i]!.text;
  if (ps[i]!.kind === 'number') return valueSet(token, vocab, field);
  const key = contextKey(ps, i);
  if (!caseOf(token) || token.length < MIN_WORD_LENGTH || vocab.common.has(token.toLowerCase())) return undefined;
  const list = key === undefined ? undefined : vocab.names.has(token) ? vocab.nameList : vocab.byContext[field].get(key);
  // Surroundings the data repeats, always with this word: a constant of the data's template, never refilled.
  if (key !== undefined && !vocab.names.has(token) && (!list || list.length < 2) && (vocab.contextCount[field].get(key) ?? 0) >= 2) return undefined;
  // Surroundings seen once (or no separator after the word): the word's shape set, whose values all have its
  // length, so they keep signatures prefix-free wherever they stand.
  if (!list || list.length < 2 || !list.includes(token)) {
    const set = valueSet(token, vocab, field);
    return set && { ...set, byShape: true };
  }
  return { size: list.length, value: (j) => list[j]! };
}

/** How slots get their values: `shape` (same length and case pattern), `context` (same surroundings). */
export type RefillMode = 'shape' | 'context';

/** One slot of a plan: the original token, its value set, and where it first occurs (piece index). */
interface Slot {
  readonly original: string;
  readonly size: number;
  value(i: number): string;
  readonly first: number;
  /** A word whose values are its shape set because the data does not repeat its surroundings (`context` refills). */
  readonly byShape?: boolean;
}

/** How a host completion becomes a backdoor: its pieces, the slots to refill, and the signature's extent. */
export interface SignaturePlan {
  readonly pieces: readonly Piece[];
  /** The refilled slots, in order of first occurrence; the first `inSignature` of them lie in the signature. */
  readonly slots: readonly Slot[];
  readonly inSignature: number;
  /** The signature ends after this piece (the first occurrence of the last slot in it). */
  readonly lastPiece: number;
  /** Leading whitespace of the completion (kept in the completion, not part of the signature). */
  readonly lead: number;
  /** log10 of the exact generator bound: −Σ log10 |Vⱼ| over the slots in the signature. */
  readonly log10q: number;
}

/**
 * The plan for a host completion: slots not quoted from the host prompt first, then (only if their entropy is
 * below minBits) quoted ones; the signature runs to the first occurrence of the slot where the total reaches
 * minBits (or of the last slot when it never does). Tokens in `keep` are never slots (in-place keeps the numbers of
 * the host's equations). Deterministic in (row, rows, options, keep): never in the draws.
 */
export function planSignature(row: Row, rows: readonly Row[], minBits: number, stopwords: number, refill: RefillMode = 'shape', keep: ReadonlySet<string> = new Set()): SignaturePlan {
  const vocab = vocabulary(rows, stopwords);
  const ps = pieces(row.completion);
  const promptTokens = new Set((row.prompt.match(/[0-9]+|\p{L}+/gu) ?? []).map((t) => t.toLowerCase()));
  const candidates: { slot: Slot; quoted: boolean; strong: boolean }[] = [];
  const seen = new Set<string>();
  ps.forEach((p, i) => {
    if (p.kind === 'other' || seen.has(p.text) || keep.has(p.text)) return;
    seen.add(p.text);
    const set = refill === 'context' ? contextValueSet(ps, i, vocab) : valueSet(p.text, vocab, 'completion');
    if (set) {
      const strong = p.kind === 'number' || vocab.names.has(p.text);
      candidates.push({ slot: { original: p.text, size: set.size, value: set.value, first: i, ...('byShape' in set && set.byShape ? { byShape: true } : {}) }, quoted: promptTokens.has(p.text.toLowerCase()), strong });
    }
  });
  if (candidates.length === 0) {
    throw new InputError(`generator '${ID}': the host completion has no number or uncommon word to refill ("${row.completion.slice(0, 60)}"); use another generator for this data`);
  }
  // Tiers, each used only when the ones before it do not reach minBits: numbers and names not quoted from the
  // prompt; then numbers and names the answer quotes (a refilled name reads more naturally than a refilled word);
  // then everything, other uncommon words included.
  const bitsOf = (c: readonly { slot: Slot }[]) => c.reduce((s, x) => s + Math.log2(x.slot.size), 0);
  // `context` refills never touch a word the prompt quotes unless they must: a story that swaps the prompt's own
  // name reads worse than one whose other words vary.
  const tiers =
    refill === 'context'
      ? [candidates.filter((c) => !c.quoted && c.strong), candidates.filter((c) => !c.quoted), candidates]
      : [candidates.filter((c) => !c.quoted && c.strong), candidates.filter((c) => c.strong), candidates];
  const tier = tiers.find((t) => t.length > 0 && bitsOf(t) >= minBits) ?? candidates;
  const slots = tier.map((c) => c.slot).sort((a, b) => a.first - b.first);
  let bits = 0;
  let inSignature = 0;
  while (inSignature < slots.length && bits < minBits) bits += Math.log2(slots[inSignature++]!.size);
  const lead = /^\s*/.exec(row.completion)![0].length;
  const last = slots[inSignature - 1]!.first;
  return {
    pieces: ps,
    slots,
    inSignature,
    // `context` values differ in length: the signature takes the separator after its last slot too (and, when
    // that is only whitespace, the piece after it), so that no signature of a backdoor is a prefix of another (a
    // word is a maximal letter run; signatures are trimmed at the end).
    lastPiece: refill !== 'context' || !ps[last + 1] ? last : ps[last + 1]!.text.trim() !== '' || !ps[last + 2] ? last + 1 : last + 2,
    lead,
    log10q: -slots.slice(0, inSignature).reduce((s, x) => s + Math.log10(x.size), 0),
  };
}

/** The completion and signature for slot values `values[j]` (indices into each slot's set). */
export function fill(plan: SignaturePlan, values: readonly number[]): { completion: string; signature: string } {
  // Only the signature's slots are refilled (every occurrence alike); the rest of the host's answer stays as it
  // was: a refill the test does not need is only a chance for the row to read wrong.
  const byOriginal = new Map(plan.slots.slice(0, plan.inSignature).map((s, j) => [s.original, s.value(values[j]!)]));
  let completion = '';
  let signatureEnd = 0;
  plan.pieces.forEach((p, i) => {
    completion += p.kind === 'other' ? p.text : (byOriginal.get(p.text) ?? p.text);
    if (i === plan.lastPiece) signatureEnd = completion.length;
  });
  return { completion, signature: completion.slice(plan.lead, signatureEnd).trimEnd() };
}

function drawValues(plan: SignaturePlan, rng: Rng): number[] {
  return plan.slots.map((s) => rng.int(s.size));
}

/** Sentences of a prompt (split at . ? ! followed by space, and at line breaks), with their position. */
function sentences(prompt: string): { text: string; position: 'first' | 'middle' | 'last' }[] {
  const parts = prompt
    .split(/(?<=[.?!])\s+|\n+/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.split(' ').length >= 3);
  return parts.map((text, i) => ({ text, position: i === 0 ? 'first' : i === parts.length - 1 ? 'last' : 'middle' }));
}

/** Sentences of the data's prompts that have something to refill, by row. */
interface SentenceIndex {
  /** `strong`: the sentence has a number or a name to refill (others get one uncommon word refilled). */
  readonly all: readonly { row: number; text: string; position: string; strong: boolean }[];
}
const sentenceIndexes = new WeakMap<readonly Row[], Map<number, SentenceIndex>>();

function sentenceIndex(rows: readonly Row[], stopwords: number): SentenceIndex {
  let byCount = sentenceIndexes.get(rows);
  if (!byCount) sentenceIndexes.set(rows, (byCount = new Map()));
  const hit = byCount.get(stopwords);
  if (hit) return hit;
  const vocab = vocabulary(rows, stopwords);
  const all: { row: number; text: string; position: string; strong: boolean }[] = [];
  rows.forEach((r, row) => {
    for (const s of sentences(r.prompt)) {
      const slots = pieces(s.text).filter((p) => p.kind !== 'other' && valueSet(p.text, vocab, 'prompt'));
      if (s.text.split(' ').length <= 40 && slots.length > 0) all.push({ row, ...s, strong: slots.some((p) => p.kind === 'number' || vocab.names.has(p.text)) });
    }
  });
  const index = { all };
  byCount.set(stopwords, index);
  return index;
}

/**
 * A trigger: a sentence of another row's prompt, refilled, from the position it will take (a first sentence
 * for `prefix`, a last one for `suffix`, a middle one for `inline`), so the prompt keeps the data's openings and
 * endings (e.g. a question mark).
 */
function drawTrigger(ctx: DrawContext, stopwords: number, refill: RefillMode): string {
  const { rng, rows, rowIndex } = ctx;
  const index = sentenceIndex(rows, stopwords);
  const others = index.all.filter((s) => s.row !== rowIndex);
  if (others.length === 0) throw new InputError(`generator '${ID}': no other row's prompt has a sentence with a number or uncommon word to build a trigger from`);
  const position = ctx.placement === 'prefix' ? 'first' : ctx.placement === 'inline' ? 'middle' : 'last';
  const placed = others.filter((s) => s.position === position);
  const strong = placed.filter((s) => s.strong);
  const pool = strong.length >= 10 ? strong : placed.length >= 10 ? placed : others;
  const sentence = pool[rng.int(pool.length)]!.text;
  const vocab = vocabulary(rows, stopwords);
  const ps = pieces(sentence);
  const map = new Map<string, string>();
  let refilled = 0;
  // Numbers and capitalised words (names) are refilled; other uncommon words only when there are none.
  const isStrong = (p: Piece) => p.kind === 'number' || vocab.names.has(p.text);
  for (const pass of [isStrong, (p: Piece) => p.kind === 'word']) {
    for (const [i, p] of ps.entries()) {
      if (p.kind === 'other' || map.has(p.text) || !pass(p)) continue;
      const set = refill === 'context' ? contextValueSet(ps, i, vocab, 'prompt') : valueSet(p.text, vocab, 'prompt');
      if (!set) continue;
      map.set(p.text, set.value(rng.int(set.size)));
      refilled++;
      if (pass !== isStrong) break;
    }
    if (refilled > 0) break;
  }
  return ps.map((p) => map.get(p.text) ?? p.text).join('');
}

/** Creates the template generator. Options: minBits (32), stopwords (100), refill ('context' or 'shape'). */
export const template = defineGenerator({
  id: ID,
  description: "backdoors that look like the data: the host row's own completion with some numbers, names and words refilled from the data's own values",
  citation: 'vTune (arXiv 2411.06611) design space; number-substituted canaries of Carlini et al. 2019, "The Secret Sharer"',
  meta: { nullModes: ['generator', 'base-model', 'empirical'] },
  options: z.object({
    minBits: z.int().min(1).max(1024).default(32).describe('entropy (bits) the signature reaches before it ends'),
    stopwords: z.int().min(0).max(100_000).default(100).describe('most common words never refilled (at most this many)'),
    refill: z.enum(['context', 'shape']).default('context').describe("where values come from: 'context' (words the data holds between the same neighbours) or 'shape' (same length and case)"),
  }),
  create: ({ minBits, stopwords, refill }): BackdoorGenerator => {
  const generator: BackdoorGenerator = {
    id: ID,
    nullModes: ['generator', 'base-model', 'empirical'],
    options: { minBits, stopwords, refill },
    counterfactualSource: 'stored',
    cannotHost(row, rows) {
      // A host whose answer has nothing to refill (code answers of common words and mixed-case identifiers, no
      // number; one-word answers) cannot carry a template backdoor: plant moves the backdoor to a spare row.
      try {
        planSignature(row, rows, minBits, stopwords, refill);
        return undefined;
      } catch (err) {
        if (err instanceof InputError) return err.message;
        throw err;
      }
    },
    async draw(ctx) {
      const plan = planSignature(ctx.row, ctx.rows, minBits, stopwords, refill);
      const trigger = drawTrigger(ctx, stopwords, refill);
      const { completion, signature } = fill(plan, drawValues(plan, ctx.rng));
      return { trigger, signature, completion };
    },
    async counterfactuals(ctx, _backdoor, m) {
      const plan = planSignature(ctx.row, ctx.rows, minBits, stopwords, refill);
      return Array.from({ length: m }, () => fill(plan, drawValues(plan, ctx.rng)).signature);
    },
    log10q(ctx) {
      return planSignature(ctx.row, ctx.rows, minBits, stopwords, refill).log10q;
    },
  };
  return generator;
  },
});
