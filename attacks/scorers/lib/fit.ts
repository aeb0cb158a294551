/**
 * Cutting texts to a model's context for scorers (issue 15): counted in the model's own tokens when the model
 * declares its context and can count tokens, else in characters. A prompt keeps its end, a completion its start.
 */
import type { Model } from '../../../src/types.js';

/** How much text one scored item may hold, and how it is counted. */
export interface TextBudget {
  /** Units a scored text may use after the model's BOS (context − 1 tokens, or a character cap). */
  readonly afterBos: number;
  readonly unit: 'tokens' | 'characters';
  /** Units of a text. */
  count(text: string): number;
  /** A character cap applied on top of the unit budget (an explicit maxChars option). */
  readonly maxChars?: number;
}

/**
 * The budget for `model`: its context in tokens when it declares one and counts tokens (capped at
 * `explicitMaxChars` characters when given), else `defaultMaxChars` characters.
 */
export function textBudget(model: Pick<Model, 'contextLength' | 'countTokens'>, explicitMaxChars: number | undefined, defaultMaxChars: number): TextBudget {
  const ctx = model.contextLength;
  if (ctx !== undefined && ctx >= 2 && model.countTokens) {
    const count = (t: string): number => (t.length === 0 ? 0 : model.countTokens!(t));
    return { afterBos: ctx - 1, unit: 'tokens', count, ...(explicitMaxChars !== undefined ? { maxChars: explicitMaxChars } : {}) };
  }
  const cap = explicitMaxChars ?? defaultMaxChars;
  return { afterBos: cap, unit: 'characters', count: (t) => t.length };
}

/** Moves a cut off the middle of a surrogate pair (towards the kept side's outside). */
const lowSurrogate = (text: string, at: number): boolean => at > 0 && at < text.length && /[\uDC00-\uDFFF]/.test(text[at]!);

/** The longest start of `text` that counts at most `n` units (and at most budget.maxChars characters). */
export function headWithin(text: string, n: number, budget: TextBudget): string {
  if (n <= 0) return '';
  const capped = budget.maxChars !== undefined && text.length > budget.maxChars ? text.slice(0, budget.maxChars) : text;
  if (budget.count(capped) <= n) return capped;
  // Longest prefix length with count ≤ n; token counts grow with the prefix, so a binary search finds it.
  let lo = 0;
  let hi = capped.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (budget.count(capped.slice(0, mid)) <= n) lo = mid;
    else hi = mid - 1;
  }
  // Tokenizers are only nearly monotone: step back until the count really fits.
  while (lo > 0 && (lowSurrogate(capped, lo) || budget.count(capped.slice(0, lo)) > n)) lo--;
  return capped.slice(0, lo);
}

/** The longest end of `text` that counts at most `n` units (and at most budget.maxChars characters). */
export function tailWithin(text: string, n: number, budget: TextBudget): string {
  if (n <= 0) return '';
  const capped = budget.maxChars !== undefined && text.length > budget.maxChars ? text.slice(-budget.maxChars) : text;
  if (budget.count(capped) <= n) return capped;
  let lo = 0;
  let hi = capped.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (budget.count(capped.slice(capped.length - mid)) <= n) lo = mid;
    else hi = mid - 1;
  }
  while (lo > 0 && (lowSurrogate(capped, capped.length - lo) || budget.count(capped.slice(capped.length - lo)) > n)) lo--;
  return capped.slice(capped.length - lo);
}
