/**
 * Text helpers for row scorers: words with character offsets, and a mapping from a model's per-token scores back
 * to character ranges (the Model contract gives per-token log-probs but not token offsets).
 */
import type { Model } from '../../../src/types.js';

/** A whitespace-delimited word and its [start, end) character offsets. */
export interface Word {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** The whitespace-delimited words of a text with their offsets. */
export function words(text: string): Word[] {
  const out: Word[] = [];
  for (const m of text.matchAll(/\S+/g)) out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return out;
}

/** Normalised words for counting (lowercase, surrounding punctuation trimmed; empty words dropped). */
export function normWord(w: string): string {
  return w.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '') || w.toLowerCase();
}

/**
 * Estimated character start offset of each of `tokenCount` tokens of `text`. With `countTokens` the token counts
 * of word prefixes place word boundaries exactly (up to merges across spaces); otherwise tokens are spread
 * over the characters in proportion. Returns `tokenCount + 1` offsets (the last is text.length).
 */
export function tokenOffsets(text: string, tokenCount: number, model?: Pick<Model, 'countTokens'>): number[] {
  const offsets = new Array<number>(tokenCount + 1);
  offsets[tokenCount] = text.length;
  const ws = words(text);
  const count = model?.countTokens;
  if (count && ws.length > 0) {
    const ends = ws.map((w) => count.call(model, text.slice(0, w.end)));
    const total = ends[ends.length - 1]!;
    if (total > 0) {
      const scale = tokenCount / total;
      let w = 0;
      for (let t = 0; t < tokenCount; t++) {
        while (w < ws.length - 1 && ends[w]! * scale <= t) w++;
        const before = w === 0 ? 0 : ends[w - 1]! * scale;
        const after = ends[w]! * scale;
        const frac = after > before ? (t - before) / (after - before) : 0;
        const word = ws[w]!;
        const from = w === 0 ? 0 : ws[w - 1]!.end;
        offsets[t] = Math.min(word.end, Math.max(from, Math.round(from + Math.max(0, frac) * (word.end - from))));
      }
      for (let t = 1; t < tokenCount; t++) offsets[t] = Math.max(offsets[t]!, offsets[t - 1]!);
      return offsets;
    }
  }
  for (let t = 0; t < tokenCount; t++) offsets[t] = Math.floor((t * text.length) / Math.max(1, tokenCount));
  return offsets;
}

/** Widens [start, end) to whole words of `text` and trims surrounding whitespace. */
export function snapToWords(text: string, start: number, end: number): { start: number; end: number } {
  let s = Math.max(0, Math.min(start, text.length));
  let e = Math.max(s, Math.min(end, text.length));
  while (s < e && /\s/.test(text[s]!)) s++;
  while (e > s && /\s/.test(text[e - 1]!)) e--;
  if (s === e) return { start: s, end: s };
  while (s > 0 && !/\s/.test(text[s - 1]!)) s--;
  while (e < text.length && !/\s/.test(text[e]!)) e++;
  return { start: s, end: e };
}

/** Merges overlapping or touching [start, end) ranges (gap ≤ `gap` characters). */
export function mergeRanges<R extends { start: number; end: number }>(ranges: readonly R[], gap = 1): { start: number; end: number }[] {
  const sorted = ranges.map((r) => ({ start: r.start, end: r.end })).sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + gap) last.end = Math.max(last.end, r.end);
    else out.push(r);
  }
  return out;
}
