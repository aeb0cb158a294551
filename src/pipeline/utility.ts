/**
 * Utility of the model a provider returns (DESIGN.md §2): held-out loss in nats/token (teacher forcing via
 * Model.score; lower is better) and the dataset's task metric on greedy generations (higher is better).
 * Deliberately small: it spends generations, so it looks at ≤ maxRows held-out rows (default 20).
 */
import type { Model, Row, TaskMetric } from '../types.js';

/** Options of the utility stage. */
export interface UtilityOptions {
  /** Held-out rows to use (the first ones: the same rows in every cell of a seed). Default 20. */
  readonly maxRows?: number;
  /** Also compute the task metric (costs one generation per row). Default true. */
  readonly task?: boolean;
  /** Extra tokens allowed beyond the reference answer's length. Default 8. */
  readonly slackTokens?: number;
}

/** Utility figures of one model. */
export interface UtilityResult {
  /** Σ −ln P(completion | prompt) ÷ Σ completion tokens; lower is better. Absent without log-probs. */
  readonly heldOutLossNatsPerToken?: number;
  /** Mean task metric in [0, 1]; higher is better. Absent without a metric. */
  readonly taskMetric?: number;
  readonly rows: number;
}

/** Measures utility on the first `maxRows` held-out rows. */
export async function measureUtility(model: Model, heldOut: readonly Row[], metric: TaskMetric | undefined, options: UtilityOptions = {}): Promise<UtilityResult> {
  const maxRows = options.maxRows ?? 20;
  if (!(Number.isInteger(maxRows) && maxRows >= 0)) throw new RangeError(`utility option 'maxRows': expected a non-negative integer, got ${maxRows}`);
  const rows = heldOut.slice(0, maxRows);
  if (rows.length === 0) return { rows: 0 };
  let heldOutLossNatsPerToken: number | undefined;
  if (model.score && model.capabilities.has('logprobs')) {
    const scored = await model.score(rows.map((r) => ({ prompt: r.prompt, continuation: r.completion })));
    const tokens = scored.reduce((s, x) => s + x.tokenLogprobs.length, 0);
    if (tokens > 0) heldOutLossNatsPerToken = -scored.reduce((s, x) => s + x.logprob, 0) / tokens;
  }
  let taskMetric: number | undefined;
  if (metric && options.task !== false) {
    const slack = options.slackTokens ?? 8;
    const longest = Math.max(...rows.map((r) => model.countTokens?.(r.completion) ?? Math.ceil(r.completion.length / 3)));
    const outputs = await model.generate(rows.map((r) => r.prompt), { maxTokens: longest + slack, temperature: 0 });
    taskMetric = outputs.reduce((s, out, i) => s + metric.score(out, rows[i]!), 0) / rows.length;
  }
  return {
    rows: rows.length,
    ...(heldOutLossNatsPerToken !== undefined ? { heldOutLossNatsPerToken } : {}),
    ...(taskMetric !== undefined ? { taskMetric } : {}),
  };
}
