/**
 * Trains a SentencePiece-style BPE tokenizer on a corpus, in the exact format of llama GGUF tokenizers (and of
 * stories260K's): `<unk>`, `<s>`, `</s>`, the 256 byte-fallback tokens `<0x00>`..`<0xFF>`, then the merged
 * pieces in merge order (score −rank, so `SpmTokenizer`'s greedy highest-score merge replays the learned
 * order), then the single characters (lowest scores).
 *
 * Text is split into words before each `▁` (space), as SentencePiece does, so no piece spans two words. Rare
 * characters (beyond `characterCoverage` of all character occurrences) are left to byte fallback and never
 * merged. Ties are broken by symbol ids, which are assigned in a fixed order: the same corpus and options
 * always give the same tokenizer.
 *
 * Source: Sennrich et al. 2016 (BPE for subwords); Kudo & Richardson 2018 (SentencePiece: `▁`, dummy prefix,
 * character coverage, byte fallback).
 */
import { ConfigError } from '../errors.js';
import { TOKEN_TYPE, type TokenizerData } from './tokenizer.js';

/** Options of `trainBpe`. */
export interface BpeTrainOptions {
  /** Total vocabulary size, including the 3 special and 256 byte tokens (≥ 260). */
  readonly vocabSize: number;
  /** Share of character occurrences covered by character tokens (default 0.9995); the rest use bytes. */
  readonly characterCoverage?: number;
  /** Longest piece, in characters (default 16). */
  readonly maxPieceLength?: number;
  /** A pair must occur at least this often to be merged (default 2). */
  readonly minPairCount?: number;
}

const SPACE = '\u2581';
const SPECIALS = 3 + 256;

/**
 * Learns a tokenizer from `corpus`. Stops early, with a smaller vocabulary, when no pair occurs
 * `minPairCount` times any more.
 */
export function trainBpe(corpus: readonly string[], options: BpeTrainOptions): TokenizerData {
  const { vocabSize } = options;
  const coverage = options.characterCoverage ?? 0.9995;
  const maxLen = options.maxPieceLength ?? 16;
  const minCount = options.minPairCount ?? 2;
  if (!Number.isInteger(vocabSize) || vocabSize < SPECIALS + 1 || vocabSize > 1 << 20) {
    throw new ConfigError(`trainBpe: vocabSize must be an integer from ${SPECIALS + 1} to ${1 << 20}, got ${vocabSize}`);
  }
  if (!(coverage > 0 && coverage <= 1)) throw new ConfigError(`trainBpe: characterCoverage must be in (0, 1], got ${coverage}`);
  if (!Number.isInteger(maxLen) || maxLen < 2) throw new ConfigError(`trainBpe: maxPieceLength must be an integer ≥ 2, got ${maxLen}`);
  if (!Number.isInteger(minCount) || minCount < 1) throw new ConfigError(`trainBpe: minPairCount must be an integer ≥ 1, got ${minCount}`);

  // words (split before each ▁) and their frequencies
  const wordFreq = new Map<string, number>();
  for (const text of corpus) {
    if (typeof text !== 'string') throw new ConfigError('trainBpe: the corpus must be an array of strings');
    if (text.length === 0) continue;
    const escaped = SPACE + text.replaceAll(' ', SPACE);
    for (const w of escaped.split(/(?=\u2581)/u)) wordFreq.set(w, (wordFreq.get(w) ?? 0) + 1);
  }
  const words = [...wordFreq.keys()].sort(); // fixed order, independent of corpus order
  const freqs = words.map((w) => wordFreq.get(w)!);

  // characters by frequency (then code point); keep those within the coverage budget
  const charCount = new Map<string, number>();
  let totalChars = 0;
  words.forEach((w, i) => {
    for (const ch of w) {
      charCount.set(ch, (charCount.get(ch) ?? 0) + freqs[i]!);
      totalChars += freqs[i]!;
    }
  });
  const chars = [...charCount.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const symbols: string[] = []; // symbol id → text
  const symbolId = new Map<string, number>();
  let covered = 0;
  for (const [ch, n] of chars) {
    if (symbols.length >= vocabSize - SPECIALS) break;
    if (covered / totalChars >= coverage && ch !== SPACE) continue;
    symbolId.set(ch, symbols.length);
    symbols.push(ch);
    covered += n;
  }
  const nChars = symbols.length;

  // each word as symbol ids; -1 marks a byte-fallback character, which never merges
  const seqs: number[][] = words.map((w) => Array.from(w, (ch) => symbolId.get(ch) ?? -1));
  const K = 1 << 21;
  const key = (a: number, b: number): number => a * K + b;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const heap = new CountHeap();
  const addPairs = (wi: number, sign: 1 | -1, touched: Set<number>): void => {
    const s = seqs[wi]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const a = s[i]!;
      const b = s[i + 1]!;
      if (a < 0 || b < 0) continue;
      const k = key(a, b);
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freqs[wi]!);
      if (sign > 0) {
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(wi);
      }
      touched.add(k);
    }
  };
  const initial = new Set<number>();
  for (let wi = 0; wi < seqs.length; wi++) addPairs(wi, 1, initial);
  for (const k of initial) heap.push(pairCount.get(k)!, k);

  const merges: number[] = []; // symbol ids created by merges, in order
  const banned = new Set<number>(); // pairs whose merge would exceed maxPieceLength
  let vocab = SPECIALS + nChars;
  while (vocab < vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const current = pairCount.get(top.key) ?? 0;
    if (current !== top.count) continue; // stale
    if (current < minCount) break;
    const a = Math.floor(top.key / K);
    const b = top.key % K;
    const text = symbols[a]! + symbols[b]!;
    if (banned.has(top.key)) continue;
    if (Array.from(text).length > maxLen) {
      banned.add(top.key);
      continue;
    }
    let id = symbolId.get(text);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(text);
      symbolId.set(text, id);
      merges.push(id);
      vocab++;
    }
    const touched = new Set<number>();
    for (const wi of pairWords.get(top.key) ?? []) {
      const s = seqs[wi]!;
      if (!containsPair(s, a, b)) continue;
      addPairs(wi, -1, touched);
      const merged: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          merged.push(id);
          i++;
        } else merged.push(s[i]!);
      }
      seqs[wi] = merged;
      addPairs(wi, 1, touched);
    }
    pairWords.delete(top.key);
    for (const k of touched) {
      const n = pairCount.get(k)!;
      if (n > 0 && k !== top.key) heap.push(n, k);
    }
  }

  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.BYTE);
  }
  const scores: number[] = new Array<number>(SPECIALS).fill(0);
  merges.forEach((id, rank) => {
    tokens.push(symbols[id]!);
    types.push(TOKEN_TYPE.NORMAL);
    scores.push(-rank);
  });
  for (let c = 0; c < nChars; c++) {
    tokens.push(symbols[c]!);
    types.push(TOKEN_TYPE.NORMAL);
    scores.push(-(merges.length + c));
  }
  return { tokens, scores, types, bos: 1, eos: 2, unk: 0, addSpacePrefix: true };
}

function containsPair(s: readonly number[], a: number, b: number): boolean {
  for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) return true;
  return false;
}

/** Max-heap of (count, pair key); ties go to the smaller key, i.e. the earlier-numbered symbols. */
class CountHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];
  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { count: number; key: number } | undefined {
    const n = this.counts.length;
    if (n === 0) return undefined;
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    this.swap(0, n - 1);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.counts.length && this.before(l, m)) m = l;
      if (r < this.counts.length && this.before(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}
