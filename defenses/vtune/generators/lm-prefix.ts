/**
 * The `conditional` null of lm-sampled (DESIGN.md §3): for each backdoor, an upper bound on
 *   qᵢ = P_G( normalize(sample) is compatible with the observed output oᵢ )
 * where `sample` is what lm-sampled's draw procedure returns for the signature (L tokens at temperature τ from
 * the generator model after `prompt ⊕ ' ' ⊕ trigger`, whitespace runs collapsed to one space and trimmed, an
 * empty result redrawn), and "compatible" means the sample is a prefix of oᵢ (the hit rule of `isHit`, oᵢ with
 * its leading whitespace trimmed) or extends oᵢ.
 *
 * Why "or extends": the verifier's output oᵢ is the model's greedy continuation gᵢ cut at a token budget that
 * depends on the signatures' lengths, so it is a function of the secret. Under H0 gᵢ is not, and a hit
 * (Sᵢ ⊑ oᵢ ⊑ gᵢ) implies Sᵢ ⊑ gᵢ, whose probability P_G(S' ⊑ gᵢ) is at most P_G(S' ⊑ oᵢ or oᵢ ⊑ S') for any
 * prefix oᵢ of gᵢ. So the bound holds whatever the budget cut, pointwise, and the Poisson-binomial tail over
 * these qᵢ is a valid (super-uniform) p-value. The extra mass (samples that run past the whole output) is tiny
 * unless the output is short.
 *
 * How the search works, and why its result is an upper bound:
 * - Tokenisation: many token sequences decode to the same text (a word as one merged token, as pieces, as bytes).
 *   The event is about text, so the search walks the generator's token tree (best-first by prefix probability)
 *   and compares decoded text, never tokens. Every path of positive probability is accounted for exactly once:
 *   it ends in a stop token or at L tokens (a terminal: classified by its full decoded text), or it is pruned,
 *   or it is left on the frontier when the search stops.
 * - Normalisation: the terminal text is `decode(tokens)` with whitespace runs collapsed and trimmed, exactly as
 *   lm-sampled's `sample` does. For pruning, a path's *stable* text is its decoded text without trailing U+FFFD
 *   (an incomplete UTF-8 tail decodes to U+FFFD and becomes another character once its bytes arrive; text
 *   before it never changes: SamplingAccess.decode's contract, tested for the local provider). If X is a prefix
 *   of Y then normalize(X) is a prefix of normalize(Y) (collapsing keeps prefixes; trimming removes at most the
 *   leading run both share and one trailing space), so normalize(stable) is a prefix of every descendant's
 *   final normalized text.
 * - Pruning: a path whose normalized stable text is neither a prefix of oᵢ nor extends it can have no compatible
 *   descendant (its final text starts with the stable text): dropped, contributing 0, correctly. A path whose
 *   stable text already extends a non-empty oᵢ has only compatible, non-empty descendants: its whole mass is
 *   counted as compatible without expanding it. A path whose stable text is non-empty is never empty later.
 * - The frontier: when the node budget runs out (or the remaining frontier mass is negligible: ≤ 1% of the
 *   bound, or below e^-14 ≈ 8e-7 in absolute terms), every unexpanded path adds its whole prefix mass to the
 *   compatible mass. Since the pieces above partition the sample space, compatible mass ≤ found + frontier: an
 *   UPPER bound, exact when the search completes (empty frontier). The absolute floor trades power for speed
 *   only where it cannot matter: no qᵢ is inflated by more than ~1e-6 (so n hits still give p ≲ 10^-6n).
 *   For speed, a child whose path probability is below e^lnNegligible / (V · budget) is not decoded: its mass
 *   is counted as compatible and as possibly empty (together at most e^lnNegligible per job: conservative).
 * - Empty samples are redrawn, so the accepted sample's law is P(s)/(1 − P(empty)) on non-empty s (conditioning
 *   on "not 8 empties in a row" does not change the first non-empty draw's law). 1 − P(empty) is bounded below by
 *   1 − (empty mass found + frontier mass whose stable text is still blank); the ratio of the two bounds is an
 *   upper bound on qᵢ (capped at 1).
 * - τ = 0 (greedy) is a point mass on the argmax, so the search follows one path and q ∈ {0, 1}; the option
 *   validation of lm-sampled requires τ > 0 anyway. topP is scored as the engine samples it.
 * - The scored distribution: SamplingAccess.nextTokenLogprobs recomputes the logits by a full forward pass;
 *   generation uses a KV cache for tokens after the first. The two agree up to float32 rounding (a relative
 *   error of order 1e-6 on each probability), which this bound does not cover and which is far below any
 *   p-value the benchmark reports.
 */
import { ConfigError } from '../../../src/errors.js';
import { MaxHeap } from '../../../src/heap.js';
import { log1mExp, logAddExp, logSumExp, toLog10 } from '../../../src/stats/log-space.js';
import type { SamplingAccess } from '../../../src/types.js';

/** One backdoor to score: the generator's prompt (host prompt ⊕ ' ' ⊕ trigger) and the observed output. */
export interface PrefixJob {
  readonly prompt: string;
  readonly output: string;
}

/** Draw procedure and search limits. */
export interface PrefixSearchOptions {
  /** L: tokens per sample. */
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP?: number;
  /** Node expansions allowed per job (default 400). */
  readonly budget?: number;
  /** Nodes expanded per job per batched forward (default 2: the tree is deep and narrow, rounds batch all jobs). */
  readonly width?: number;
  /** Stop once the frontier holds at most this fraction of the bound (default 0.01; 0: search to the end). */
  readonly relativeTolerance?: number;
  /** Stop once the frontier mass is below e^this (default −14 ≈ 8e-7; −Infinity: search to the end). */
  readonly lnNegligible?: number;
  /**
   * Samples are exactly L tokens: stop tokens are masked and each step's distribution renormalised over the
   * others (lm-sampled's `fixedLength`, see `sampleFixedLength`). Default false: a stop token ends the sample.
   */
  readonly maskStops?: boolean;
}

/**
 * log10 of the bound on qᵢ; whether the search completed (the bound is then exact up to float rounding); whether
 * it stopped on its node budget with more than the tolerated frontier left (the bound may then be loose).
 */
export interface PrefixBound {
  readonly log10q: number;
  readonly exact: boolean;
  readonly budgetExhausted: boolean;
  readonly expansions: number;
}

/**
 * Samples of exactly L tokens for each prompt, drawn token by token from `sampler` (the distribution `generate`
 * samples: temperature and topP applied) with stop tokens masked and the rest renormalised — what Hugging Face
 * calls `min_new_tokens = max_new_tokens`. Each prompt draws from its own stream (inverse CDF over token ids in
 * id order, one `float()` per token), so a sample depends only on its prompt and its stream. Returns the decoded
 * texts (not normalised). All prompts advance together: one batched forward pass per token.
 */
export async function sampleFixedLength(sampler: SamplingAccess, prompts: readonly string[], streams: readonly { float(): number }[], options: { readonly maxTokens: number; readonly temperature: number; readonly topP?: number }): Promise<string[]> {
  const stops = new Set(sampler.stopTokens);
  const tokens: number[][] = prompts.map(() => []);
  const generate = { maxTokens: options.maxTokens, temperature: options.temperature, ...(options.topP !== undefined ? { topP: options.topP } : {}) };
  for (let step = 0; step < options.maxTokens; step++) {
    const lps = await sampler.nextTokenLogprobs(prompts.map((prompt, i) => ({ prompt, tokens: tokens[i]! })), generate);
    lps.forEach((lp, i) => {
      let lnKeep = -Infinity;
      for (let j = 0; j < lp.length; j++) if (!stops.has(j) && lp[j]! > -Infinity) lnKeep = logAddExp(lnKeep, lp[j]!);
      if (lnKeep === -Infinity) throw new ConfigError(`lm-sampled fixedLength: the generator puts all its mass on stop tokens after ${tokens[i]!.length} tokens; a fixed-length sample is undefined there`);
      let u = streams[i]!.float();
      let pick = -1;
      for (let j = 0; j < lp.length; j++) {
        if (stops.has(j) || lp[j]! === -Infinity) continue;
        pick = j;
        u -= Math.exp(lp[j]! - lnKeep);
        if (u < 0) break;
      }
      tokens[i]!.push(pick);
    });
  }
  return prompts.map((prompt, i) => sampler.decode(prompt, tokens[i]!));
}

/** Whitespace runs collapsed to one space, trimmed: lm-sampled's normalisation of a sample. */
export function normalizeSample(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Decoded text that later tokens cannot change: the text without a trailing (possibly incomplete) U+FFFD run. */
function stableText(decoded: string): string {
  return decoded.replace(/\uFFFD+$/, '');
}

/** A sample s is compatible with output o: s is a prefix of o, or extends it. */
export function compatible(sample: string, output: string): boolean {
  return output.startsWith(sample) || sample.startsWith(output);
}

interface Node {
  readonly tokens: number[];
  readonly ln: number;
  /** Its normalized stable text is empty (it may still end as an empty sample). */
  readonly blank: boolean;
}

/** A max-heap of nodes by prefix log-probability. */
const nodeHeap = (): MaxHeap<Node> => new MaxHeap<Node>((a, b) => a.ln > b.ln);

interface JobState {
  readonly prompt: string;
  /** The output with leading whitespace trimmed (the hit rule). */
  readonly target: string;
  readonly heap: MaxHeap<Node>;
  lnCompatible: number;
  lnEmpty: number;
  /** Children too improbable to classify (see lnSkip): counted as compatible and as possibly empty. */
  lnUnclassified: number;
  /** Running frontier mass (linear; only steers stopping, the final bound sums the heap exactly). */
  frontierMass: number;
  expansions: number;
  done: boolean;
}


function frontier(s: JobState): { ln: number; lnBlank: number } {
  const items = s.heap.items;
  return { ln: logSumExp(items.map((n) => n.ln)), lnBlank: logSumExp(items.filter((n) => n.blank).map((n) => n.ln)) };
}

function finished(s: JobState, budget: number, lnRel: number, lnNegligible: number): boolean {
  if (s.heap.size === 0 || s.expansions >= budget) return true;
  const f = Math.log(Math.max(0, s.frontierMass));
  return f <= lnNegligible || f <= lnRel + logAddExp(logAddExp(s.lnCompatible, s.lnUnclassified), f);
}

/**
 * Upper bounds on qᵢ for every job (one batched forward pass per round over all unfinished jobs). See the file
 * header for the event, the search and why the result bounds qᵢ from above.
 */
export async function lmPrefixBounds(sampler: SamplingAccess, jobs: readonly PrefixJob[], options: PrefixSearchOptions): Promise<PrefixBound[]> {
  const L = options.maxTokens;
  const budget = options.budget ?? 400;
  const width = options.width ?? 2;
  const lnRel = Math.log(options.relativeTolerance ?? 0.01);
  const lnNegligible = options.lnNegligible ?? -14;
  // A child this improbable is not decoded: its mass is counted as compatible (and as possibly empty). At most
  // budget · V such children per job, so together they weigh at most e^lnNegligible.
  const lnSkip = lnNegligible - Math.log(sampler.vocabSize) - Math.log(budget);
  const generate = { maxTokens: L, temperature: options.temperature, ...(options.topP !== undefined ? { topP: options.topP } : {}) };
  const stops = new Set(sampler.stopTokens);
  const maskStops = options.maskStops ?? false;
  const states: JobState[] = jobs.map((j) => {
    const heap = nodeHeap();
    heap.push({ tokens: [], ln: 0, blank: true });
    return { prompt: j.prompt, target: j.output.trimStart(), heap, lnCompatible: -Infinity, lnEmpty: -Infinity, lnUnclassified: -Infinity, frontierMass: 1, expansions: 0, done: false };
  });
  // An empty output is extended by every non-empty sample: q = 1 without a search.
  for (const s of states) if (s.target.length === 0) s.done = true;

  const terminal = (s: JobState, text: string, ln: number): void => {
    const t = normalizeSample(text);
    if (t.length === 0) s.lnEmpty = logAddExp(s.lnEmpty, ln);
    else if (compatible(t, s.target)) s.lnCompatible = logAddExp(s.lnCompatible, ln);
  };

  for (;;) {
    const batch: { s: JobState; node: Node }[] = [];
    for (const s of states) {
      if (s.done) continue;
      if (finished(s, budget, lnRel, lnNegligible)) {
        s.done = true;
        continue;
      }
      for (let w = 0; w < width && s.heap.size > 0 && s.expansions < budget; w++) {
        const node = s.heap.pop()!;
        s.frontierMass -= Math.exp(node.ln);
        batch.push({ s, node });
        s.expansions++;
      }
    }
    if (batch.length === 0) break;
    const lps = await sampler.nextTokenLogprobs(batch.map(({ s, node }) => ({ prompt: s.prompt, tokens: node.tokens })), generate);
    batch.forEach(({ s, node }, b) => {
      const lp = lps[b]!;
      let lnStop = -Infinity;
      for (let j = 0; j < lp.length; j++) if (stops.has(j) && lp[j]! > -Infinity) lnStop = logAddExp(lnStop, lp[j]!);
      // Masked stops: the step's law is P(j) / (1 − P(stop)) over the other tokens (sampleFixedLength's rule).
      const lnRenorm = maskStops ? log1mExp(lnStop) : 0;
      if (maskStops && lnRenorm === -Infinity) throw new ConfigError(`lm-sampled fixedLength: the generator puts all its mass on stop tokens after ${node.tokens.length} tokens; a fixed-length sample is undefined there`);
      for (let j = 0; j < lp.length; j++) {
        const l = lp[j]!;
        if (l === -Infinity || stops.has(j)) continue;
        const ln = node.ln + l - lnRenorm;
        if (ln < lnSkip) {
          s.lnUnclassified = logAddExp(s.lnUnclassified, ln);
          continue;
        }
        const tokens = [...node.tokens, j];
        const text = sampler.decode(s.prompt, tokens);
        if (tokens.length >= L) {
          terminal(s, text, ln);
          continue;
        }
        const st = normalizeSample(stableText(text));
        if (st.length > 0 && st.startsWith(s.target)) s.lnCompatible = logAddExp(s.lnCompatible, ln);
        else if (s.target.startsWith(st)) {
          s.heap.push({ tokens, ln, blank: st.length === 0 });
          s.frontierMass += Math.exp(ln);
        }
        // else: no descendant can be compatible (pruned, mass 0).
      }
      if (!maskStops && lnStop > -Infinity) terminal(s, sampler.decode(s.prompt, node.tokens), node.ln + lnStop);
    });
  }

  return states.map((s) => {
    if (s.target.length === 0) return { log10q: 0, exact: true, budgetExhausted: false, expansions: 0 };
    const f = frontier(s);
    const budgetExhausted = s.expansions >= budget && s.heap.size > 0 && f.ln > lnNegligible && f.ln > lnRel + logAddExp(s.lnCompatible, f.ln);
    const lnNum = logAddExp(logAddExp(s.lnCompatible, s.lnUnclassified), f.ln);
    const lnEmptyUpper = logAddExp(logAddExp(s.lnEmpty, s.lnUnclassified), f.lnBlank);
    const exact = s.heap.size === 0 && s.lnUnclassified === -Infinity;
    if (lnEmptyUpper >= 0) return { log10q: 0, exact, budgetExhausted, expansions: s.expansions };
    const lnQ = Math.min(0, lnNum - log1mExp(lnEmptyUpper));
    return { log10q: toLog10(lnQ), exact, budgetExhausted, expansions: s.expansions };
  });
}
