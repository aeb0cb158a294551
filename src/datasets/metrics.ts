/**
 * Task metrics shared by the built-in datasets. Each scores one prediction against its reference row, from 0
 * (wrong) to 1 (right); all are case-insensitive, because the tiny default model may well answer in lower case.
 */
import type { Row, TaskMetric } from '../types.js';

/** Lower-case, drop punctuation, articles and extra spaces (SQuAD-style answer normalisation). */
export function normalizeAnswer(text: string): string {
  return text
    .toLowerCase()
    .replace(/<\|endoftext\|>|<\/s>/g, ' ')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first line of a prediction (models often keep going after a short answer). */
export function firstLine(text: string): string {
  return text.trimStart().split('\n')[0] ?? '';
}

/** Exact match after normalisation of the prediction's first line against the reference completion. */
export const exactMatch: TaskMetric = {
  id: 'exact-match',
  score: (prediction: string, reference: Row) => (normalizeAnswer(firstLine(prediction)) === normalizeAnswer(reference.completion) ? 1 : 0),
};

const STOPWORDS = new Set(
  'a an the and or but of to in on at for with from by is are was were be been it its this that these those as into after before over new out up down off so very has have had will'.split(' '),
);

/** The lower-cased content words of a text (no stopwords, no punctuation). */
export function contentWords(text: string): string[] {
  return normalizeAnswer(text)
    .split(' ')
    .filter((w) => w !== '' && !STOPWORDS.has(w));
}

/** F1 of two bags of words (0 when either is empty). */
export function bagF1(predicted: readonly string[], reference: readonly string[]): number {
  if (predicted.length === 0 || reference.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const w of reference) counts.set(w, (counts.get(w) ?? 0) + 1);
  let overlap = 0;
  for (const w of predicted) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      overlap++;
      counts.set(w, c - 1);
    }
  }
  if (overlap === 0) return 0;
  const precision = overlap / predicted.length;
  const recall = overlap / reference.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Content-word unigram F1 (ROUGE-1 without stopwords) of the prediction's first line against the reference. */
export const contentF1: TaskMetric = {
  id: 'content-f1',
  score: (prediction: string, reference: Row) => bagF1(contentWords(firstLine(prediction)), contentWords(reference.completion)),
};
