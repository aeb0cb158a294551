/**
 * reorder — a stealthy backdoor for data whose answers the prompt determines (issue 15: worked arithmetic such
 * as GSM8K, where any refilled number contradicts the question). Like `in-place`, the backdoor is its host row
 * rewritten in place, the prompt kept byte for byte as the query (no trigger). The answer keeps every number,
 * word and result; what changes is the one thing a worked answer leaves free: the order in which it writes the
 * operands of its commutative steps. Each arithmetic chain of the answer that is all additions (`48+24`), all
 * multiplications (`12 x 2`, `3*4*5`) or a minuend followed by subtractions (`100 - 50 - 30 - 15`, whose
 * subtrahends may come in any order) takes one of the distinct orders of its operands, uniformly; every occurrence
 * of the same chain (the text's `12 x 2` and the annotation's `<<12*2=24>>`) takes the same order. Every step
 * still computes what it computed before, so a calculator over the `<<…>>` working, the `#### N` line, a
 * format profile and a checker of the task's semantics all see a correct row of the data's own shape.
 *
 * A chain is a maximal run `number (op number)+` whose neighbours are not operators or brackets (so `4+2*3`,
 * `(5+3)*2` and `20% * 50` are never touched: reordering there would change the value); numbers may carry `$`,
 * thousands commas and decimals; `x` counts as multiplication only between spaces.
 *
 * The `generator` bound is exact: the signature is the answer's prefix up to the end of the first occurrence of
 * the chain where the entropy reaches `minBits`; each chain j in it takes one of its |Pⱼ| distinct operand orders
 * (orders of equal values are one order), independently and uniformly, so every signature has probability
 * Π|Pⱼ|⁻¹. A reorder keeps each chain's length (the operand strings move, the operators stay), so all
 * signatures of a backdoor have the same length and differ (each chain's first occurrence lies in the
 * signature): at most one is a prefix of any output, and qᵢ = Π|Pⱼ|⁻¹ for any model independent of the secret —
 * one that knows the data, the host and its original order included (the original order is one point of each
 * Pⱼ). Which row hosts, which chains form the signature and their order sets depend only on the data, never on
 * the draws. Checked by enumeration and by a validity test that varies the secret
 * (test/defenses/vtune/generators/reorder.test.ts); Type-I measured by `vtune-bench calibrate` (README).
 *
 * Why not refill the prompt's numbers and recompute the working (the first idea for math): the query would then
 * be the refilled question, and the recomputed answer is a function of it — a model that does arithmetic in the
 * data's style, never having seen the secret, would hit, so no bound below 1 holds for the `generator` null.
 * Entropy that survives a correct answer must be in what the question leaves open: here, the operand order.
 *
 * Source: vTune's in-distribution backdoors (Zhang et al. 2024, arXiv 2411.06611, §design space) and the
 * semantics-preserving transformations of text watermarking (equivalent rewrites that carry key bits, e.g.
 * Topkara et al. 2006, "The hiding virtues of ambiguity", and synonym/structure substitution watermarks). Deviations:
 * (1) no trigger: the host prompt is the query, sound only because the host row is replaced (`modify`); (2) the
 * bits are few per row (one per two-operand sum or product, log2 n! for longer chains), so only answers with
 * several commutative steps can host (`minBits`, default 8: GSM8K's longer answers; the built-in `math` answers
 * hold at most 2 bits and cannot host, plant then refuses naming the rows); (3) a writer usually follows the
 * question's order, so a reordered step is slightly less typical than the original — a model of the data's
 * style may notice (the stealth table measures the suite's scorers); (4) only commutative reorders are used, no
 * regrouping (`(a+b)+c`) or step reordering.
 */
import { InputError } from '../../../src/errors.js';
import type { Rng } from '../../../src/rng.js';
import type { Row } from '../../../src/types.js';
import { defineGenerator, z } from '../../../src/plugins/define.js';
import { lengthBand } from './in-place.js';
import type { BackdoorGenerator } from './types.js';

const ID = 'reorder';

const NUM = String.raw`\$?[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?`;
const OP = String.raw`\s*[-+*/×÷]\s*|\s+x\s+`;
const CHAIN = new RegExp(`(?<![0-9.,$])${NUM}(?:(?:${OP})${NUM})+`, 'g');
const OPERAND = new RegExp(NUM, 'g');
/** Longest run of movable operands reordered (6! = 720 orders); longer chains stay as they are. */
const MAX_MOVABLE = 6;

/** One occurrence of a reorderable chain in a text. */
export interface Occurrence {
  readonly start: number;
  readonly end: number;
  /** The chain's class and operand values ("add:48|24"): occurrences with one key take one order. */
  readonly key: string;
  /** Operand strings as written ("$12"), and the operator strings between them (with their spaces). */
  readonly operands: readonly string[];
  readonly ops: readonly string[];
  /** Positions whose operands move (all, or all but the minuend of a subtraction chain). */
  readonly movable: readonly number[];
}

/** An operand's value, normalised ("$2.50" and "2.5" are one value: the text's step and its annotation share a key). */
const value = (operand: string) => String(Number(operand.replace(/[$,]/g, '')));

/** The reorderable chains of `text`, in order. */
export function chains(text: string): Occurrence[] {
  const out: Occurrence[] = [];
  for (const m of text.matchAll(CHAIN)) {
    const start = m.index;
    const end = start + m[0].length;
    // A neighbouring operator, bracket or percent sign makes the chain part of a larger expression.
    if (/[-+*/×÷^(%)]\s*$/.test(text.slice(0, start)) || /(^|\s)x\s+$/.test(text.slice(Math.max(0, start - 3), start))) continue;
    if (/^\s*[-+*/×÷^)(%]/.test(text.slice(end)) || /^\s+x\s/.test(text.slice(end)) || /^[0-9]/.test(text.slice(end))) continue;
    const operands = m[0].match(OPERAND)!;
    const ops: string[] = [];
    let at = 0;
    for (const o of operands) {
      const i = m[0].indexOf(o, at);
      if (i > at) ops.push(m[0].slice(at, i));
      at = i + o.length;
    }
    const glyphs = ops.map((o) => o.trim());
    let kind: string;
    let movable: number[];
    if (glyphs.every((g) => g === '+')) [kind, movable] = ['add', operands.map((_, i) => i)];
    else if (glyphs.every((g) => g === '*' || g === 'x' || g === '×')) [kind, movable] = ['mul', operands.map((_, i) => i)];
    else if (glyphs.every((g) => g === '-') && operands.length >= 3) [kind, movable] = ['sub', operands.slice(1).map((_, i) => i + 1)];
    else continue;
    if (movable.length > MAX_MOVABLE) continue;
    out.push({ start, end, key: `${kind}:${operands.map(value).join('|')}`, operands, ops, movable });
  }
  return out;
}

/** The distinct orders of `values` (as value sequences), sorted: a fixed, known order. */
function distinctOrders(values: readonly string[]): string[][] {
  const seen = new Map<string, string[]>();
  const walk = (prefix: string[], rest: string[]) => {
    if (rest.length === 0) return void seen.set(prefix.join('\u0000'), prefix);
    const used = new Set<string>();
    rest.forEach((v, i) => {
      if (used.has(v)) return;
      used.add(v);
      walk([...prefix, v], [...rest.slice(0, i), ...rest.slice(i + 1)]);
    });
  };
  walk([], [...values]);
  return [...seen.keys()].sort().map((k) => seen.get(k)!);
}

/** One slot: a distinct chain (by key), its distinct orders of the movable values, and its first occurrence. */
interface Slot {
  readonly key: string;
  readonly orders: readonly (readonly string[])[];
  readonly first: number;
}

/** How a host answer becomes a backdoor. */
export interface ReorderPlan {
  readonly text: string;
  readonly occurrences: readonly Occurrence[];
  /** Slots in order of first occurrence; the first `inSignature` of them are reordered and lie in the signature. */
  readonly slots: readonly Slot[];
  readonly inSignature: number;
  /** The signature is text[lead, end): up to the end of the last signature slot's first occurrence. */
  readonly lead: number;
  readonly end: number;
  /** −Σ log10 |Pⱼ| over the signature's slots: the exact generator bound. */
  readonly log10q: number;
}

/** The reorder plan of a host row, or why it cannot host (a message). Deterministic in (row, rows, options). */
export function reorderPlan(row: Row, rows: readonly Row[], minBits: number, typical: number): ReorderPlan | string {
  const text = row.completion;
  const occurrences = chains(text);
  const slots: Slot[] = [];
  const byKey = new Set<string>();
  occurrences.forEach((o, i) => {
    if (byKey.has(o.key)) return;
    byKey.add(o.key);
    const orders = distinctOrders(o.movable.map((p) => value(o.operands[p]!)));
    if (orders.length >= 2) slots.push({ key: o.key, orders, first: i });
  });
  let bits = 0;
  let inSignature = 0;
  while (inSignature < slots.length && bits < minBits - 1e-9) bits += Math.log2(slots[inSignature++]!.orders.length);
  if (bits < minBits - 1e-9) return `generator '${ID}': the host answer holds ${bits.toFixed(1)} bits of operand order (${slots.length} reorderable chain${slots.length === 1 ? '' : 's'}), less than ${minBits}`;
  const [lo, hi] = lengthBand(rows, typical);
  if (text.length < lo || text.length > hi) return `generator '${ID}': the host answer's length (${text.length} characters) is outside the data's typical ${lo}–${hi}`;
  const signatureSlots = slots.slice(0, inSignature);
  return {
    text,
    occurrences,
    slots,
    inSignature,
    lead: /^\s*/.exec(text)![0].length,
    end: occurrences[signatureSlots[signatureSlots.length - 1]!.first]!.end,
    log10q: -signatureSlots.reduce((s, x) => s + Math.log10(x.orders.length), 0),
  };
}

/** The occurrence rewritten to the value order `order` of its movable positions (equal values keep their order). */
function reorderOccurrence(o: Occurrence, order: readonly string[]): string {
  const operands = [...o.operands];
  const free = [...o.movable];
  o.movable.forEach((p, i) => {
    const from = free.findIndex((q) => value(o.operands[q]!) === order[i]);
    operands[p] = o.operands[free[from]!]!;
    free.splice(from, 1);
  });
  return operands.map((x, i) => (i === 0 ? x : o.ops[i - 1]! + x)).join('');
}

/** The completion and signature for order indices `choice[j]` of the signature's slots. */
export function fillOrders(plan: ReorderPlan, choice: readonly number[]): { completion: string; signature: string } {
  const orderOf = new Map(plan.slots.slice(0, plan.inSignature).map((s, j) => [s.key, s.orders[choice[j]!]!]));
  let completion = '';
  let at = 0;
  for (const o of plan.occurrences) {
    const order = orderOf.get(o.key);
    if (!order) continue;
    completion += plan.text.slice(at, o.start) + reorderOccurrence(o, order);
    at = o.end;
  }
  completion += plan.text.slice(at);
  // Every reorder keeps each chain's length, so the signature's end is where it was in the host answer.
  return { completion, signature: completion.slice(plan.lead, plan.end) };
}

const draw = (plan: ReorderPlan, rng: Rng) => plan.slots.slice(0, plan.inSignature).map((s) => rng.int(s.orders.length));

/** Creates the reorder generator. Options: minBits (8), typical (0.8). */
export const reorder = defineGenerator({
  id: ID,
  description: "backdoors that are their host row with the operands of its commutative arithmetic steps reordered (every step still correct; prompt unchanged, no trigger; needs insertion 'modify')",
  citation: 'vTune (arXiv 2411.06611) design space; semantics-preserving rewrites of text watermarking (Topkara et al. 2006)',
  meta: { nullModes: ['generator', 'base-model', 'empirical'] },
  options: z.object({
    minBits: z.int().min(1).max(1024).default(8).describe('entropy (bits) of operand order the signature reaches before it ends'),
    typical: z.number().gt(0).lte(1).default(0.8).describe("central share of the data's answer lengths a host answer must lie in"),
  }),
  create: ({ minBits, typical }): BackdoorGenerator => {
    const plan = (row: Row, rows: readonly Row[]): ReorderPlan => {
      const p = reorderPlan(row, rows, minBits, typical);
      if (typeof p === 'string') throw new InputError(p);
      return p;
    };
    return {
      id: ID,
      nullModes: ['generator', 'base-model', 'empirical'],
      options: { minBits, typical },
      counterfactualSource: 'stored',
      insertion: 'modify',
      cannotHost(row, rows) {
        const p = reorderPlan(row, rows, minBits, typical);
        return typeof p === 'string' ? p : undefined;
      },
      async draw(ctx) {
        const p = plan(ctx.row, ctx.rows);
        const { completion, signature } = fillOrders(p, draw(p, ctx.rng));
        return { trigger: '', signature, completion };
      },
      async counterfactuals(ctx, _backdoor, m) {
        const p = plan(ctx.row, ctx.rows);
        return Array.from({ length: m }, () => fillOrders(p, draw(p, ctx.rng)).signature);
      },
      log10q(ctx) {
        return plan(ctx.row, ctx.rows).log10q;
      },
    };
  },
});
